"""Scoring probabilistic forecasts and the rolling-origin backtest.

Scores, for each forecast (model, quantity, region, origin, horizon h) against what happened:

- absolute percentage error of the median, ``|median - y| / y``;
- CRPS from the draws, ``mean|x_i - y| - 1/2 mean|x_i - x_j|`` (lower is better; in the
  quantity's units), and CRPS relative to the outcome (``crps / y``), which lets small and
  large populations count alike when pooled;
- whether y lies in the central 80 % and 95 % intervals of the draws (coverage, averaged).

The backtest, for each origin year o: every WPP region's TFR is forecast from data up to o
only (the Bayesian model is fitted once per origin on all regions; baselines per region),
and births follow by projecting each region from its last quinquennial population at or
before o, with observed rates up to o and the forecast fertility after, to o + h.
"""

from __future__ import annotations

import logging
from typing import Callable

import numpy as np
import pandas as pd
import xarray as xr

from forecast.core.draw_quantiles import quantiles
from forecast.core.registry import INTERVALS
from forecast.models.fertility.trajectory import TfrTrajectoryFertility
from forecast.data import load_wpp
from forecast.models.migration.net_migrants import WppMigration
from forecast.models.mortality.constant import ConstantMortality
from forecast.projection.project import project_inputs

log = logging.getLogger(__name__)

LEVELS = INTERVALS


def crps_ensemble(draws: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """CRPS of an ensemble (..., n) for outcomes (...): E|X - y| - E|X - X'| / 2.

    Uses the sorted-sample identity E|X - X'| = 2/n^2 sum_i (2i - n - 1) x_(i).
    """
    x = np.sort(np.asarray(draws, dtype=float), axis=-1)
    y = np.asarray(observed, dtype=float)[..., None]
    n = x.shape[-1]
    weights = 2.0 * np.arange(1, n + 1) - n - 1
    spread = (x * weights).sum(-1) / n**2
    return np.abs(x - y).mean(-1) - spread


def score(draws: np.ndarray, observed: np.ndarray) -> dict[str, np.ndarray]:
    """Median, interval bounds, APE, CRPS and coverage flags of draws (..., n) against (...)."""
    observed = np.asarray(observed, dtype=float)
    q = np.moveaxis(quantiles(draws, [0.5, *LEVELS["80"], *LEVELS["95"]]), -1, 0)
    out = {"median": q[0], "lower_80": q[1], "upper_80": q[2], "lower_95": q[3],
           "upper_95": q[4]}
    out["ape"] = np.abs(q[0] - observed) / observed
    out["crps"] = crps_ensemble(draws, observed)
    out["crps_relative"] = out["crps"] / observed
    out["in_80"] = (q[1] <= observed) & (observed <= q[2])
    out["in_95"] = (q[3] <= observed) & (observed <= q[4])
    return out


def score_rows(model: str, quantity: str, region: str, origin: int, years: np.ndarray,
               draws: np.ndarray, observed: np.ndarray) -> pd.DataFrame:
    """The backtest's rows of one forecast: draws (year, draw) against observed (year)."""
    scores = score(draws, observed)
    return pd.DataFrame({"model": model, "quantity": quantity, "region": region,
                         "origin": origin, "h": years - origin, "year": years,
                         "observed": observed, **scores})


def backtest(models: dict[str, Callable[[], TfrTrajectoryFertility]], origins: list[int],
             max_horizon: int, regions: list[str] | None = None, births: bool = True,
             data_dir=None) -> tuple[pd.DataFrame, list[dict]]:
    """Rolling-origin backtest: one row per model x quantity x region x origin x year, and
    the MCMC diagnostics of every fit (model, origin, R-hat, ESS, divergences).

    ``models`` maps a name to a factory of a fresh model (so no state carries across
    origins). Quantities: ``tfr`` (children per woman) and, with ``births``, ``births``
    (persons per year, calendar year).
    """
    full = load_wpp("JPN", 2015, data_dir=data_dir)  # any region: every loader carries the pool
    pool = full["tfr_pool"]
    last_year = int(pool["year"].max())
    regions = regions or [str(r) for r in pool["pool_region"].values]
    frames = []
    jump_off: dict[tuple[str, int], tuple[xr.Dataset, xr.DataArray]] = {}
    diagnostics = []
    for origin in origins:
        years = np.arange(origin + 1, min(origin + max_horizon, last_year) + 1)
        if len(years) == 0:
            continue
        truth_tfr = pool.sel(year=years)
        for name, factory in models.items():
            log.info("Backtest: origin %d, model %s", origin, name)
            model = factory()
            future = np.arange(origin + 1, years[-1] + 2)
            tfr = model.forecast_tfr(pool.sel(year=slice(None, origin)), future, regions)
            if model.diagnostics:
                diagnostics.append({"model": name, "origin": origin, **model.diagnostics})
            for region in regions:
                frames.append(score_rows(name, "tfr", region, origin, years,
                                    tfr.sel(pool_region=region, year=years).values,
                                    truth_tfr.sel(pool_region=region).values))
                if births:
                    if (region, origin) not in jump_off:
                        jump_off[region, origin] = _jump_off(region, origin, data_dir)
                    frames.append(_births_rows(name, model, region, origin, years,
                                               tfr.sel(pool_region=region, drop=True),
                                               *jump_off[region, origin]))
    return pd.concat(frames, ignore_index=True), diagnostics


def _jump_off(region: str, origin: int, data_dir) -> tuple[xr.Dataset, xr.DataArray]:
    """Inputs known at ``origin`` (from the last quinquennial population <= origin) and the
    births that were later observed."""
    base = origin - origin % 5
    inputs = load_wpp(region, base, until=origin, data_dir=data_dir)
    observed = load_wpp(region, base, data_dir=data_dir)["births_observed"].sel(region=region)
    return inputs, observed


def _births_rows(name, model, region, origin, years, tfr, inputs, observed) -> pd.DataFrame:
    """Project one region from its jump-off inputs with the given TFR draws; score births."""

    class _Given:  # the forecast already made for this origin, handed to the projection
        def rates(self, inp, steps):
            return model.rates_from_tfr(inp, steps, tfr)

    result = project_inputs(inputs, _Given(), ConstantMortality(), WppMigration(), int(years[-1]))
    projected = result["births_calendar"].sum("sex").sel(region=region, year=years)
    return score_rows(name, "births", region, origin, years,
                 projected.transpose("year", "draw").values, observed.sel(year=years).values)


def summarise(scores: pd.DataFrame) -> pd.DataFrame:
    """Per model and quantity, pooled over h = 1...max and by h: mean APE, mean CRPS,
    coverage of the 80 % and 95 % intervals, and the number of forecasts."""
    def agg(frame):
        return pd.Series({"forecasts": len(frame), "mape": frame["ape"].mean(),
                          "crps": frame["crps"].mean(),
                          "crps_relative": frame["crps_relative"].mean(),
                          "coverage_80": frame["in_80"].mean(),
                          "coverage_95": frame["in_95"].mean()})
    pooled = scores.groupby(["quantity", "model"]).apply(agg, include_groups=False).reset_index()
    pooled["h"] = "all"
    by_h = scores.groupby(["quantity", "model", "h"]).apply(agg, include_groups=False).reset_index()
    table = pd.concat([pooled, by_h.astype({"h": str})], ignore_index=True)
    table["forecasts"] = table["forecasts"].astype(int)
    return table[["quantity", "model", "h", "forecasts", "mape", "crps", "crps_relative",
                  "coverage_80", "coverage_95"]]
