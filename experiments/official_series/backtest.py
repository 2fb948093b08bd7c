"""Rolling-origin backtest of China's national TFR on the official series: which pool and
which terms should the default Bayesian model use?

    nice -n 10 .venv/bin/python experiments/official_series/backtest.py     # about 30 minutes
    .venv/bin/python experiments/official_series/backtest.py --smoke    # two origins, temp folder

From every origin T (2008 ... 2022) each variant learns from the pool up to T and forecasts
China's TFR of T+1 ... T+5; forecasts are scored against the official series
(:mod:`forecast.demography.official_tfr`: NBS births on the 2020 census base). Variants
(``configs/fertility/bayes.yaml`` with its sampler settings unless ``--samples``):

- ``wpp``: the pool of WPP estimates (China's row included), the forecast moved to the
  official level by the last official-to-WPP ratio at the origin (what the run's
  calibration does with the level of its last observed year);
- ``official``: China's row the official series (WPP before 2005, spliced), with a
  measurement error on the years NBS revised after the census;
- ``official_dragon``: the same with the dragon-year term;
- ``official_dragon_no_error``: the dragon-year term, no measurement error;
- ``official_damped``: the official pool, the drift damped by 0.9 a year, the dragon-year
  term automatic, one momentum lag;
- ``official_damped_lags2``: the same with a momentum of two lags (``momentum_lags: 2``),
  the model as configured today;
- ``official_damped_lags2_no_error``: today's model without the measurement error;
- ``official_damped_lags2_dragon``: today's model with the dragon-year term always on;
- ``official_damped_lags2_calibrated``: ``official_damped_lags2``'s forecasts widened by the
  scale learned, as a run could have learned it at the origin, from that variant's earlier
  forecasts of years up to the origin (:func:`forecast.models.fertility.interval_scale.
  interval_scale`; 1 while fewer than 10 are scored): the configured model (whose
  ``unsmoothed_interval_scale`` is the same rule applied to the whole record).
- ``official_damped_lags2_dragon_calibrated``: the same rule applied to
  ``official_damped_lags2_dragon``'s forecasts.

``--variants a,b`` runs only those and keeps the other variants' rows of ``scores.csv``.

Writes ``results/scores.csv`` (one row per variant, origin and year), ``results/summary.csv``
(coverage of the 80 % and 95 % intervals, CRPS relative to the outcome and absolute
percentage error of the median, by variant and horizon), ``results/summary_periods.csv``
(the same by the scored year's period: to 2019, 2020 on), ``results/draws.nc`` (the draws of
today's model from each origin, :func:`write_draws`) and ``results/run.json``;
``--summarise`` remakes the summaries from ``scores.csv``.
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

from forecast.data import load_china_census
from forecast.models.fertility.bayes import HierarchicalTFR
from forecast.models.fertility.interval_scale import RECORD_YEARS, interval_scale, widened
from forecast.models.fertility.trajectory import tfr_pool
from forecast.projection.evaluate import score

HERE = Path(__file__).parent
ORIGINS = list(range(2008, 2023))
HORIZON = RECORD_YEARS
DRAWS = 500
SEED = 20240601
TARGET = "CHN"
#: variant -> (pool, dragon-year term, measurement error, other model options)
VARIANTS = {"wpp": ("wpp", False, True, {}), "official": ("official", False, True, {}),
            "official_dragon": ("official", True, True, {}),
            "official_dragon_no_error": ("official", True, False, {}),
            "official_damped": ("official", "auto", True, {"drift_damping": 0.9}),
            "official_damped_lags2": ("official", "auto", True,
                                      {"drift_damping": 0.9, "momentum_lags": 2}),
            "official_damped_lags2_no_error": ("official", "auto", False,
                                               {"drift_damping": 0.9, "momentum_lags": 2}),
            "official_damped_lags2_dragon": ("official", True, True,
                                             {"drift_damping": 0.9, "momentum_lags": 2})}
#: The variant whose draws are kept (``results/draws.nc``): today's model as simulated, which
#: ``experiments/calibration/`` combines with the provinces' factors.
KEPT_DRAWS = "official_damped_lags2"
#: variant -> the variant whose forecasts it widens by the scale learned from their record
#: up to the origin (no fit of its own)
CALIBRATED = {"official_damped_lags2_calibrated": "official_damped_lags2",
              "official_damped_lags2_dragon_calibrated": "official_damped_lags2_dragon"}


def pools() -> tuple[dict, pd.Series]:
    """The two pools (pool_region, year) and the official series (year); the official pool
    with its measurement-error cells, as a run hands it to the model (:func:`tfr_pool`)."""
    official = load_china_census(regions=[], tfr_series="official")
    wpp = load_china_census(regions=[], tfr_series="wpp")
    series = official["tfr_official"].rename(observed_year="year").dropna("year")
    return ({"official": tfr_pool(official), "wpp": tfr_pool(wpp)}, series.to_series())


def forecast(variant: str, pool, official: pd.Series, origin: int, samples: int,
             tune: int) -> np.ndarray:
    """Draws (year, draw) of China's official TFR of origin+1 ... origin+HORIZON."""
    source, dragon, error, options = VARIANTS[variant]
    seen = pool[source].sel(year=slice(None, origin))
    if not error and "measurement_error" in seen.coords:
        seen = seen.drop_vars("measurement_error")
    model = HierarchicalTFR(draws=DRAWS, samples=samples, tune=tune, progressbar=False,
                            dragon_year=dragon, random_seed=SEED, **options)
    years = np.arange(origin + 1, origin + HORIZON + 1)
    paths = model.forecast_tfr(seen, years, [TARGET]).sel(pool_region=TARGET).values
    if source == "wpp":  # on the official level of the origin
        paths = paths * official[origin] / float(seen.sel(pool_region=TARGET, year=origin))
    return paths, model.diagnostics


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="kept draws per chain")
    parser.add_argument("--tune", type=int, default=1000, help="tuning steps per chain")
    parser.add_argument("--smoke", action="store_true", help="two origins, few draws, "
                        "written to a temporary folder")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--summarise", action="store_true", help="only remake the summaries "
                        "from --out's scores.csv")
    parser.add_argument("--variants", default=",".join([*VARIANTS, *CALIBRATED]),
                        help="comma-separated variants to run (the others' rows are kept)")
    args = parser.parse_args(argv)
    origins, out = ORIGINS, args.out
    if args.summarise:
        write_summaries(pd.read_csv(out / "scores.csv"), out)
        return 0
    if args.smoke:
        origins, args.samples, args.tune = [2011, 2019], 200, 200
        out = Path(tempfile.mkdtemp(prefix="official_series_"))
    out.mkdir(parents=True, exist_ok=True)
    chosen = args.variants.split(",")
    unknown = sorted(set(chosen) - set(VARIANTS) - set(CALIBRATED))
    if unknown:
        parser.error(f"unknown variants {unknown}; expected some of "
                     f"{[*VARIANTS, *CALIBRATED]}")
    missing = sorted({CALIBRATED[v] for v in chosen if v in CALIBRATED} - set(chosen))
    if missing:
        parser.error(f"a calibrated variant needs its forecasts: add {missing} to --variants")
    pool, official = pools()
    rows, fits, start, kept = [], [], time.perf_counter(), {}
    earlier, earlier_fits = _kept(out, chosen)
    for origin in origins:
        years = [y for y in range(origin + 1, origin + HORIZON + 1) if y in official.index]
        made = {}
        for variant in [v for v in chosen if v in VARIANTS] + [v for v in chosen
                                                              if v in CALIBRATED]:
            if variant in CALIBRATED:
                base = CALIBRATED[variant]
                record = (pd.concat(rows) if rows
                          else pd.DataFrame({"variant": [], "year": []}))
                record = record[(record["variant"] == base) & (record["year"] <= origin)]
                scale = interval_scale(record)
                paths, diagnostics = widened(made[base], scale), {"interval_scale": scale}
            else:
                paths, diagnostics = forecast(variant, pool, official, origin, args.samples,
                                              args.tune)
                if variant == KEPT_DRAWS:
                    kept[origin] = paths
                paths = made[variant] = paths[: len(years)]
            observed = official.loc[years].to_numpy()
            scores = score(paths, observed)
            rows.append(pd.DataFrame({"variant": variant, "origin": origin,
                                      "h": np.array(years) - origin, "year": years,
                                      "observed": observed, **scores}))
            fits.append({"variant": variant, "origin": origin,
                         **{k: diagnostics[k] for k in ("rhat_max", "ess_bulk_min",
                                                         "ess_tail_min", "divergences",
                                                         "interval_scale")
                            if k in diagnostics}})
            print(f"origin {origin} {variant}: median {np.round(scores['median'], 3)} "
                  f"observed {np.round(observed, 3)}", flush=True)
    table = pd.concat([earlier] + rows, ignore_index=True)
    fits = earlier_fits + fits
    table.to_csv(out / "scores.csv", index=False, float_format="%.6g")
    if kept:
        write_draws(kept, fits, out / "draws.nc")
    summary = write_summaries(table, out)
    (out / "run.json").write_text(json.dumps({
        "origins": origins, "horizon": HORIZON, "draws": DRAWS, "samples": args.samples,
        "tune": args.tune, "seed": SEED, "fits": fits,
        "wall_seconds": round(time.perf_counter() - start, 1)}, indent=1), encoding="utf-8")
    print(summary.to_string(index=False))
    print(f"written to {out}")
    return 0


