"""Which figures a run and a sweep write (the drawing itself is :mod:`forecast.report.plots`).

A run's ``figures/`` (PNG, 150 dpi), for the nation and, when a run reports at most
:data:`MAX_REGION_FIGURES` regions besides it, for each of them (a county run: the nation and
the province):

- ``births_tfr_<code>.png`` — fan chart of births and TFR with 80 %/95 % bands and the
  observed history (published births; the UN's TFR estimates, which differ from the
  projection's calibrated TFR of the observed years: that one reproduces NBS's births with
  the census's women);
- ``pyramid_<code>.png`` — the base year against the last projected year (median, 80 %);

and, where the demand stage has a supply table, for every region but the nation:

- ``childcare_gap_<year>.png``, ``kindergarten_gap_<year>.png`` — gaps by region, sorted,
  with intervals, in :data:`GAP_YEAR` (or the last projected year if earlier); in a
  one-province county run also ``<gap>_counties_<year>.png`` for its county-level units
  that have supply (from the planner table, either engine);
- ``births_tfr_<code>.png`` for every unit of ``plot_units`` (from the planner table's
  quantiles: any region, prefecture or county-level unit of the run);

maps (:mod:`forecast.report.maps`) in that year of the provinces, or in a one-province
county run of its county-level units (from the planner table, so in either county engine):
``map_<indicator>_<year>.png`` for each of :data:`MAPS` that has a value somewhere
(childcare places per 1,000 residents, the childcare gap per 1,000 children aged 0-2,
P(childcare shortage)), and the change of the population aged 0-2 since the base year.

A sweep's ``figures/``: ``scenarios_<indicator>_<code>.png``, the scenarios' medians of the
nation's births, TFR, population 0-2 and 3-5 (the reference with its 80 % band).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import xarray as xr

from forecast.core.inputs import Inputs
from forecast.core.registry import QUANTILES
from forecast.report import maps, plots
from forecast.planning.indicators import region_names

#: A region-by-region figure set for at most this many regions besides the nation.
MAX_REGION_FIGURES = 5
#: The planning year of the gap figures (the end of the 15th five-year plan).
GAP_YEAR = 2030
#: Sweep figures: indicator -> (label, scale).
SWEEP_INDICATORS = {
    "births": ("出生人口（万人）Births (10k)", 1e4),
    "tfr": ("总和生育率 TFR (children per woman)", 1.0),
    "population_0_2": ("0-2岁人口（万人）Population 0-2 (10k)", 1e4),
    "population_3_5": ("3-5岁人口（万人）Population 3-5 (10k)", 1e4),
}
GAPS = {"childcare_gap": ("托位缺口", "childcare places gap", "托位 places"),
        "kindergarten_gap": ("幼儿园学位缺口", "kindergarten seats gap", "学位 seats")}


#: Maps: indicator -> (title, unit label, colour map, centre of a diverging scale, fixed
#: limits); ``childcare_gap_per_1000_children`` is the childcare gap per 1,000 children
#: aged 0-2.
MAPS = {
    "childcare_places_per_1000": ("每千人口托位数 childcare places per 1,000 residents",
                                  "托位/千人 places per 1,000", "YlGn", None, None),
    "childcare_gap_per_1000_children": ("托位缺口（每千名0-2岁儿童）childcare gap per 1,000 "
                                        "children aged 0-2", "托位 places (+ shortage)",
                                        "RdBu_r", 0.0, None),
    "prob_childcare_shortage": ("托位短缺概率 P(childcare shortage)", "概率 probability",
                                "OrRd", None, (0.0, 1.0)),
    "population_0_2_change": ("0-2岁人口变化 change of the population aged 0-2",
                              "% since the base year", "RdBu_r", 0.0, None),
}


def run_figures_writer(projection: xr.Dataset, indicators: dict[str, xr.DataArray],
                       inputs: Inputs, table: pd.DataFrame | None = None,
                       units: list | None = None) -> Callable[[Path], None]:
    """A writer of the run's ``figures/`` folder (see the module docstring); ``table`` is
    the planner table (forecast.csv) the maps and the county figures read, ``units`` the
    codes that get a fan chart besides."""
    return _folder_writer(lambda: run_figures(projection, indicators, inputs, table, units))


def run_figures(projection: xr.Dataset, indicators: dict[str, xr.DataArray],
                inputs: Inputs, table: pd.DataFrame | None = None, units: list | None = None):
    """(file name, Figure) pairs of a run, drawn one at a time."""
    names = region_names(projection)
    national = inputs.nation
    regions = [str(r) for r in projection["region"].values]
    shown = regions if len(regions) <= MAX_REGION_FIGURES + 1 else [national]
    provinces = inputs.counties_of
    if len(provinces) == 1:  # a province's county run: the nation and the province
        shown = [national, *provinces]
    base, last = int(projection["year"].values[0]), int(projection["year"].values[-1])
    for code in shown:
        label = plots.region_label(code, names)
        observed = _observed_births(inputs) if code == national else None
        observed_tfr = _observed_tfr(inputs) if code == national else None
        yield f"births_tfr_{code}.png", plots.births_tfr_fan(
            indicators["births"].sel(region=code), indicators["tfr"].sel(region=code),
            observed, observed_tfr, region_label=label,
            observed_tfr_label=("官方序列 official series (NBS births, census base)"
                                if "tfr_official" in inputs else "UN WPP 2024 估计 estimates"))
        yield f"pyramid_{code}.png", plots.population_pyramid(
            projection["population"].sel(region=code), base, last, region_label=label)
    year = min(GAP_YEAR, last)
    for name, (zh, en, unit) in GAPS.items():
        if name not in indicators:
            continue
        gap = indicators[name].sel(year=year).drop_sel(region=national, errors="ignore")
        if gap.sizes["region"] and bool(gap.notnull().all()):
            yield f"{name}_{year}.png", plots.demand_gap_bars(
                gap, names, year=year, title=f"{zh}（正为缺口，负为富余）{en}",
                unit_label=unit)
    if table is not None and len(inputs.counties_of) == 1:
        yield from county_gap_figures(table, year, names | dict(zip(
            table["region_code"], table["region_name"])))
    if table is not None and len(inputs.counties_of) <= 1:
        yield from map_figures(table, year, national)
    if table is not None:
        yield from unit_fans(table, [str(u) for u in units or []], shown)


def _summarised(table: pd.DataFrame, indicator: str, codes: list[str], dims: str,
                year: int | None = None) -> xr.DataArray:
    """The planner table's quantiles of ``indicator`` for ``codes`` as a DataArray
    (``dims``: "region" with ``year``, or "year" for one code) with dim ``quantile``."""
    rows = table[(table["indicator"] == indicator) & table["region_code"].isin(codes)]
    if year is not None:
        rows = rows[rows["year"] == year]
    index = "region_code" if dims == "region" else "year"
    values = rows.set_index(index)[list(QUANTILES)]
    return xr.DataArray(values.to_numpy(float), dims=(dims, "quantile"),
                        coords={dims: values.index.to_numpy(), "quantile": list(QUANTILES.values())})


def county_gap_figures(table: pd.DataFrame, year: int, names: dict):
    """``<gap>_counties_<year>.png``: one province's county-level units' gaps, sorted, with
    intervals, from the planner table (either engine), where they have supply."""
    units, provinces = maps.map_units(list(dict.fromkeys(table["region_code"])))
    if provinces:
        return
    for name, (zh, en, unit) in GAPS.items():
        gap = _summarised(table, name, units, "region", year).dropna("region")
        if gap.sizes["region"]:
            yield f"{name}_counties_{year}.png", plots.demand_gap_bars(
                gap, names, year=year, title=f"{zh}（区县；正为缺口，负为富余）{en}, counties",
                unit_label=unit)


def unit_fans(table: pd.DataFrame, units: list[str], done: list[str]):
    """``births_tfr_<code>.png`` of the ``units`` asked for (``plot_units``, checked against
    the run's units before: :func:`forecast.runs.pipeline.run_projection`) from their
    quantiles in the planner table."""
    names = dict(zip(table["region_code"], table["region_name"]))
    for code in units:
        if code in done or code not in names:
            continue
        births = _summarised(table, "births", [code], "year")
        tfr = _summarised(table, "tfr", [code], "year")
        yield f"births_tfr_{code}.png", plots.births_tfr_fan(
            births, tfr, region_label=plots.region_label(code, names))


def map_figures(table: pd.DataFrame, year: int, nation: str):
    """(file name, Figure) of the maps of :data:`MAPS` in ``year`` from the planner table
    (medians), of its provinces or its county-level units (:func:`maps.map_units`)."""
    medians = table[table["year"].isin([year, table["year"].min()])].pivot_table(
        index=["region_code", "year"], columns="indicator", values="median", aggfunc="first")
    names = dict(zip(table["region_code"], table["region_name"]))
    units, provinces = maps.map_units(list(dict.fromkeys(table["region_code"])), nation)
    base = int(table["year"].min())
    for name, (title, unit_label, cmap, centre, limits) in MAPS.items():
        values = {}
        for code in units:
            row = medians.loc[(code, year)] if (code, year) in medians.index else None
            values[code] = _map_value(name, row, medians, code, base)
        if not any(v is not None and np.isfinite(v) for v in values.values()):
            continue
        yield f"map_{name}_{year}.png", maps.unit_map(
            values, names, provinces, title=f"{title} {year}", unit_label=unit_label, cmap=cmap,
            centre=centre, limits=limits)


def _map_value(name: str, row, medians: pd.DataFrame, code: str, base: int) -> float:
    """One unit's value of map ``name`` (NaN where the table has none)."""
    get = lambda column: (float(row[column]) if row is not None and column in row.index  # noqa: E731
                          else np.nan)
    if name == "childcare_gap_per_1000_children":
        return get("childcare_gap") / get("population_0_2") * 1000
    if name == "population_0_2_change":
        before = (float(medians.loc[(code, base), "population_0_2"])
                  if (code, base) in medians.index else np.nan)
        return 100 * (get("population_0_2") / before - 1)
    return get(name)


def sweep_figures_writer(comparison: pd.DataFrame) -> Callable[[Path], None]:
    """A writer of a sweep's ``figures/`` folder from its comparison table."""
    return _folder_writer(lambda: sweep_figures(comparison))


def _folder_writer(figures: Callable) -> Callable[[Path], None]:
    """A writer that creates a folder and saves the (file name, Figure) pairs that
    ``figures()`` draws, one at a time, as PNGs in it."""
    def write(folder: Path) -> None:
        folder.mkdir()
        for name, fig in figures():
            plots.save_png(fig, folder / name)
    return write


def sweep_figures(comparison: pd.DataFrame, regions: list[str] | None = None):
    """(file name, Figure) pairs: scenario lines of the key indicators for ``regions``
    (default: the first region code of the table, the nation in China's runs)."""
    regions = regions or [sorted(comparison["region_code"].unique())[0]]
    for code in regions:
        rows = comparison[comparison["region_code"] == code]
        label = f"{code} {rows['region_name'].iloc[0]}"
        for indicator, (ylabel, scale) in SWEEP_INDICATORS.items():
            table = rows[rows["indicator"] == indicator]
            if table.empty:
                continue
            yield f"scenarios_{indicator}_{code}.png", plots.scenario_lines(
                table, indicator_label=ylabel, region_label=label,
                reference=str(table["reference"].iloc[0]) or None, scale=scale)


def _observed_births(inputs: Inputs) -> xr.DataArray | None:
    """Published national births (year), persons per year, where the inputs hold them."""
    if "observed_births" not in inputs:
        return None
    return inputs["observed_births"].rename(observed_year="year").dropna("year")


def _observed_tfr(inputs: Inputs) -> xr.DataArray | None:
    """The national TFR (year) the models learned from, its last 20 years: the official
    series where the inputs have it (:mod:`forecast.data.official_series`), else the UN's
    estimates."""
    pool, target = inputs.get("tfr_pool"), inputs.tfr_target
    if "tfr_official" in inputs:
        series = inputs["tfr_official"].rename(observed_year="year").dropna("year")
    elif pool is None or target not in pool["pool_region"].values:
        return None
    else:
        series = pool.sel(pool_region=target, drop=True).dropna("year")
    last = int(series["year"].max())
    return series.sel(year=slice(last - 19, last))
