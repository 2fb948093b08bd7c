"""Planner indicators from a projection, and their summary over draws.

Every indicator is a DataArray (region, year, draw) with a unit in words. The summary gives,
per region and year, the median and the central 80 % and 95 % intervals over draws (all equal
for a deterministic run).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from forecast.core.draw_quantiles import quantiles_of
from forecast.core.registry import INDICATORS, QUANTILES  # noqa: F401  (re-exported)
from forecast.demography.population_stream import population_total, young_population
from forecast.demography.indicator_counts import YOUNG_AGES, count_indicators

COLUMNS = ["region_code", "region_name", "scenario", "year", "indicator", "unit", *QUANTILES]


def planner_indicators(projection: xr.Dataset) -> dict[str, xr.DataArray]:
    """The indicators of :data:`INDICATORS` as DataArrays (region, year, draw)."""
    # the population has no NaN: sums that do not look for one (the same numbers, faster)
    by_age = young_population(projection).sum("sex", skipna=False)
    births = projection["births_calendar"].dropna("year", how="all")
    out = count_indicators(births.sum("sex"), population_total(projection),
                           [by_age.sel(age=a, drop=True) for a in YOUNG_AGES])
    out["tfr"] = projection["tfr"].sel(year=births["year"])
    out["population_yearend"] = projection["population_yearend"]
    out["net_migration"] = projection["net_migration"].sum("sex", skipna=False)
    return {k: out[k].transpose("region", "year", "draw").assign_attrs(units=INDICATORS[k][0])
            for k in INDICATORS}


def summary_table(indicators: dict[str, xr.DataArray], scenario: str,
                  region_names: dict[str, str]) -> pd.DataFrame:
    """Long planner table: one row per region x scenario x year x indicator (see COLUMNS),
    in the order of ``indicators``; each indicator's unit comes from its ``units`` attr and
    each row's ``region_name`` from ``region_names`` (region code -> name).

    Indicators without a ``draw`` dim (probabilities) repeat their value in all five columns.
    Years where an indicator is undefined (births in the base year, a standard before the
    year it applies from) are left out.
    """
    summaries = {}
    for name, da in indicators.items():
        da = da.drop_vars("region_name", errors="ignore")
        if "draw" not in da.dims:
            da = da.expand_dims(draw=[0])
        q = quantiles_of(da, list(QUANTILES.values()))  # undefined years stay NaN
        summaries[name] = q.assign_attrs(units=da.attrs["units"])
    return quantile_table(summaries, scenario, region_names)


def quantile_table(summaries: dict[str, xr.DataArray], scenario: str,
                   region_names: dict[str, str]) -> pd.DataFrame:
    """The long table of :func:`summary_table` from indicators already summarised:
    DataArrays (region, year, quantile) with the values of :data:`QUANTILES` as ``quantile``
    and a ``units`` attr."""
    frames = []
    for name, q in summaries.items():
        q = q.drop_vars([c for c in q.coords if c not in q.dims])
        wide = q.assign_coords(quantile=list(QUANTILES)).to_dataset("quantile").to_dataframe()
        wide = wide.reset_index().dropna(subset=["median"])
        wide["indicator"] = name
        wide["unit"] = q.attrs["units"]
        frames.append(wide)
    table = pd.concat(frames, ignore_index=True)
    table = table.rename(columns={"region": "region_code"})
    table["region_name"] = _names(table["region_code"], region_names)
    table["scenario"] = scenario
    table["year"] = table["year"].astype(int)
    return ordered(table, list(summaries))


def ordered(table: pd.DataFrame, indicators: list[str]) -> pd.DataFrame:
    """Rows of a long table by region code, scenario, indicator (in the order given), year."""
    order = {name: i for i, name in enumerate(indicators)}
    table = table.sort_values(["region_code", "scenario", "indicator", "year"],
                              key=lambda s: s.map(order) if s.name == "indicator" else s)
    return table[COLUMNS].reset_index(drop=True)


def county_table(summary: xr.DataArray, scenario: str) -> pd.DataFrame:
    """The long table of the county-level units summarised in blocks (``county_summary``
    of :func:`forecast.regions.county_engine.county_summaries`, unit x indicator x year x
    quantile), named by their ``unit_name``."""
    names = {str(c): str(n) for c, n in zip(summary["unit"].values, summary["unit_name"].values)}
    summaries = {str(name): summary.sel(indicator=name, drop=True).rename(unit="region")
                 .assign_attrs(units=str(unit))
                 for name, unit in zip(summary["indicator"].values,
                                       summary["indicator_unit"].values)}
    return quantile_table(summaries, scenario, names)


def county_wide_table(summary: xr.DataArray, indicators: list[str],
                      bounds: tuple[str, ...] = ()) -> pd.DataFrame:
    """The wide table of :func:`wide_table` for the county-level units summarised in
    blocks: medians of ``indicators`` (those the summary has), ``<name>_lower_80`` and
    ``<name>_upper_80`` of ``bounds``, named by ``unit_name``."""
    names = {str(c): str(n) for c, n in zip(summary["unit"].values, summary["unit_name"].values)}
    have = [n for n in indicators if n in set(summary["indicator"].values)]
    columns = {}
    for name in have:
        q = summary.sel(indicator=name, drop=True).rename(unit="region")
        columns[name] = q.sel(quantile=QUANTILES["median"], drop=True)
        if name in bounds:
            for side in ("lower_80", "upper_80"):
                columns[f"{name}_{side}"] = q.sel(quantile=QUANTILES[side], drop=True)
    frame = xr.Dataset({k: v.drop_vars([c for c in v.coords if c not in v.dims])
                        for k, v in columns.items()}).to_dataframe().reset_index()
    frame = frame.dropna(how="all", subset=list(columns))
    frame = frame.rename(columns={"region": "region_code"})
    frame["region_name"] = _names(frame["region_code"], names)
    frame["year"] = frame["year"].astype(int)
    return frame[["region_code", "region_name", "year", *columns]].sort_values(
        ["region_code", "year"]).reset_index(drop=True)


def wide_table(indicators: dict[str, xr.DataArray], region_names: dict[str, str],
               bounds: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per region x year, one column per indicator (median over draws); indicators
    in ``bounds`` also get ``<name>_lower_80`` and ``<name>_upper_80``. Rows where every
    indicator is undefined are left out; ``region_name`` from ``region_names``."""
    columns = {}
    for name, da in indicators.items():
        da = da.drop_vars("region_name", errors="ignore")
        if "draw" not in da.dims:
            da = da.expand_dims(draw=[0])
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
            columns[name] = da.median("draw")
            if name in bounds:
                low, high = QUANTILES["lower_80"], QUANTILES["upper_80"]
                bounds_80 = quantiles_of(da, [low, high])
                columns[f"{name}_lower_80"] = bounds_80.isel(quantile=0, drop=True)
                columns[f"{name}_upper_80"] = bounds_80.isel(quantile=1, drop=True)
    frame = xr.Dataset(columns).to_dataframe().reset_index()
    frame = frame.dropna(how="all", subset=list(columns))
    frame = frame.rename(columns={"region": "region_code"})
    frame["region_name"] = _names(frame["region_code"], region_names)
    frame["year"] = frame["year"].astype(int)
    first = ["region_code", "region_name", "year"]
    return frame[first + [c for c in columns]].sort_values(["region_code", "year"]
                                                           ).reset_index(drop=True)


