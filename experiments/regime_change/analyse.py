"""Could an honest interval from data to 2019 have held China's 2020-2023 fall? The world's
low-fertility record against the model, with the 13-population pool and a pool widened to
every country with low fertility.

    .venv/bin/python experiments/regime_change/analyse.py            # about 5 minutes
    .venv/bin/python experiments/regime_change/analyse.py --smoke    # few draws, a temp folder

1. Reference class (``results/reference_class.csv``): every country or area in WPP 2024
   (``data/wpp2024_tfr_annual_countries.csv``) and year T = 1975 ... 2017 with a TFR of
   1.3-1.8 (China 2019: 1.50): quantiles of the change of log TFR from T to T + h, h = 1-6,
   for all such country-years and for those whose TFR had fallen by 15 % or more over the
   two years before T (China 2017-2019: -17 %); and the share of them that fell as far as
   China did from 2019 (WPP 2024's estimates 2020-2023).
2. The default Bayesian model (``configs/fertility/bayes.yaml``'s settings, damped drift),
   with one and with two momentum lags, fitted to data up to 2019
   (``results/model_2019.csv``): on the 13-population pool, and on the pool widened to every
   country whose TFR stayed below 2.1 in 2010-2019 (a rule that uses no data after 2019);
   China's TFR quantiles 2020-2025 against WPP's 2020-2023.
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
import xarray as xr

from forecast.data import load_wpp
from forecast.data.wpp_countries import tfr_countries
from forecast.models.fertility.bayes import HierarchicalTFR

HERE = Path(__file__).parent
CHINA, ORIGIN, HORIZON = 156, 2019, 6
LOW_BAND = (1.3, 1.8)
PRIOR_FALL = np.log(0.85)  # a fall of 15 % or more over the two years before T
BELOW, BELOW_YEARS = 2.1, 10
QUANTILES = [0.025, 0.1, 0.5, 0.9, 0.975]
SEED = 20240601


def reference_class(tfr: xr.DataArray) -> pd.DataFrame:
    """Quantiles of h-year changes of log TFR from country-years in LOW_BAND."""
    y = np.log(tfr.transpose("country", "year").values)
    years = tfr["year"].values
    china = y[list(tfr["country"].values).index(CHINA)]
    t0 = np.flatnonzero(years == ORIGIN)[0]
    rows = []
    for h in range(1, HORIZON + 1):
        starts = np.flatnonzero((years >= 1975) & (years + h <= years.max()))
        before = y[:, starts] - y[:, starts - 2]
        change = y[:, starts + h] - y[:, starts]
        level = np.exp(y[:, starts])
        in_band = (level >= LOW_BAND[0]) & (level <= LOW_BAND[1]) & np.isfinite(change)
        china_change = china[t0 + h] - china[t0] if t0 + h < len(years) else np.nan
        for subset, mask in (("all", in_band), ("after a 15 % fall", in_band
                                                & (before <= PRIOR_FALL))):
            values = change[mask]
            q = np.quantile(values, QUANTILES)
            rows.append({"h": h, "country_years": subset, "count": int(mask.sum()),
                         **{f"q{int(p * 1000):03d}": round(float(v), 4)
                            for p, v in zip(QUANTILES, q)},
                         "china_change": None if np.isnan(china_change)
                         else round(float(china_change), 4),
                         "share_as_low_as_china": None if np.isnan(china_change)
                         else round(float((values <= china_change).mean()), 4)})
    return pd.DataFrame(rows)


def widened_pool(tfr: xr.DataArray, pool: xr.DataArray) -> xr.DataArray:
    """The 13 populations plus every other country below BELOW in each of the BELOW_YEARS
    years to ORIGIN (named by UN code; a country already in the pool is recognised by its
    series)."""
    recent = tfr.sel(year=slice(ORIGIN - BELOW_YEARS + 1, ORIGIN))
    series = tfr.sel(year=pool["year"].values)
    in_pool = np.array([np.isclose(row, pool.values, atol=1e-4).all(axis=1).any()
                        for row in series.values])  # the 13 under their UN codes
    low = tfr["country"].values[(recent < BELOW).all("year").values & ~in_pool]
    extra = series.sel(country=low).rename(country="pool_region")
    extra = extra.drop_vars("country_name").assign_coords(
        pool_region=[str(c) for c in low])
    return xr.concat([pool, extra], dim="pool_region")


def model_2019(pool: xr.DataArray, name: str, lags: int, args, outcome: pd.Series
               ) -> tuple[list, dict]:
    """China's TFR quantiles 2020-2025 from the model (``lags`` momentum lags) fitted to
    ``pool`` up to ORIGIN."""
    model = HierarchicalTFR(draws=args.draws, samples=args.samples, tune=args.tune,
                            progressbar=False, random_seed=SEED, drift_damping=0.9,
                            momentum_lags=lags)
    idata = model.fit(pool)
    years = np.arange(ORIGIN + 1, ORIGIN + HORIZON + 1)
    paths = model.paths_from_posterior(idata, pool, years, ["CHN"]).sel(pool_region="CHN")
    q = np.quantile(paths.values, QUANTILES, axis=1)
    rows = []
    for i, year in enumerate(years):
        observed = outcome.get(year, np.nan)
        rows.append({"pool": name, "momentum_lags": lags,
                     "populations": int(pool.sizes["pool_region"]), "year": int(year), **{f"q{int(p * 1000):03d}": round(float(v), 4)
                                           for p, v in zip(QUANTILES, q[:, i])},
                     "wpp_estimate": None if np.isnan(observed) else round(float(observed), 4),
                     "in_80": None if np.isnan(observed) else bool(q[1, i] <= observed <= q[3, i]),
                     "in_95": None if np.isnan(observed) else bool(q[0, i] <= observed <= q[4, i])})
    post = idata.posterior
    fit = {"pool": name, "momentum_lags": lags, "populations": int(pool.sizes["pool_region"]),
           **{k: model.diagnostics.get(k) for k in ("rhat_max", "ess_bulk_min", "divergences")},
           "china_ar": round(float(post["ar"].sel(pool_region="CHN").mean()), 3),
           "china_sigma": round(float(post["sigma"].sel(pool_region="CHN").mean()), 4),
           "nu": round(float(post["nu"].mean()), 2)}
    if lags == 2:
        fit["china_ar2"] = round(float(post["ar2"].sel(pool_region="CHN").mean()), 3)
    return rows, fit


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="kept draws per chain")
    parser.add_argument("--tune", type=int, default=1000, help="tuning steps per chain")
    parser.add_argument("--draws", type=int, default=2000, help="paths per forecast")
    parser.add_argument("--smoke", action="store_true", help="few draws, a temporary folder")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    out = args.out
    if args.smoke:
        args.samples, args.tune, args.draws = 100, 100, 200
        out = Path(tempfile.mkdtemp(prefix="regime_change_"))
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    tfr = tfr_countries()
    reference = reference_class(tfr)
    reference.to_csv(out / "reference_class.csv", index=False)
    pool = load_wpp("CHN", 2015, until=ORIGIN)["tfr_pool"]
    outcome = tfr.sel(country=CHINA).to_series()
    rows, fits = [], []
    for name, data in (("13 populations", pool), ("widened", widened_pool(tfr, pool))):
        for lags in (1, 2):
            part, fit = model_2019(data, name, lags, args, outcome)
            rows += part
            fits.append(fit)
            print(f"{name}, {lags} momentum lag(s): fitted", flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(out / "model_2019.csv", index=False)
    (out / "run.json").write_text(json.dumps({
        "origin": ORIGIN, "seed": SEED, "samples": args.samples, "tune": args.tune,
        "draws": args.draws, "fits": fits,
        "wall_seconds": round(time.perf_counter() - start, 1)}, indent=1), encoding="utf-8")
    print(reference.to_string(index=False))
    print(table.to_string(index=False))
    print(json.dumps(fits, indent=1))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
