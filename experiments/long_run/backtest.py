"""Which long run should the TFR model's forecast take: the undamped drift, or a drift that
fades? Rolling-origin scores at horizons 1-15 on the WPP pool.

    nice -n 10 .venv/bin/python experiments/long_run/backtest.py      # about 15 minutes
    .venv/bin/python experiments/long_run/backtest.py --smoke         # two origins, a temp folder

From every origin T (1993 ... 2008) the Bayesian model (``configs/fertility/bayes.yaml``'s
sampler settings unless ``--samples``) is fitted once to the 13 populations' last 30 years up
to T; its posterior then forecasts T+1 ... T+15 with the drift damped by γ a year for each γ
in :data:`DAMPING` (γ = 1: the undamped drift, the model as fitted;
:func:`forecast.models.fertility.bayes.simulate_paths`). Every forecast is scored against
WPP 2024's estimates. The variant ``pooled_level`` replaces the drift by a pull towards a
long-run level fitted on the whole pool's window (bayesTFR's Phase III idea,
:func:`forecast.models.fertility.bayes.pooled_pull`). Writes ``results/scores.csv``
(variant, region, origin, year), ``results/summary.csv`` (coverage, CRPS relative to the outcome and absolute percentage error
by variant and horizon band: 1-4, 5-9, 10-15, 5-15) and ``results/run.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import forecast.core.quiet  # noqa: F401  (before arviz and pymc)

import numpy as np
import pandas as pd

from forecast.data import load_wpp
from forecast.models.fertility.bayes import HierarchicalTFR
from forecast.projection.evaluate import score_rows

HERE = Path(__file__).parent
ORIGINS = list(range(1993, 2009))
HORIZON = 15
DRAWS = 500
SEED = 20240601
#: γ of each variant: the drift's factor per forecast year.
DAMPING = {"undamped": 1.0, "damped_0.95": 0.95, "damped_0.9": 0.9, "damped_0.8": 0.8}
#: Every variant's ``long_run`` and γ: the drift damped by each γ, and the pooled level.
VARIANTS = {**{name: ("drift", g) for name, g in DAMPING.items()},
            "pooled_level": ("pooled_level", 1.0)}
BANDS = {"1-4": (1, 4), "5-9": (5, 9), "10-15": (10, 15), "5-15": (5, 15)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="kept draws per chain")
    parser.add_argument("--tune", type=int, default=1000, help="tuning steps per chain")
    parser.add_argument("--momentum-lags", type=int, default=1, choices=(1, 2),
                        help="the model's momentum lags (fertility.momentum_lags)")
    parser.add_argument("--smoke", action="store_true", help="two origins, few draws, "
                        "written to a temporary folder")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    origins, out = ORIGINS, args.out
    if args.smoke:
        origins, args.samples, args.tune = [1995, 2005], 200, 200
        out = Path(tempfile.mkdtemp(prefix="long_run_"))
    out.mkdir(parents=True, exist_ok=True)
    pool = load_wpp("JPN", 2015)["tfr_pool"]
    regions = [str(r) for r in pool["pool_region"].values]
    last = int(pool["year"].max())
    frames, fits, start = [], [], time.perf_counter()
    for origin in origins:
        years = np.arange(origin + 1, min(origin + HORIZON, last) + 1)
        seen = pool.sel(year=slice(None, origin))
        model = HierarchicalTFR(draws=DRAWS, samples=args.samples, tune=args.tune,
                                progressbar=False, random_seed=SEED,
                                momentum_lags=args.momentum_lags)
        idata = model.fit(seen)
        fits.append({"origin": origin, **{k: model.diagnostics.get(k) for k in (
            "rhat_max", "ess_bulk_min", "ess_tail_min", "divergences")}})
        for name, (long_run, damping) in VARIANTS.items():
            model.long_run, model.drift_damping = long_run, damping
            tfr = model.paths_from_posterior(idata, seen, years, regions)
            for region in regions:
                frames.append(score_rows(name, "tfr", region, origin, years,
                                         tfr.sel(pool_region=region).values,
                                         pool.sel(pool_region=region, year=years).values))
        print(f"origin {origin} done", flush=True)
    table = pd.concat(frames, ignore_index=True)
    table.to_csv(out / "scores.csv", index=False, float_format="%.6g")
    summary = summarise(table)
    summary.to_csv(out / "summary.csv", index=False)
    (out / "run.json").write_text(json.dumps({
        "origins": origins, "horizon": HORIZON, "draws": DRAWS, "samples": args.samples,
        "tune": args.tune, "seed": SEED, "momentum_lags": args.momentum_lags,
        "variants": VARIANTS, "fits": fits,
        "wall_seconds": round(time.perf_counter() - start, 1)}, indent=1), encoding="utf-8")
    print(summary.to_string(index=False))
    print(f"written to {out}")
    return 0


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Coverage (percent), CRPS relative to the outcome (percent) and absolute percentage
    error of the median (percent) by variant and horizon band."""
    rows = []
    for band, (lo, hi) in BANDS.items():
        part = table[table["h"].between(lo, hi)]
        for variant, frame in part.groupby("model", sort=False):
            rows.append({"variant": variant, "horizons": band, "forecasts": len(frame),
                         "coverage_80": round(100 * frame["in_80"].mean(), 1),
                         "coverage_95": round(100 * frame["in_95"].mean(), 1),
                         "crps_percent": round(100 * frame["crps_relative"].mean(), 2),
                         "mape_percent": round(100 * frame["ape"].mean(), 2)})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    sys.exit(main())