def region_names(ds: xr.Dataset | xr.DataArray) -> dict[str, str]:
    """Region code -> name from the ``region_name`` coordinate of a projection."""
    return {str(c): str(n) for c, n in zip(ds["region"].values, ds["region_name"].values)}


def _names(codes: pd.Series, region_names: dict[str, str]) -> pd.Series:
    """Names of ``codes``; every code must have one (planner tables name every row)."""
    names = codes.astype(str).map(region_names)
    if names.isna().any():
        missing = sorted(set(codes[names.isna()].astype(str)))
        raise ValueError(f"no region name for {', '.join(missing)}")
    return names


#: Decimal places in the CSV files: counts, money and areas to 0.1, probabilities to 0.001.
DECIMALS, PROBABILITY_DECIMALS = 1, 3
#: Units written with other decimals than DECIMALS (rates as NBS publishes them).
UNIT_DECIMALS = {"probability": PROBABILITY_DECIMALS, "births per 1,000 population": 2,
                 "children per woman": 3}


def rounded_long(table: pd.DataFrame) -> pd.DataFrame:
    """The long table with values rounded for writing (see :data:`DECIMALS`)."""
    values = list(QUANTILES)
    rounded = table[values].round(DECIMALS).to_numpy(copy=True)
    for unit, decimals in UNIT_DECIMALS.items():
        rows = (table["unit"] == unit).to_numpy()
        rounded[rows] = table.loc[rows, values].round(decimals).to_numpy()
    return table.assign(**{c: rounded[:, i] for i, c in enumerate(values)})


def rounded_wide(table: pd.DataFrame) -> pd.DataFrame:
    """The wide table with values rounded for writing: ``prob_*`` columns to 0.001."""
    out = table.copy()
    for column in out.columns[3:]:
        out[column] = out[column].round(PROBABILITY_DECIMALS if column.startswith("prob_")
                                        else DECIMALS)
    return out


def check_quantile_order(table: pd.DataFrame) -> None:
    """Raise AssertionError unless lower_95 <= lower_80 <= median <= upper_80 <= upper_95."""
    v = table[["lower_95", "lower_80", "median", "upper_80", "upper_95"]].to_numpy()
    if not np.all(np.diff(v, axis=1) >= -1e-9 * np.maximum(1.0, np.abs(v[:, :-1]))):
        raise AssertionError("quantile columns out of order")
