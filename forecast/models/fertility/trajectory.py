"""Fertility from TFR trajectories: what the probabilistic models share.

A model of this kind forecasts draws of the national total fertility rate; this base class
turns them into the projection's ASFR (:class:`forecast.models.fertility.schedule.AgeSchedule`) and,
where the inputs have sub-national regions, into regional ASFR with the Scale-AR(1) factors
of :func:`forecast.demography.subnational.scale_factor_paths`. The sex ratio at birth is held at its
last observed value. Subclasses implement :meth:`forecast_tfr` only.
"""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from forecast.core.by_year import lazily
from forecast.core.inputs import Inputs
from forecast.core.options import Choice, Group, Number, Whole, explicit_seed
from forecast.models.fertility.schedule import SCHEDULE_OPTIONS, AgeSchedule
from forecast.demography.regional_levels import level_paths
from forecast.demography.subnational import ANNUAL_RHO, ANNUAL_SIGMA, scale_factor_paths
from forecast.demography.timing import calendar_rates

log = logging.getLogger(__name__)


#: Fewest observed years a TFR model may learn from: the models estimate a drift, momentum
#: and the size of shocks from the annual changes of log TFR.
MIN_WINDOW = 10


#: The pool's boolean coordinates (pool_region, year) that the inputs may carry as
#: ``tfr_pool_<flag>`` (:mod:`forecast.data.official_series`).
POOL_FLAGS = ("measurement_error", "unsmoothed")


def tfr_pool(inputs: Inputs) -> xr.DataArray:
    """The inputs' TFR pool (pool_region, year) with, where the inputs mark them, the values
    that carry a measurement error and the unsmoothed values as its coordinates
    ``measurement_error`` and ``unsmoothed`` (:mod:`forecast.data.official_series`)."""
    pool = inputs["tfr_pool"]
    for flag in POOL_FLAGS:
        if f"tfr_pool_{flag}" in inputs:
            flags = inputs[f"tfr_pool_{flag}"].fillna(False).astype(bool)
            pool = pool.assign_coords({flag: flags.transpose(*pool.dims)})
    return pool