def write_draws(kept: dict[int, np.ndarray], fits: list[dict], path: Path) -> None:
    """China's official TFR draws (origin, h, draw) of :data:`KEPT_DRAWS` from each origin,
    1 ... HORIZON years ahead, with the interval scale learned at each origin
    (``official_damped_lags2_calibrated``'s, where it was run)."""
    origins = sorted(kept)
    scale = {f["origin"]: f["interval_scale"] for f in fits if "interval_scale" in f}
    data = xr.Dataset(
        {"tfr": (("origin", "h", "draw"), np.stack([kept[o] for o in origins])),
         "interval_scale": ("origin", [scale.get(o, np.nan) for o in origins])},
        coords={"origin": origins, "h": np.arange(1, HORIZON + 1),
                "draw": np.arange(kept[origins[0]].shape[1])})
    data["tfr"].attrs.update(units="children per woman", description=(
        f"{KEPT_DRAWS}'s forecast of China's official TFR in year origin + h, as simulated "
        "(not widened)"))
    data["interval_scale"].attrs["description"] = (
        "the scale learned at the origin from the earlier forecasts (interval_scale)")
    data.to_netcdf(path, encoding={"tfr": {"zlib": True, "complevel": 5}})


def _kept(out: Path, chosen: list[str]) -> tuple[pd.DataFrame, list[dict]]:
    """The rows and fits of the variants not in ``chosen`` from an earlier run in ``out``."""
    if not (out / "scores.csv").is_file() or set(chosen) == {*VARIANTS, *CALIBRATED}:
        return pd.DataFrame(), []
    table = pd.read_csv(out / "scores.csv")
    fits = json.loads((out / "run.json").read_text(encoding="utf-8")).get("fits", [])
    return (table[~table["variant"].isin(chosen)],
            [f for f in fits if f["variant"] not in chosen])


