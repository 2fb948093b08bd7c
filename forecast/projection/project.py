"""From inputs and component models to a projection Dataset (pure; no files, no Hydra)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np
import xarray as xr

from forecast.core.by_year import computed
from forecast.core.inputs import Inputs
from forecast.demography.ccmpp import project
from forecast.demography.population_stream import population_total
from forecast.regions.county_projection import project_counties
from forecast.regions.county_engine import Compute, county_summaries
from forecast.core.errors import InputError
from forecast.data import config_int
from forecast.demography.indicator_counts import YOUNG_AGES
from forecast.demography.lifetable import life_expectancy_at_birth
from forecast.projection.scenario import Scenario, apply_scenario
from forecast.demography.subnational import project_with_nation
from forecast.demography.calibration import apply_factors, calibration_factors

log = logging.getLogger(__name__)


def checked_horizon(inputs: Inputs, horizon) -> int:
    """``horizon`` as a year after the inputs' base year, or an InputError naming it."""
    base = inputs.base_year
    horizon = config_int("horizon", horizon)
    if horizon <= base:
        raise InputError(f"config, horizon: got {horizon}; expected a year after the base year "
                         f"{base}.")
    return horizon


def project_inputs(inputs: Inputs, fertility, mortality, migration, horizon: int,
                   level_years: dict[str, int] | None = None,
                   scenario: Scenario | None = None, dtype: str = "float64",
                   compute: Compute = Compute(), county_extra=None,
                   population_quantiles: Sequence[float] | None = None) -> xr.Dataset:
    """Project ``inputs`` from their base year to 1 July of ``horizon``.

    Fertility, mortality and the sex ratio at birth are taken by calendar year up to
    ``horizon``, net migration by step. Where the inputs hold observed national births and
    deaths (``observed_births``, ``observed_deaths``), the rates are first calibrated to
    reproduce them (:mod:`forecast.demography.calibration`; ``level_years`` as there); then the
    ``scenario`` changes the calibrated rates (:mod:`forecast.projection.scenario`; default: none).
    ``dtype`` is the projection's floating-point type (calibration always uses float64).
    County-level units (inputs of :func:`forecast.data.county_census.load_china_counties`) are
    projected within their province, with every draw
    (:func:`forecast.regions.county_projection.project_counties`) or in blocks summarised over draws
    (:func:`forecast.regions.county_engine.county_summaries`, variable ``county_summary``
    (unit, indicator, year, quantile), with the indicators ``county_extra`` adds from the
    same draws, e.g. the demand stage's) as ``compute`` says. Regions with a ``national_region``
    attribute are projected with births raked to the nation
    (:func:`forecast.demography.subnational.project_with_nation`); where the inputs name
    ``report_regions``, only those are kept. With ``population_quantiles`` (probabilities),
    the population is streamed (:func:`forecast.demography.ccmpp.project`): its quantiles
    over draws by sex and age, each draw's total and ages 0-5, unless a province's counties
    keep their draws.

    Returns the :func:`forecast.demography.ccmpp.project` Dataset (step flows NaN in the horizon
    year, which has no step) plus ``population_yearend`` (region, year, draw), persons at 31
    December, ``tfr`` (region, year, draw), children per woman, the total fertility rate the
    projection used (ASFR summed over age; a region's births are then raked to the nation's),
    and, when calibrated, ``calibration_fertility`` and ``calibration_mortality``
    (year[, draw]) with ``births_uncalibrated`` and ``deaths_uncalibrated`` (year[, draw]).
    """
    base, horizon = inputs.base_year, checked_horizon(inputs, horizon)
    rates, factors = projection_rates(inputs, fertility, mortality, migration, horizon,
                                      level_years, scenario)
    population = inputs["population"]
    national = inputs.nation
    log.info("Projecting %d region(s) from 1 July %d to 1 July %d", population.sizes["region"],
             base, horizon)
    counties = list(inputs.counties_of) if inputs.has_counties else None
    seed = int(getattr(fertility, "random_seed", 0))  # of the counties' level draws
    if counties:  # the provinces, their TFR and each one's counties read it: made once
        rates["asfr"] = computed(rates["asfr"])
    county_draws = bool(counties) and compute.keeps_county_draws(len(counties))
    streamed = ({} if population_quantiles is None or county_draws else
                {"population_quantiles": population_quantiles, "young_ages": len(YOUNG_AGES)})
    progress = _step_log(time.perf_counter())
    if inputs.national_region is not None and population.sizes["region"] > 1:
        result = project_with_nation(population, rates, national, keep_migration_of=counties,
                                     dtype=dtype, progress=progress, **streamed)
    else:
        result = project(population, **rates, dtype=dtype, progress=progress, **streamed)
    result["tfr"] = total_fertility(rates["asfr"], result)
    # what follows reads fertility, mortality and the sex ratio; the migration inputs
    # (region x step x draw x sex x age) are in the result now, and their memory is let go
    rates = {k: rates[k] for k in ("asfr", "mx", "srb")}
    summary = None
    if county_draws:
        log.info("Projecting the %d county-level units of %s within it",
                 inputs.sizes["county"], counties[0])
        result = xr.concat([result.drop_vars("net_migration_by_age"),
                            project_counties(result, rates, inputs, dtype, seed)],
                           dim="region",
                           data_vars="all", coords="different", compat="equals", join="outer")
    elif counties:
        summary = county_summaries(result, rates, inputs, compute, dtype, seed, county_extra)
        result = result.drop_vars("net_migration_by_age")
    if inputs.report_regions is not None:
        reported = list(inputs.report_regions)
        projected = set(result["region"].values)
        result = result.sel(region=[r for r in reported if r in projected])
        if summary is not None:
            summarised = set(summary["unit"].values)
            summary = summary.sel(unit=[u for u in reported if u in summarised])
    result["population_yearend"] = yearend_population(result)
    result["life_expectancy"] = life_expectancy(_pick(rates["mx"], [national]))
    if factors is not None:
        result["calibration_fertility"] = factors["fertility"].assign_attrs(
            units="1", description="Factor on the year's ASFR that reproduces observed births")
        result["calibration_mortality"] = factors["mortality"].assign_attrs(
            units="1", description="Factor on the year's death rates that reproduces observed "
            "deaths")
        for flow in ("births", "deaths"):
            result[f"{flow}_uncalibrated"] = factors[f"{flow}_before"].assign_attrs(
                units="persons per year", description=f"National {flow} of the observed years "
                "projected before calibration")
    if summary is not None:
        result["county_summary"] = summary
    clamped = float(result["migration_clamped"].sum())
    if clamped > 0:
        log.warning("Net emigration exceeding the population present was not applied: "
                    "%.1f persons in all (variable migration_clamped)", clamped)
    return result.assign_attrs(base_year=base, horizon=int(horizon),
                               jump_off_year=inputs.jump_off)


