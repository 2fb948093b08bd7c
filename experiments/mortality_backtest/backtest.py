"""How sure is the forecast of life expectancy? Rolling-origin scores of the pooled e0 model
against each population's own random walk with drift, on the 13 WPP populations.

    .venv/bin/python experiments/mortality_backtest/backtest.py            # about a minute
    .venv/bin/python experiments/mortality_backtest/backtest.py --smoke    # two origins, a temp folder

From every origin T (1995 ... 2022) each variant forecasts e0 of both sexes T+1 ... T+15
(to 2023, the last WPP estimate) for every population of the pool, from the pool's data up to
T only, and is scored against WPP 2024's estimates:

- ``pooled_w<W>``: :mod:`forecast.models.mortality.e0_trajectories` fitted on the pool's last
  W years of gains (the default model is W = 25; 15 and 35 show the choice);
- ``own_drift``: each population's own e0 as a random walk with drift fitted from 1980 (the
  drift its mean gain, the shocks' sd from its own gains, the drift's standard error added;
  both sexes share their shocks) - what Lee-Carter's k does, on e0: the intervals a model
  fitted on one population's smoothed series gives.

Writes ``results/scores.csv`` (the default window and ``own_drift``; variant, sex, region,
origin, year; e0 and its CRPS in years), ``results/summary.csv``
(coverage of the 80 % and 95 % intervals in percent, CRPS and mean absolute error of the median
in years, by variant, sex and horizon band; rows for China alone) and ``results/run.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.core.variables import SEXES
from forecast.data import load_wpp
from forecast.models.mortality.e0_trajectories import fit_gains, fit_gap, simulate
from forecast.projection.evaluate import score_rows

HERE = Path(__file__).parent
ORIGINS = list(range(1995, 2023))
HORIZON = 15
DRAWS = 2000
SEED = 20240601
WINDOWS = (15, 25, 35)
DEFAULT_WINDOW = 25
OWN_FROM = 1980
BANDS = {"1-4": (1, 4), "5-9": (5, 9), "10-15": (10, 15), "1-15": (1, 15)}


def pooled(pool: np.ndarray, years: np.ndarray, regions: np.ndarray, window: int,
           horizon: int, rng: np.random.Generator) -> np.ndarray:
    """Pooled model's draws (region, sex, h, draw) from ``pool`` (region, sex, year)."""
    gains = fit_gains(pool[:, 0], years, regions, window)
    gap = fit_gap(pool[:, 0], pool[:, 1], years, window)
    return np.stack([simulate(gains, gap, r, pool[i, 0, -1], pool[i, 0, -1] - pool[i, 1, -1],
                              horizon, DRAWS, rng) for i, r in enumerate(regions)])


def own_drift(pool: np.ndarray, years: np.ndarray, horizon: int,
              rng: np.random.Generator) -> np.ndarray:
    """Own random walk with drift (region, sex, h, draw), fitted from OWN_FROM."""
    part = pool[..., years >= OWN_FROM]
    steps = np.diff(part, axis=-1)
    drift = steps.mean(-1)
    sigma = steps.std(-1, ddof=1)
    drift_sd = sigma / np.sqrt(steps.shape[-1])
    z_drift = rng.standard_normal((len(pool), 1, DRAWS))  # shared by the sexes
    z_steps = rng.standard_normal((len(pool), 1, horizon, DRAWS))
    drifts = drift[..., None] + drift_sd[..., None] * z_drift  # region, sex, draw
    h = np.arange(1, horizon + 1)[:, None]
    return (part[..., -1, None, None] + drifts[:, :, None, :] * h
            + sigma[..., None, None] * np.cumsum(z_steps, axis=2))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="two origins, written to a "
                        "temporary folder")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    origins, out = ORIGINS, args.out
    if args.smoke:
        origins, out = [2000, 2015], Path(tempfile.mkdtemp(prefix="mortality_backtest_"))
    out.mkdir(parents=True, exist_ok=True)
    e0 = load_wpp("JPN", 2015)["e0_pool"].transpose("pool_region", "sex", "year")
    regions, all_years = e0["pool_region"].values, e0["year"].values
    values, last = e0.sel(sex=list(SEXES)).values, int(all_years.max())
    frames, start = [], time.perf_counter()
    for origin in origins:
        seen = all_years <= origin
        target = np.arange(origin + 1, min(origin + HORIZON, last) + 1)
        horizon = len(target)
        rng = np.random.default_rng([SEED, origin])
        variants = {f"pooled_w{w}": pooled(values[..., seen], all_years[seen], regions, w,
                                           horizon, rng) for w in WINDOWS}
        variants["own_drift"] = own_drift(values[..., seen], all_years[seen], horizon, rng)
        for name, draws in variants.items():
            for i, region in enumerate(regions):
                for s, sex in enumerate(SEXES):
                    rows = score_rows(name, f"e0_{sex}", str(region), origin, target,
                                      draws[i, s], values[i, s, np.isin(all_years, target)])
                    frames.append(rows)
    table = pd.concat(frames, ignore_index=True)
    table["error"] = table["median"] - table["observed"]
    kept = table[table["model"].isin([f"pooled_w{DEFAULT_WINDOW}", "own_drift"])]
    kept.drop(columns=["ape", "crps_relative"]).to_csv(out / "scores.csv", index=False,
                                                       float_format="%.5g")
    summary = summarise(table)
    summary.to_csv(out / "summary.csv", index=False)
    (out / "run.json").write_text(json.dumps({
        "origins": origins, "horizon": HORIZON, "draws": DRAWS, "seed": SEED,
        "windows": list(WINDOWS), "own_drift_from": OWN_FROM,
        "wall_seconds": round(time.perf_counter() - start, 1)}, indent=1), encoding="utf-8")
    print(summary.to_string(index=False))
    print(f"written to {out}")
    return 0


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Coverage (percent), CRPS and mean absolute error (years) by variant, sex and band;
    all populations, then China alone."""
    rows = []
    for who, part in (("pool", table), ("CHN", table[table["region"] == "CHN"])):
        for band, (lo, hi) in BANDS.items():
            inside = part[part["h"].between(lo, hi)]
            for (variant, quantity), frame in inside.groupby(["model", "quantity"], sort=False):
                rows.append({"populations": who, "variant": variant, "quantity": quantity,
                             "horizons": band, "forecasts": len(frame),
                             "coverage_80": round(100 * frame["in_80"].mean(), 1),
                             "coverage_95": round(100 * frame["in_95"].mean(), 1),
                             "crps_years": round(frame["crps"].mean(), 3),
                             "mae_years": round(frame["error"].abs().mean(), 3),
                             "width_80_years": round((frame["upper_80"]
                                                      - frame["lower_80"]).mean(), 2)})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    sys.exit(main())
