"""Baseline TFR models (statsmodels), each fitted to one population's own series.

All work on log TFR over the training window and return simulated paths in the same form as
the Bayesian model, so they share its age schedule, sub-national factors and backtest:

- :class:`RandomWalkDrift` — ARIMA(0,1,0) with drift: the change each year is the mean past
  change plus Gaussian noise;
- :class:`ArimaTFR` — ARIMA(p,1,q) with drift (default (1,1,0)): momentum in the changes;
- :class:`DampedTrendETS` — additive-error exponential smoothing with a damped additive trend;
- :class:`ConstantTFR` — the last observed TFR in every year and draw (no uncertainty).

Parameters are point estimates (maximum likelihood); simulated paths carry the shocks but not
the parameter uncertainty, as in the usual use of these models.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from forecast.core.options import Where, as_whole
from forecast.models.fertility.trajectory import TfrTrajectoryFertility


class _PerSeriesBaseline(TfrTrajectoryFertility):
    """Fit each target's own log TFR series and simulate ``draws`` paths."""

    def simulate_log(self, log_tfr: np.ndarray, steps: int, rng: np.random.Generator
                     ) -> np.ndarray:
        """Simulated log TFR (steps, draws) after the end of ``log_tfr``."""
        raise NotImplementedError

    def forecast_tfr(self, pool: xr.DataArray, years: np.ndarray, targets: list[str]
                     ) -> xr.DataArray:
        window = self.training_window(pool)
        order = [str(r) for r in pool["pool_region"].values]
        paths = []
        for target in targets:  # one stream per population: draws do not depend on the others
            rng = np.random.default_rng([self.random_seed, 3, order.index(target)])
            y = np.log(window.sel(pool_region=target).dropna("year").values)
            with warnings.catch_warnings():  # convergence chatter from statsmodels' optimisers
                warnings.simplefilter("ignore")
                paths.append(np.exp(self.simulate_log(y, len(years), rng)))
        return xr.DataArray(np.stack(paths), dims=("pool_region", "year", "draw"),
                            coords={"pool_region": targets, "year": np.asarray(years),
                                    "draw": np.arange(self.draws)},
                            attrs={"units": "children per woman"})


class RandomWalkDrift(_PerSeriesBaseline):
    """Random walk with drift on log TFR (ARIMA(0,1,0) with a constant change)."""

    def simulate_log(self, log_tfr, steps, rng):
        result = ARIMA(log_tfr, order=(0, 1, 0), trend="t").fit()
        return _as_paths(result.simulate(steps, repetitions=self.draws, anchor="end",
                                         **_rng_kw(rng)))


class ArimaTFR(_PerSeriesBaseline):
    """ARIMA(p,1,q) with drift on log TFR."""

    OPTIONS = _PerSeriesBaseline.OPTIONS.extended({"order": Where(
        lambda order: isinstance(order, list) and len(order) == 3
        and all(as_whole(o) is not None and as_whole(o) >= 0 for o in order),
        what="three whole numbers >= 0 (p, d, q), e.g. [1, 1, 0]")})

    def __init__(self, order: tuple[int, int, int] = (1, 1, 0), **kwargs):
        super().__init__(**kwargs)
        self.order = tuple(int(o) for o in order)

    def simulate_log(self, log_tfr, steps, rng):
        result = ARIMA(log_tfr, order=self.order, trend="t").fit()
        return _as_paths(result.simulate(steps, repetitions=self.draws, anchor="end",
                                         **_rng_kw(rng)))


class DampedTrendETS(_PerSeriesBaseline):
    """Exponential smoothing, additive errors, damped additive trend, on log TFR."""

    def simulate_log(self, log_tfr, steps, rng):
        result = ETSModel(log_tfr, error="add", trend="add", damped_trend=True).fit(disp=False)
        return _as_paths(result.simulate(steps, repetitions=self.draws, anchor="end",
                                         **_rng_kw(rng)))


class ConstantTFR(_PerSeriesBaseline):
    """The last observed TFR, every year and draw."""

    def simulate_log(self, log_tfr, steps, rng):
        return np.full((steps, self.draws), log_tfr[-1])


def _rng_kw(rng: np.random.Generator) -> dict:
    """statsmodels' keyword for a random generator in ``simulate`` (``rng`` since 0.15)."""
    import inspect

    from statsmodels.tsa.statespace.mlemodel import MLEResults

    params = inspect.signature(MLEResults.simulate).parameters
    return {"rng": rng} if "rng" in params else {"random_state": rng}


def _as_paths(simulated) -> np.ndarray:
    """statsmodels' simulate output as an array (steps, draws)."""
    arr = np.asarray(simulated, dtype=float)
    return arr.reshape(arr.shape[0], -1)