class TfrTrajectoryFertility:
    """Base class: national TFR draws -> ASFR by region, age, year and draw.

    Parameters
    ----------
    draws : number of draws handed to the projection
    random_seed : seed of every random number the model draws
    window : observed years (ending at the last observed year) the TFR model learns from
    schedule : keyword arguments of :class:`AgeSchedule`
    subnational : ``method``: ``fitted`` draws each region's factor from the state-space fit
        the inputs carry (:func:`forecast.demography.regional_levels.level_paths`: its
        starting level's error, the dynamics fitted to China's provinces and their parameter
        uncertainty), falling back on the Scale-AR(1) where the inputs have no fit;
        ``scale_ar1`` always uses the Scale-AR(1) with ``rho`` and ``sigma`` (annual;
        default bayesTFR's) from the inputs' point factor
    """

    #: The options of ``configs/fertility/<model>.yaml`` (the arguments below).
    OPTIONS = Group({
        "draws": Whole(1),
        "window": Whole(MIN_WINDOW, what=f"a whole number of observed years >= {MIN_WINDOW}"),
        "schedule": SCHEDULE_OPTIONS,
        "subnational": Group({"method": Choice(("fitted", "scale_ar1")),
                              "rho": Number(0, 1, hi_open=True), "sigma": Number(0)}),
    }, rules=(explicit_seed,))

    #: What ``diagnostics`` holds after :meth:`rates` (empty for models without MCMC).
    diagnostics: dict

    #: The fitted posterior (ArviZ InferenceData) of a Bayesian model; None for the others.
    posterior = None

    def __init__(self, draws: int = 1000, random_seed: int = 20240601, window: int = 30,
                 schedule: dict | None = None, subnational: dict | None = None):
        self.draws = int(draws)
        self.random_seed = int(random_seed)
        self.window = int(window)
        self.schedule = AgeSchedule(**(schedule or {}))
        sub = {"method": "fitted", "rho": ANNUAL_RHO, "sigma": ANNUAL_SIGMA,
               **(subnational or {})}
        self.rho, self.sigma = float(sub["rho"]), float(sub["sigma"])
        self.subnational_method = str(sub["method"])
        self.diagnostics = {}

    # -- to implement ------------------------------------------------------------------
    def forecast_tfr(self, pool: xr.DataArray, years: np.ndarray, targets: list[str]
                     ) -> xr.DataArray:
        """TFR draws (pool_region, year, draw), children per woman, for ``targets`` in
        ``years`` (all after the pool's last year), learning from ``pool`` (pool_region, year)."""
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------
    def training_window(self, pool: xr.DataArray) -> xr.DataArray:
        """The last ``window`` years of ``pool``."""
        last = int(pool["year"].max())
        return pool.sel(year=slice(last - self.window + 1, last))

    def rates(self, inputs: Inputs, years: np.ndarray) -> xr.Dataset:
        """ASFR (region, age, year, draw) and SRB (region, year) for the calendar ``years``."""
        last = inputs.last_observed_year
        target = inputs.tfr_target
        pool = tfr_pool(inputs)
        # observed TFR after the last observed rates (a year whose births were added to the
        # observed series): the same in every draw, the forecast starting after it
        known = pool.sel(pool_region=target, drop=True).dropna("year").sel(
            year=slice(last + 1, int(years[-1]))).drop_vars(list(POOL_FLAGS), errors="ignore")
        future = np.arange(last + 1 + known.sizes["year"], int(years[-1]) + 1)
        tfr = None
        if len(future):
            log.info("Forecasting TFR with %s (%d draws)", type(self).__name__, self.draws)
            tfr = self.forecast_tfr(pool, future, [target]).sel(pool_region=target, drop=True)
        if known.sizes["year"]:
            observed = known.expand_dims(draw=np.arange(self.draws)).transpose("year", "draw")
            tfr = observed if tfr is None else xr.concat(
                [observed, tfr.transpose("year", "draw")], dim="year")
        return self.rates_from_tfr(inputs, years, tfr)

    def rates_from_tfr(self, inputs: Inputs, years: np.ndarray,
                       tfr: xr.DataArray | None) -> xr.Dataset:
        """Rates for the calendar ``years`` given national TFR draws (year, draw) after the
        last observation; a large ASFR of many regions is lazy (:mod:`forecast.core.by_year`)."""
        base, last = inputs.base_year, inputs.last_observed_year
        regions = list(inputs["region"].values)
        national = inputs.nation
        observed = inputs["asfr"].sel(region=national, drop=True).sel(year=slice(base, last))
        draws = np.arange(self.draws)
        national_asfr = observed.expand_dims(draw=draws)
        if tfr is not None:
            tfr = tfr.assign_coords(draw=draws)
            pattern = self.schedule.pattern(inputs["asfr"].sel(region=national, drop=True)
                                            .sel(year=slice(None, last)), tfr["year"].values)
            national_asfr = xr.concat([national_asfr, tfr * pattern], dim="year")
        national_asfr = national_asfr.transpose("age", "year", "draw")
        if len(regions) > 1:
            factors = self.regional_factors(inputs, national_asfr["year"].values)
            # made a year at a time when the projection reads them, where large
            asfr = national_asfr * lazily(factors, national_asfr.nbytes * len(regions))
        else:
            asfr = national_asfr.expand_dims(region=regions)
        asfr = asfr.transpose("region", "age", "year", "draw")
        return xr.Dataset({"asfr": calendar_rates(asfr, years),
                           "srb": calendar_rates(inputs["srb"], years, last)})

    def regional_factors(self, inputs: Inputs, years: np.ndarray) -> xr.DataArray:
        """Fertility factors (region, year, draw) of the regions against the nation (whose
        factor is 1) for the calendar ``years`` from the base year on."""
        rng = np.random.default_rng([self.random_seed, 1])
        base, national = inputs.base_year, inputs.nation
        if self.subnational_method == "fitted" and "fertility_level_mean" in inputs:
            provinces = [r for r in inputs["region"].values if r != national]
            fit = inputs.arrays
            start = xr.Dataset({"mean": fit["fertility_level_mean"].sel(region=provinces),
                                "sd": fit["fertility_level_sd"].sel(region=provinces)})
            dynamics = xr.Dataset({name: fit[f"fertility_dynamics_{name}"] for name in
                                   ("theta", "theta_cov")})
            paths = level_paths(start.drop_vars("region_name", errors="ignore"), dynamics,
                                base, years, self.draws, rng)
            nation = xr.ones_like(paths.isel(region=0)).expand_dims(region=[national])
            return xr.concat([nation, paths], dim="region").sel(
                region=list(inputs["region"].values))
        return scale_factor_paths(inputs["fertility_factor"], base, years, self.draws, rng,
                                  self.rho, self.sigma, fixed=[national])
