"""From inputs and component models to a projection Dataset (pure; no files, no Hydra)."""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from forecast.ccmpp import project
from forecast.errors import InputError
from forecast.data import config_int
from forecast.subnational import project_with_nation
from forecast.timing import calendar_from_steps

log = logging.getLogger(__name__)


def checked_horizon(inputs: xr.Dataset, horizon) -> int:
    """``horizon`` as a year after the inputs' base year, or an InputError naming it."""
    base = int(inputs.attrs["base_year"])
    horizon = config_int("horizon", horizon)
    if horizon <= base:
        raise InputError(f"config, horizon: got {horizon}; expected a year after the base year "
                         f"{base}.")
    return horizon


def project_inputs(inputs: xr.Dataset, fertility, mortality, migration, horizon: int
                   ) -> xr.Dataset:
    """Project ``inputs`` from their base year to 1 July of ``horizon``.

    The projection runs one step past the horizon so that births in calendar year
    ``horizon`` are known, then keeps populations up to ``horizon``. Regions with a
    ``national_region`` attribute are projected with births raked to the nation
    (:func:`forecast.subnational.project_with_nation`); where the inputs name
    ``report_regions``, only those are kept.

    Returns the :func:`forecast.ccmpp.project` Dataset plus ``births_calendar`` (region, sex,
    year, draw): births in calendar year ``year``, persons per year.
    """
    base, horizon = int(inputs.attrs["base_year"]), checked_horizon(inputs, horizon)
    steps = np.arange(base, int(horizon) + 1)
    fert = fertility.rates(inputs, steps)
    rates = {"asfr": fert["asfr"], "srb": fert["srb"], "mx": mortality.rates(inputs, steps),
             "net_migration": migration.rates(inputs, steps)}
    population = inputs["population"]
    log.info("Projecting %d region(s) from 1 July %d to 1 July %d", population.sizes["region"],
             base, horizon)
    national = inputs.attrs.get("national_region")
    if national is not None and population.sizes["region"] > 1:
        result = project_with_nation(population, rates, national)
    else:
        result = project(population, **rates)
    births_calendar = calendar_from_steps(result["births"].isel(year=slice(0, -1)))
    if "report_regions" in inputs.attrs:
        result = result.sel(region=list(inputs.attrs["report_regions"]))
    result = result.sel(year=result["year"] <= horizon)
    flows = ["births", "deaths", "net_migration", "migration_clamped"]
    result[flows] = result[flows].where(result["year"] < horizon)
    result["births_calendar"] = births_calendar.reindex(year=result["year"]).assign_attrs(
        units="persons per year", description="Live births in calendar year `year` (mean of the "
        "two July-to-July steps that overlap it)")
    clamped = float(result["migration_clamped"].sum())
    if clamped > 0:
        log.warning("Net emigration exceeding the population present was not applied: "
                    "%.1f persons in all (variable migration_clamped)", clamped)
    return result.assign_attrs(base_year=base, horizon=int(horizon))
