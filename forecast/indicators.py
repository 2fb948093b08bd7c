"""Planner indicators from a projection, and their summary over draws.

Every indicator is a DataArray (region, year, draw) with a unit in words. The summary gives,
per region and year, the median and the central 80 % and 95 % intervals over draws (all equal
for a deterministic run).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

#: Indicator name -> (unit, meaning), in output order.
INDICATORS: dict[str, tuple[str, str]] = {
    "births": ("persons per year", "Live births in the calendar year"),
    "population": ("persons", "Total population at 1 July"),
    **{f"population_age_{a}": ("persons", f"Population aged {a} (completed years) at 1 July")
       for a in range(6)},
    "population_0_2": ("persons", "Population aged 0-2 at 1 July (under 3: childcare ages)"),
    "population_3_5": ("persons", "Population aged 3-5 at 1 July (kindergarten ages)"),
}
#: Output column -> quantile over draws.
QUANTILES = {"median": 0.5, "lower_80": 0.1, "upper_80": 0.9, "lower_95": 0.025,
             "upper_95": 0.975}
COLUMNS = ["region_code", "region_name", "scenario", "year", "indicator", "unit", *QUANTILES]


def planner_indicators(projection: xr.Dataset) -> dict[str, xr.DataArray]:
    """The indicators of :data:`INDICATORS` as DataArrays (region, year, draw)."""
    by_age = projection["population"].sum("sex")
    births = projection["births_calendar"].dropna("year", how="all")
    out = {"births": births.sum("sex"),
           "population": by_age.sum("age")}
    for a in range(6):
        out[f"population_age_{a}"] = by_age.sel(age=a, drop=True)
    out["population_0_2"] = by_age.sel(age=[0, 1, 2]).sum("age")
    out["population_3_5"] = by_age.sel(age=[3, 4, 5]).sum("age")
    return {k: out[k].transpose("region", "year", "draw") for k in INDICATORS}


def summary_table(indicators: dict[str, xr.DataArray], scenario: str) -> pd.DataFrame:
    """Long planner table: one row per region x scenario x year x indicator (see COLUMNS).

    Years where an indicator is undefined (births in the base year) are left out.
    """
    frames = []
    for name, da in indicators.items():
        q = da.quantile(list(QUANTILES.values()), dim="draw", method="linear")
        wide = q.assign_coords(quantile=list(QUANTILES)).to_dataset("quantile").to_dataframe()
        wide = wide.reset_index().dropna(subset=["median"])
        wide["indicator"] = name
        wide["unit"] = INDICATORS[name][0]
        frames.append(wide)
    table = pd.concat(frames, ignore_index=True)
    table = table.rename(columns={"region": "region_code"})
    table["scenario"] = scenario
    table["year"] = table["year"].astype(int)
    order = {name: i for i, name in enumerate(INDICATORS)}
    table = table.sort_values(["region_code", "scenario", "indicator", "year"],
                              key=lambda s: s.map(order) if s.name == "indicator" else s)
    return table[COLUMNS].reset_index(drop=True)


def check_quantile_order(table: pd.DataFrame) -> None:
    """Raise AssertionError unless lower_95 <= lower_80 <= median <= upper_80 <= upper_95."""
    v = table[["lower_95", "lower_80", "median", "upper_80", "upper_95"]].to_numpy()
    if not np.all(np.diff(v, axis=1) >= -1e-9 * np.maximum(1.0, np.abs(v[:, :-1]))):
        raise AssertionError("quantile columns out of order")
