"""The random tests that need no MCMC, rerun over many seeds: how far each assertion's
tolerance is from what the random numbers produce. The tests use one seed each; this asks
whether they would pass at any seed.

    .venv/bin/python experiments/mcmc_checks/fast_seed_sweep.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import xarray as xr
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from forecast.projection.evaluate import crps_ensemble, score  # noqa: E402
from forecast.demography.subnational import scale_factor_paths  # noqa: E402


def crps_closed_form(seeds=range(2000)):
    """tests/projection/test_evaluate.py: |CRPS of 4000 N(0,1) draws at y = 0.7 - closed form| < 0.02."""
    y = 0.7
    closed = y * (2 * norm.cdf(y) - 1) + 2 * norm.pdf(y) - 1 / np.sqrt(np.pi)
    err = np.array([crps_ensemble(np.random.default_rng(s).normal(0.0, 1.0, 4000), y) - closed
                    for s in seeds])
    print(f"CRPS vs closed form, {len(err)} seeds: sd {err.std():.4f}, max |err| "
          f"{np.abs(err).max():.4f}, share > 0.02: {(np.abs(err) > 0.02).mean():.4f} "
          f"(tolerance = {0.02 / err.std():.1f} sd; test's seed 0: {err[0]:+.4f})")
    return err


def coverage(seeds=range(300)):
    """tests/projection/test_evaluate.py: coverage of 3000 outcomes, 400 draws each, within 0.03 / 0.02."""
    d80, d95 = [], []
    for s in seeds:
        rng = np.random.default_rng(s)
        sc = score(rng.normal(size=(3000, 400)), rng.normal(size=3000))
        d80.append(sc["in_80"].mean() - 0.80)
        d95.append(sc["in_95"].mean() - 0.95)
    d80, d95 = np.array(d80), np.array(d95)
    for name, d, tol in (("80 %", d80, 0.03), ("95 %", d95, 0.02)):
        print(f"coverage {name}, {len(d)} seeds: mean {d.mean():+.4f}, sd {d.std():.4f}, max |dev| "
              f"{np.abs(d).max():.4f}, tolerance {tol} = {(tol - abs(d.mean())) / d.std():.1f} sd "
              f"from the mean; fails: {(np.abs(d) >= tol).sum()}")


def scale_factor_spread(seeds=range(300)):
    """tests/models/test_fertility.py: spread of 4000 Scale-AR(1) paths after 20 years within 10 %."""
    start = xr.DataArray([1.0, 1.4, 0.6], dims="region", coords={"region": ["N", "a", "b"]})
    years = np.arange(2020, 2041)
    expected = 0.02086 * np.sqrt((1 - 0.98445 ** 40) / (1 - 0.98445 ** 2))
    rel = np.array([float(scale_factor_paths(start, 2020, years, 4000, np.random.default_rng(s),
                                             fixed=["N"]).sel(region="b", year=2040).std())
                    / expected - 1 for s in seeds])
    print(f"scale-factor spread, {len(rel)} seeds: relative error sd {rel.std():.4f}, max "
          f"|err| {np.abs(rel).max():.4f}; tolerance 0.1 = {0.1 / rel.std():.1f} sd")


if __name__ == "__main__":
    crps_closed_form()
    coverage()
    scale_factor_spread()