#: Steps between two lines of a projection's progress in the log.
LOG_EVERY_STEPS = 5


def _step_log(started: float):
    """A ``progress`` callback of :func:`forecast.demography.ccmpp.project` that logs every
    :data:`LOG_EVERY_STEPS` steps and the last, with the seconds since ``started``."""
    def logged(done: int, steps: int) -> None:
        if done % LOG_EVERY_STEPS == 0 or done == steps:
            log.info("  %d of %d steps projected at %.1f s", done, steps,
                     time.perf_counter() - started)
    return logged


def projection_rates(inputs: Inputs, fertility, mortality, migration, horizon: int,
                     level_years: dict[str, int] | None = None,
                     scenario: Scenario | None = None) -> tuple[dict, dict | None]:
    """The rates :func:`project_inputs` projects with (``asfr``, ``srb``, ``mx`` by calendar
    year, net migration by step; calibrated to the observed years where the inputs have
    them, then changed by ``scenario``) and the calibration factors (None without)."""
    base = inputs.base_year
    years, steps = np.arange(base, horizon + 1), np.arange(base, horizon)
    fert = fertility.rates(inputs, years)
    migrants = migration.rates(inputs, steps)
    rates = {"asfr": fert["asfr"], "srb": fert["srb"],
             "mx": _shared_over_regions(mortality.rates(inputs, years)),
             **{k: v for k, v in migrants.data_vars.items()}}
    population = inputs["population"]
    national = inputs.nation
    factors = None
    if "observed_births" in inputs:
        log.info("Calibrating to the observed births and deaths of %s",
                 _years_text(inputs["observed_births"], base, horizon))
        # the nation's rates, made once (where lazy) for the calibration's projections
        nation_rates = {k: computed(_pick(v, [national])) for k, v in rates.items()}
        factors = computed(calibration_factors(
            population.sel(region=[national]), nation_rates,
            inputs[["observed_births", "observed_deaths"]], level_years))
        rates = apply_factors(rates, factors)
    if scenario is not None:
        rates = apply_scenario(rates, inputs, scenario, national)
    return rates, factors


def yearend_population(result: xr.Dataset) -> xr.DataArray:
    """Population at 31 December (region, year, draw), persons: 1 July plus half the
    calendar year's births and deaths and half the step's net migration (NaN in the
    horizon year, which has no step)."""
    flows = (result["births_calendar"] - result["deaths_calendar"]
             + result["net_migration"]).sum("sex", skipna=False)
    total = population_total(result) + 0.5 * flows
    return total.transpose("region", "year", "draw").assign_attrs(
        units="persons", description="Population at 31 December of `year`")


def total_fertility(asfr: xr.DataArray, result: xr.Dataset) -> xr.DataArray:
    """The TFR (region, year, draw), children per woman, of the calendar-year ``asfr`` for
    the regions and years of ``result`` (in memory, whether ``asfr`` is lazy or not)."""
    tfr = asfr.sum("age").sel(region=result["region"].values, year=result["year"].values)
    if "draw" not in tfr.dims:
        tfr = tfr.expand_dims(draw=result["draw"].values)
    return computed(tfr.transpose("region", "year", "draw")).assign_attrs(
        units="children per woman", description="Total fertility rate of the calendar year "
        "(ASFR summed over single ages)")


def life_expectancy(mx: xr.DataArray) -> xr.DataArray:
    """Period life expectancy at birth (sex, year[, draw]), years, of the national death
    rates the projection used (after calibration)."""
    mx = mx.isel(region=0, drop=True) if "region" in mx.dims else mx
    e0 = life_expectancy_at_birth(mx)
    return e0.assign_attrs(units="years", description="Period life expectancy at birth of the "
                           "national death rates, calendar year")


def _shared_over_regions(mx: xr.DataArray) -> xr.DataArray:
    """``mx`` without its region dim when every region has the same rates (the projection
    broadcasts it), which keeps draws of a national schedule small in memory."""
    if "region" not in mx.dims or mx.sizes["region"] == 1:
        return mx
    first = mx.isel(region=0, drop=True)
    return first if bool((mx == first).all()) else mx


def _pick(da: xr.DataArray, regions: list[str]) -> xr.DataArray:
    return da.sel(region=regions) if "region" in da.dims else da


def _years_text(series: xr.DataArray, first: int, last: int) -> str:
    years = series.dropna("observed_year")["observed_year"].values
    years = years[(years >= first) & (years <= last)]
    return f"{years.min()}-{years.max()}" if len(years) else "no year"
