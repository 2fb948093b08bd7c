"""What a planner checks first: the projection against the published figures of the years
already observed, and the calibration factors that made them agree (for ``run.json``)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.core.inputs import Inputs

#: Largest relative differences accepted in the observed years (planners' check).
TOLERANCES = {"births": 0.005, "deaths": 0.02, "population_yearend": 0.003}


def observed_comparison(projection: xr.Dataset, inputs: Inputs, region: str) -> dict:
    """Per observed year from the base year to the jump-off: observed and projected (median
    over draws) national births, deaths (persons per calendar year) and population at 31
    December (persons), their relative difference, whether it is within
    :data:`TOLERANCES`, and the year's calibration factors."""
    if "observed_births" not in inputs:
        return {}
    nation = projection.sel(region=region)
    projected = {"births": nation["births_calendar"].sum("sex"),
                 "deaths": nation["deaths_calendar"].sum("sex"),
                 "population_yearend": nation["population_yearend"]}
    years = [int(y) for y in inputs["observed_year"].values
             if projection.attrs["base_year"] <= y <= projection.attrs["jump_off_year"]
             and y in projection["year"].values]
    rows = {}
    for year in years:
        row = {}
        for name, series in projected.items():
            observed = float(inputs[f"observed_{name}"].sel(observed_year=year))
            value = float(series.sel(year=year).median("draw"))
            if np.isnan(observed) or np.isnan(value):
                continue
            difference = value / observed - 1.0
            row[name] = {"observed": round(observed), "projected": round(value),
                         "difference_percent": round(100 * difference, 3),
                         "within_tolerance": bool(abs(difference) <= TOLERANCES[name])}
        for name, flow in (("fertility", "births"), ("mortality", "deaths")):
            if f"calibration_{name}" in projection:
                row.setdefault(flow, {})
                row[flow]["calibration_factor"] = round(float(
                    projection[f"calibration_{name}"].sel(year=year).median()), 6)
                row[flow]["uncalibrated"] = round(float(
                    projection[f"{flow}_uncalibrated"].sel(year=year).median()))
        rows[str(year)] = row
    return {"tolerance_percent": {k: 100 * v for k, v in TOLERANCES.items()},
            "years": rows,
            "births_derived_from_crude_rate": list(inputs.observed_births_derived),
            "deaths_derived_from_crude_rate": list(inputs.observed_deaths_derived)}


def official_tfr_summary(inputs: Inputs) -> dict:
    """China's official TFR series the national model learned from
    (:mod:`forecast.data.official_series`): per year its value (children per woman) and
    whether it carries a measurement error (``revised``: NBS's estimates revised after the
    census) or not (``census``); empty where the inputs have none."""
    if "tfr_official" not in inputs:
        return {}
    series = inputs["tfr_official"].dropna("observed_year")
    revised = inputs["tfr_pool_measurement_error"].sel(pool_region=inputs.tfr_target)
    return {str(int(y)): {"tfr": round(float(v), 4),
                          "kind": "revised" if bool(revised.sel(year=int(y))) else "census"}
            for y, v in zip(series["observed_year"].values, series.values)}


def life_expectancy_summary(projection: xr.Dataset, years: list[int]) -> dict:
    """Life expectancy at birth (years) by sex in ``years``: median and 80 % interval."""
    e0 = projection["life_expectancy"]
    out = {}
    for year in years:
        if year not in e0["year"].values:
            continue
        one = e0.sel(year=year)
        q = one.quantile([0.1, 0.5, 0.9], dim="draw") if "draw" in one.dims else None
        out[str(year)] = {str(s): ({"median": round(float(q.sel(sex=s, quantile=0.5)), 2),
                                    "lower_80": round(float(q.sel(sex=s, quantile=0.1)), 2),
                                    "upper_80": round(float(q.sel(sex=s, quantile=0.9)), 2)}
                                   if q is not None else round(float(one.sel(sex=s)), 2))
                          for s in one["sex"].values}
    return out


#: Largest relative difference of a province's year-end population in the observed years
#: that the planners' check accepts: the census base differs from NBS's provincial series by
#: up to 0.7 % at the end of 2020 (Hubei), and provincial births and deaths after 2019 are the
#: model's, not published.
PROVINCE_TOLERANCE = 0.01


def provincial_comparison(projection: xr.Dataset, inputs: Inputs) -> dict:
    """Per province and observed year from the base year: published and projected (median
    over draws) population at 31 December (persons) and their relative difference."""
    if "observed_province_population_yearend" not in inputs:
        return {}
    observed = inputs["observed_province_population_yearend"]
    years = [int(y) for y in observed["observed_year"].values
             if projection.attrs["base_year"] <= y < projection.attrs["horizon"]]
    rows = {}
    for code in observed["region"].values:
        if code not in projection["region"].values:
            continue
        row = {}
        for year in years:
            published = float(observed.sel(region=code, observed_year=year))
            value = float(projection["population_yearend"].sel(region=code, year=year)
                          .median("draw"))
            if np.isnan(published) or np.isnan(value):
                continue
            difference = value / published - 1.0
            row[str(year)] = {"observed": round(published), "projected": round(value),
                              "difference_percent": round(100 * difference, 3),
                              "within_tolerance": bool(abs(difference) <= PROVINCE_TOLERANCE)}
        if row:
            rows[str(code)] = row
    return {"tolerance_percent": 100 * PROVINCE_TOLERANCE, "population_yearend": rows}
