"""Rolling-origin checks of regional fertility levels and net migration rates against the
published series.

From each origin T, a method sees the regions' fertility factors up to T only
(:mod:`forecast.demography.provincial_history`: published births over the births at the national
rates, relative to the nation) and forecasts draws of the factors of T+1 ... T+H; each is
scored against what was published. With the nation's rates known, a factor's relative error
is that of the region's births and birth rate, so this checks the regional part of the
uncertainty alone (the national part has its own backtest, :mod:`forecast.projection.evaluate`).

Methods (:data:`METHODS`):

- ``state_space`` — the model of :mod:`forecast.demography.regional_levels` with its
  default dynamics (the local level model), refitted at every origin: filtered level with
  its error, fitted (σ, τ) with their uncertainty;
- ``state_space_ar1`` — the same with the AR(1) towards the nation (ρ fitted too);
- ``scale_ar1`` — the level before it: the mean factor of the last three years, exact, moved
  by the Scale-AR(1) with bayesTFR's annual defaults (ρ 0.98445, σ 0.02086);
- ``naive`` — the last published factor held (the province's rate moving with the nation's):
  a point forecast, its CRPS is its absolute error.

Net migration rates (:func:`migration_rolling_origin`, :data:`MIGRATION_METHODS`): the
reverting level of :mod:`forecast.models.migration.rate_levels` (``reverting_level``, the
default migration's), and the mean of the last five observed rates with the AR(1) draws of
:func:`forecast.models.migration.net_migrants.rate_paths` (``recent_mean_ar1``), refitted at
every origin, scored on the rate itself (per 1,000 per step).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import xarray as xr

from forecast.demography import regional_levels
from forecast.demography.provincial_history import level_factor
from forecast.demography.subnational import ANNUAL_RHO, ANNUAL_SIGMA, scale_factor_paths
from forecast.models.migration.net_migrants import fit_rate_deviations, rate_paths
from forecast.models.migration.rate_levels import fit_rate_levels, level_rate_paths
from forecast.projection.evaluate import score

#: Bins of the probability integral transform read off the published quantiles (2.5, 10,
#: 50, 90 and 97.5 %), named by their range in percent, and their expected shares in percent.
PIT_BINS = ("0_2.5", "2.5_10", "10_50", "50_90", "90_97.5", "97.5_100")
PIT_EXPECTED = (2.5, 7.5, 40.0, 40.0, 7.5, 2.5)


def _state_space(model: str) -> Callable:
    def forecast(series: xr.DataArray, origin: int, years: np.ndarray, draws: int,
                 rng: np.random.Generator) -> xr.DataArray:
        dynamics = regional_levels.fit_dynamics(series, model)
        start = regional_levels.level_at(series, dynamics, origin)
        return regional_levels.level_paths(start, dynamics, origin, years, draws, rng)
    return forecast


def _scale_ar1(series: xr.DataArray, origin: int, years: np.ndarray, draws: int,
               rng: np.random.Generator) -> xr.DataArray:
    start = level_factor(series, 3)
    return scale_factor_paths(start, origin, years, draws, rng, ANNUAL_RHO, ANNUAL_SIGMA)


def _naive(series: xr.DataArray, origin: int, years: np.ndarray, draws: int,
           rng: np.random.Generator) -> xr.DataArray:
    values = series.transpose("region", "year").values
    seen = np.isfinite(values)
    latest = np.where(seen.any(1), seen.shape[1] - 1 - np.argmax(seen[:, ::-1], axis=1), 0)
    last = xr.DataArray(values[np.arange(len(values)), latest], dims="region",
                        coords={"region": series["region"].values})
    return last.expand_dims(year=years, draw=np.arange(1)).transpose("region", "year", "draw")


#: name -> f(series up to the origin (region, year), origin, years, draws, rng) -> draws of
#: the factors (region, year, draw).
METHODS: dict[str, Callable] = {
    "state_space": _state_space(regional_levels.MODELS[0]), "state_space_ar1": _state_space("ar1"),
    "scale_ar1": _scale_ar1, "naive": _naive}


def rolling_origin(series: xr.DataArray, origins: list[int], horizon: int, draws: int,
                   seed: int, methods: dict[str, Callable] | None = None) -> pd.DataFrame:
    """Score every method from every origin against the published factors.

    Parameters
    ----------
    series : (region, year), published fertility factors (dimensionless), NaN where not
        published
    origins : last years each forecast may see
    horizon : years ahead scored (1 ... horizon, where published)
    draws, seed : draws per forecast and the seed of all of them (one stream per origin)

    Returns
    -------
    One row per method, region, origin and horizon ``h``: ``observed``, ``median``,
    interval bounds, ``ape`` and ``crps`` (relative to the observed factor: the relative
    error of the region's births), ``in_80``, ``in_95`` and ``pit_bin`` (:data:`PIT_BINS`).
    """
    methods = methods or METHODS
    rows = []
    for origin in origins:
        seen = series.sel(year=slice(None, origin))
        years = np.arange(origin + 1, origin + horizon + 1)
        target = series.reindex(year=years)
        for name, method in methods.items():
            rng = np.random.default_rng([seed, origin])
            paths = method(seen, origin, years, draws, rng).sel(region=series["region"])
            rows += forecast_rows(name, series["region"].values, origin, years,
                                  paths.transpose("region", "year", "draw").values,
                                  target.transpose("region", "year").values)
    return pd.DataFrame(rows)


def forecast_rows(method: str, regions, origin: int, years: np.ndarray, values: np.ndarray,
                  observed: np.ndarray) -> list[dict]:
    """The scored rows of one origin's forecast: draws ``values`` (region, year, draw)
    against ``observed`` (region, year), a row per published (finite) outcome, in the
    columns of :func:`rolling_origin`."""
    scores = score(values, observed)
    point = values.shape[-1] == 1
    if point:  # a point forecast has no intervals
        scores["in_80"] = scores["in_95"] = np.full(observed.shape, np.nan)
    rows = []
    for i, region in enumerate(regions):
        for j, year in enumerate(years):
            if not np.isfinite(observed[i, j]):
                continue
            row = {k: v[i, j] for k, v in scores.items()}
            row["crps"] = row.pop("crps_relative")
            rows.append({"method": method, "region": str(region), "origin": origin,
                         "h": j + 1, "year": int(year), "observed": observed[i, j], **row,
                         "pit_bin": None if point else pit_bin(row, observed[i, j])})
    return rows


def _rate_reverting_level(seen: xr.DataArray, horizon: int, draws: int,
                          rng: np.random.Generator) -> np.ndarray:
    return level_rate_paths(fit_rate_levels(seen), horizon, draws, rng)


def _rate_recent_mean_ar1(seen: xr.DataArray, horizon: int, draws: int,
                          rng: np.random.Generator, years: int = 5) -> np.ndarray:
    level = seen.isel(year=slice(-years, None)).mean("year").values
    return level[:, None, None] + rate_paths(fit_rate_deviations(seen, years), horizon,
                                             draws, years, rng)


#: name -> f(rates up to the origin (region, year), horizon, draws, rng) -> draws of the
#: rates (region, step, draw), per person per step.
MIGRATION_METHODS: dict[str, Callable] = {"reverting_level": _rate_reverting_level,
                                          "recent_mean_ar1": _rate_recent_mean_ar1}


def migration_rolling_origin(rates: xr.DataArray, origins: list[int], horizon: int,
                             draws: int, seed: int,
                             methods: dict[str, Callable] | None = None) -> pd.DataFrame:
    """Score draws of the regions' net migration rates from every origin.

    ``rates`` is (region, year = step), per person per step. Rows as
    :func:`rolling_origin` (methods :data:`MIGRATION_METHODS`), with the rates, bounds and
    ``crps`` per 1,000 per step and no ``ape`` (a rate near zero has no relative error)."""
    rows = []
    for origin in origins:
        seen = rates.sel(year=slice(None, origin))
        steps = np.arange(origin + 1, origin + horizon + 1)
        target = rates.reindex(year=steps).transpose("region", "year").values * 1000
        for name, method in (methods or MIGRATION_METHODS).items():
            rng = np.random.default_rng([seed, origin])
            scores = score(method(seen, horizon, draws, rng) * 1000, target)
            for i, region in enumerate(rates["region"].values):
                for j, step in enumerate(steps):
                    if not np.isfinite(target[i, j]):
                        continue
                    row = {k: v[i, j] for k, v in scores.items() if k not in ("ape",
                                                                             "crps_relative")}
                    rows.append({"method": name, "region": str(region), "origin": origin,
                                 "h": j + 1, "year": int(step), "observed": target[i, j],
                                 **row, "ape": np.nan, "pit_bin": pit_bin(row, target[i, j])})
    return pd.DataFrame(rows)


def pit_bin(bounds: dict, observed: float) -> str:
    """Which :data:`PIT_BINS` bin ``observed`` falls in, given ``median`` and the 80 %/95 %
    bounds (``lower_80`` ... ``upper_95``)."""
    edges = [bounds["lower_95"], bounds["lower_80"], bounds["median"], bounds["upper_80"],
             bounds["upper_95"]]
    return PIT_BINS[int(np.searchsorted(edges, observed, side="left"))]


def summarise(scores: pd.DataFrame, by: tuple[str, ...] = ("method", "h"),
              crps: tuple[str, float] = ("crps_percent", 100.0)) -> pd.DataFrame:
    """Coverage of the 80 % and 95 % intervals, mean CRPS and mean absolute percentage
    error by ``by`` (coverage and errors in percent); ``crps`` names the CRPS column and
    the factor on the scores' CRPS (relative CRPS in percent by default)."""
    scores = scores.assign(**{k: scores[k].astype(float) for k in ("in_80", "in_95")})
    grouped = scores.groupby(list(by))
    out = pd.DataFrame({
        "forecasts": grouped.size(),
        "coverage_80": 100 * grouped["in_80"].mean(),
        "coverage_95": 100 * grouped["in_95"].mean(),
        crps[0]: crps[1] * grouped["crps"].mean(),
        "mape_percent": 100 * grouped["ape"].mean()})
    return out.round(2).reset_index()


def pit_shares(scores: pd.DataFrame, by: tuple[str, ...] = ("method",)) -> pd.DataFrame:
    """Share of forecasts in each :data:`PIT_BINS` bin (percent) by ``by``, with the
    expected shares as a row ``expected``."""
    counts = (scores.groupby(list(by))["pit_bin"].value_counts(normalize=True)
              .unstack(fill_value=0.0).reindex(columns=list(PIT_BINS), fill_value=0.0))
    return (100 * counts).round(2)

