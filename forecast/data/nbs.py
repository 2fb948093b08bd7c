"""The National Bureau of Statistics' published national series: births, deaths and the
year-end population, the figures a projection must reproduce for the years already observed.

One long CSV (default ``data/china_nbs_observed.csv``; ``data.observed_file`` points to
another), columns ``region, year, indicator, value, unit, source``. Indicators and their
units (a row with another unit is refused, so that 10k persons cannot be read as persons):

========================================= ======================= ==========================
indicator                                  unit                    used for
========================================= ======================= ==========================
births                                     persons                 births of the year
deaths                                     persons                 deaths of the year
crude_birth_rate, crude_death_rate         per 1,000 population    births, deaths where no count
rate_natural_increase                      per 1,000 population    (documentation)
population_yearend_total / male / female   10k persons             population at 31 December
population_yearend_urban / rural,          10k persons             (documentation)
population_yearend_age_0_14 / 15_64 /
65plus
========================================= ======================= ==========================

A year's births are the ``births`` count where the file has one, otherwise the crude birth
rate times the mean of the year-end populations of that year and the year before (NBS's own
definition of the rate's denominator, the mean population of the year); deaths likewise.
A user adds a newly published year as new rows (births count or crude rates, and the
year-end population); ``data.until`` drops later years as for every input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from forecast.data.common import TEN_THOUSAND, cached, select, year_column
from forecast.core.errors import InputError, problem, raise_if
from forecast.data.tables import Column, check_limits_by, read_table

OBSERVED_FILE = "china_nbs_observed.csv"
PER_THOUSAND = "per 1,000 population"
TEN_THOUSAND_PERSONS = "10k persons"
#: Indicator -> (unit, lowest, highest plausible value). Counts: 100 million births or
#: deaths a year is far above any on record (China's most births in a year, 1963, about
#: 30 million); rates per 1,000 as for WPP; year-end populations up to 2 billion persons
#: (200,000 x 10k), above any country's.
OBSERVED_INDICATORS = {
    "births": ("persons", 0.0, 1e8),
    "deaths": ("persons", 0.0, 1e8),
    "crude_birth_rate": (PER_THOUSAND, 0.0, 100.0),
    "crude_death_rate": (PER_THOUSAND, 0.0, 1000.0),
    "rate_natural_increase": (PER_THOUSAND, -1000.0, 100.0),
    **{f"population_yearend_{part}": (TEN_THOUSAND_PERSONS, 0.0, 2e5)
       for part in ("total", "male", "female", "urban", "rural", "age_0_14", "age_15_64",
                    "age_65plus")},
}


@cached
def read_observed(path: Path) -> pd.DataFrame:
    """The observed-series table, checked: known indicators, each in its own unit and
    plausible range, one row per region, year and indicator."""
    table = read_table(path, [
        Column("region"), year_column(), Column("indicator", allowed=frozenset(OBSERVED_INDICATORS)),
        Column("value", "number"), Column("unit"), Column("source")],
        key=["region", "year", "indicator"])
    problems = []
    for indicator, (unit, _, _) in OBSERVED_INDICATORS.items():
        rows = table[(table["indicator"] == indicator) & (table["unit"] != unit)]
        problems += [problem(path, "unit", r, got, f'"{unit}" for indicator {indicator}')
                     for r, got in zip(rows["_row"], rows["unit"])]
    raise_if(problems)
    check_limits_by(table, path, "value", "indicator",
                    {k: (lo, hi, unit) for k, (unit, lo, hi) in OBSERVED_INDICATORS.items()})
    return table


def observed_series(path: Path, region: str = "CHN", until: int | None = None) -> xr.Dataset:
    """Observed national series of ``region`` up to ``until`` (dim ``observed_year``).

    Returns ``observed_births`` and ``observed_deaths`` (persons per calendar year) and
    ``observed_population_yearend`` (persons at 31 December), NaN where the file cannot give
    them; attrs ``births_derived`` and ``deaths_derived`` list the years computed from crude
    rates. Raises InputError when no year has observed births, or a year between two
    observed years has none.
    """
    table = select(read_observed(path), path, "region", region, "an observed-series region")
    if until is not None:
        table = table[table["year"] <= until]
    wide = table.pivot(index="year", columns="indicator", values="value")
    years = np.arange(int(wide.index.min()), int(wide.index.max()) + 1) if len(wide) else []
    wide = wide.reindex(index=years, columns=list(OBSERVED_INDICATORS))
    yearend = wide["population_yearend_total"] * TEN_THOUSAND
    mean_population = 0.5 * (yearend + yearend.shift(1))
    out, derived = {}, {}
    for flow, rate in (("births", "crude_birth_rate"), ("deaths", "crude_death_rate")):
        from_rate = wide[rate] / 1000.0 * mean_population
        out[flow] = wide[flow].where(wide[flow].notna(), from_rate)
        derived[flow] = [int(y) for y in years if np.isnan(wide.loc[y, flow])
                         and not np.isnan(from_rate.loc[y])]
    if not out["births"].notna().any():
        raise InputError(problem(path, "indicator", None, "no usable births", (
            f"for region {region}, rows of births (persons) or of crude_birth_rate with the "
            "year-end population of that year and the year before")))
    problems = []
    for flow, rate in (("births", "crude_birth_rate"), ("deaths", "crude_death_rate")):
        known = out[flow].dropna().index
        gaps = [int(y) for y in years if len(known) and known.min() < y < known.max()
                and np.isnan(out[flow].loc[y])]
        problems += [problem(path, "year", None, f"no usable {flow} for {region} in {y}", (
            f"every year from {int(known.min())} to {int(known.max())}: a row of {flow} "
            f"(persons), or of {rate} with the year-end population of {y} and {y - 1} (a year "
            "between observed years would silently take the previous year's calibration)"))
            for y in gaps]
    raise_if(problems)
    coords = {"observed_year": np.asarray(years, dtype=int)}
    return xr.Dataset({
        "observed_births": ("observed_year", out["births"].to_numpy(float),
                            {"units": "persons per year", "description": "NBS births, calendar year"}),
        "observed_deaths": ("observed_year", out["deaths"].to_numpy(float),
                            {"units": "persons per year", "description": "NBS deaths, calendar year"}),
        "observed_population_yearend": ("observed_year", yearend.to_numpy(float),
                                        {"units": "persons",
                                         "description": "NBS population at 31 December"}),
    }, coords=coords, attrs={"births_derived": derived["births"],
                             "deaths_derived": derived["deaths"], "source_file": str(path)})


PROVINCE_OBSERVED_FILE = "china_nbs_province_observed.csv"
#: Indicators of the provincial file that are used (others are refused as unknown there).
PROVINCE_INDICATORS = ("crude_birth_rate", "population_yearend_total")


def province_series(path: Path, provinces: list[str], until: int | None = None) -> xr.Dataset:
    """Observed provincial series up to ``until`` (dims ``region``, ``observed_year``).

    The file has the layout and checks of the national one (:func:`read_observed`), one
    ``region`` per province under its GB/T 2260 code, with ``crude_birth_rate`` (per 1,000
    population) and ``population_yearend_total`` (10k persons) rows. A region code that is
    not one of ``provinces`` stops the run naming its row. Every province needs year-end
    populations, without gaps; a province may have no birth rates (its fertility then falls
    back on the census), and every birth rate needs the populations of its year and the year
    before.

    Returns ``province_crude_birth_rate`` (per 1,000) and ``province_population_yearend``
    (persons at 31 December), NaN where not observed.
    """
    table = read_observed(path)
    problems = []
    unknown = table[~table["region"].isin(provinces)]
    for code, rows in unknown.groupby("region", sort=False):
        problems.append(problem(path, "region", int(rows["_row"].iloc[0]), code, (
            "the GB/T 2260 code of one of the provinces projected (110000 ... 650000)"
            + (f"; {len(rows)} rows have this code" if len(rows) > 1 else ""))))
    other = table[~table["indicator"].isin(PROVINCE_INDICATORS)]
    wanted = " or ".join(PROVINCE_INDICATORS) + " in the provincial file"
    problems += [problem(path, "indicator", r, got, wanted)
                 for r, got in zip(other["_row"], other["indicator"])]
    raise_if(problems)
    if until is not None:
        table = table[table["year"] <= until]
    if table.empty:
        raise InputError(problem(path, "year", None, "no rows", "provincial rows up to "
                                 f"data.until={until}"))
    years = np.arange(int(table["year"].min()), int(table["year"].max()) + 1)
    cube = {}
    for indicator in PROVINCE_INDICATORS:
        rows = table[table["indicator"] == indicator]
        cube[indicator] = (rows.pivot(index="region", columns="year", values="value")
                           .reindex(index=provinces, columns=years))
    yearend = cube["population_yearend_total"] * TEN_THOUSAND
    absent = [code for code in provinces if yearend.loc[code].isna().all()]
    if absent:
        problems.append(problem(path, "region", None, ", ".join(absent), (
            "population_yearend_total rows for every province (its migration and the mean "
            "population of its birth rates come from them)")))
    for code, series in yearend.iterrows():
        seen = series.dropna()
        if len(seen) and len(seen) != seen.index.max() - seen.index.min() + 1:
            gaps = sorted(set(range(seen.index.min(), seen.index.max() + 1)) - set(seen.index))
            problems.append(problem(path, "year", None, ", ".join(map(str, gaps)), (
                f"population_yearend_total of region {code} for every year from its first "
                f"({seen.index.min()}) to its last ({seen.index.max()}): these are missing")))
    rates = cube["crude_birth_rate"]
    for code, series in rates.iterrows():
        first, last = yearend.loc[code].first_valid_index(), yearend.loc[code].last_valid_index()
        for year in series.dropna().index:
            if first is not None and (year - 1 < first or year <= last):
                continue  # before the population series starts: births not derived, not used
            row = table[(table["region"] == code) & (table["year"] == year)
                        & (table["indicator"] == "crude_birth_rate")]["_row"].iloc[0]
            problems.append(problem(path, "year", int(row), year, (
                f"population_yearend_total rows of region {code} for {year - 1} and {year}, "
                "the mean population that turns its crude birth rate into births")))
    raise_if(problems)
    coords = {"region": list(provinces), "observed_year": years}
    return xr.Dataset({
        "province_crude_birth_rate": (("region", "observed_year"), rates.to_numpy(float),
                                      {"units": PER_THOUSAND,
                                       "description": "NBS provincial crude birth rate"}),
        "province_population_yearend": (("region", "observed_year"), yearend.to_numpy(float),
                                        {"units": "persons", "description": "NBS provincial "
                                         "year-end resident population"}),
    }, coords=coords, attrs={"source_file": str(path)})