def write_summaries(table: pd.DataFrame, out: Path) -> pd.DataFrame:
    """``summary.csv`` (by variant and horizon) and ``summary_periods.csv`` (by variant and
    the scored year's period: up to 2019, and 2020 on, the years of the sudden fall)."""
    summary = summarise(table)
    summary.to_csv(out / "summary.csv", index=False)
    periods = table.assign(h=np.where(table["year"] <= 2019, "years to 2019", "years 2020 on"))
    by_period = summarise(periods)
    by_period[by_period["h"] != "all"].rename(columns={"h": "period"}).to_csv(
        out / "summary_periods.csv", index=False)
    return summary


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Coverage (percent), CRPS relative to the outcome (percent) and absolute percentage
    error of the median by variant and horizon, and over horizons 1-5 (``h`` = all)."""
    def block(frame, by):
        return frame.groupby(by).agg(
            forecasts=("observed", "size"), coverage_80=("in_80", "mean"),
            coverage_95=("in_95", "mean"), crps_percent=("crps_relative", "mean"),
            mape_percent=("ape", "mean")).reset_index()
    parts = [block(table, ["variant", "h"]),
             block(table, ["variant"]).assign(h="all")]
    out = pd.concat(parts, ignore_index=True)
    for column in ("coverage_80", "coverage_95", "crps_percent", "mape_percent"):
        out[column] = (100 * out[column]).round(1)
    return out


if __name__ == "__main__":
    sys.exit(main())
