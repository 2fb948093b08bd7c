"""Benchmark: the projection core vectorised over region x draw, against one call per region
and draw. Reports throughput ratios, not absolute times (machines differ).

Run: .venv/bin/python experiments/ccmpp_scaling/benchmark.py
"""

from __future__ import annotations

import time

import numpy as np
import xarray as xr

from forecast.demography.ccmpp import project
from forecast.models.fertility.constant import ConstantFertility
from forecast.data import load_china_census
from forecast.models.migration.net_migrants import WppMigration
from forecast.models.mortality.constant import ConstantMortality

STEPS = np.arange(2020, 2036)


def _inputs(draws: int, seed: int = 1):
    """Default-run inputs (32 regions) with ASFR perturbed by draw (lognormal, sd 0.1)."""
    inputs = load_china_census()
    asfr = ConstantFertility().rates(inputs, STEPS)
    rng = np.random.default_rng(seed)
    noise = xr.DataArray(np.exp(rng.normal(0, 0.1, draws)), dims="draw",
                         coords={"draw": np.arange(draws)})
    rates = {"asfr": asfr["asfr"] * noise, "srb": asfr["srb"],
             "mx": ConstantMortality().rates(inputs, STEPS),
             "net_migration": WppMigration().rates(inputs, STEPS)["net_migration"]}
    return inputs["population"], rates


def _best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    print("| draws | cells (region x draw) | vectorised: cells per second | looped: cells per second | ratio |")
    print("|---:|---:|---:|---:|---:|")
    for draws in (1, 10, 100, 1000):
        population, rates = _inputs(draws)
        cells = population.sizes["region"] * draws
        vec = _best_of(lambda: project(population, **rates))
        # the loop: one call per region and draw, timed on a sample of cells
        sample = [(r, d) for r in population["region"].values[:4] for d in range(min(draws, 2))]

        def looped():
            for r, d in sample:
                project(population.sel(region=[r]),
                        **{k: (v.sel(region=[r]) if "region" in v.dims else v) for k, v in rates.items()}
                        | {"asfr": rates["asfr"].sel(region=[r], draw=[d])})

        loop = _best_of(looped, repeat=2)
        vec_rate, loop_rate = cells / vec, len(sample) / loop
        print(f"| {draws} | {cells} | {vec_rate:,.0f} | {loop_rate:,.0f} | {vec_rate / loop_rate:,.0f} |")


if __name__ == "__main__":
    main()
