"""Planning inputs of the demand stage: the current supply of childcare places and
kindergarten seats, and planned new residents, by region."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from forecast.data.census import NATION_CODE
from forecast.data.common import file_digest, year_column
from forecast.core.errors import problem, raise_if
from forecast.core.paths import DATA_DIR
from forecast.data.tables import FIRST_DATA_LINE, Column, read_table

log = logging.getLogger(__name__)

#: Places, seats or new residents of one region: 100 million is twice China's kindergarten
#: enrolment (about 48 million in 2020) and several times any province's population change.
REGION_COUNT_RANGE = (0.0, 1e8)

SUPPLY_COLUMNS = {
    "childcare_places": "places",
    "childcare_places_affordable": "places",
    "kindergarten_seats": "seats",
    "kindergarten_seats_public": "seats",
    "kindergarten_seats_affordable": "seats",
}
#: Columns that count part of another column ("of which").
SUPPLY_PARTS = {"childcare_places_affordable": "childcare_places",
                "kindergarten_seats_public": "kindergarten_seats",
                "kindergarten_seats_affordable": "kindergarten_seats"}


def load_supply(file: str | Path, regions: list[str], data_dir: str | Path | None = None,
                last_year: int | None = None) -> xr.Dataset:
    """Supply of childcare places and kindergarten seats by region and reference year.

    CSV columns: ``region_code``, ``reference_year`` (the year the counts describe; a region
    may have several), and the counts of :data:`SUPPLY_COLUMNS` (places or seats, >= 0; the
    affordable and public counts are parts of the totals; an empty cell = not given that
    year). Each count may have a ``<count>_basis`` column saying where it comes from
    (``published``, ``estimated: how``); without one the basis is "given in <file>". Other
    columns (``region_name``, ``source``) are documentation. Regions of the table that the
    projection does not have are an error, and so is a region whose every ``reference_year``
    is after ``last_year`` (the horizon: its supply would never be compared); later years of
    other regions are left out. Projected regions missing from the table get no supply
    indicators. A national row (000000) that differs
    from the sum of all 31 provinces by more than 1 % is reported in the log.

    Returns a Dataset (region, reference_year) of the counts (NaN where not given) and their
    ``<count>_basis`` (text); :func:`forecast.planning.supply.supply_by_year` turns it into
    every projection year.
    """
    path = _in_data_folder(file, data_dir)
    table = read_table(path, [Column("region_code"), year_column("reference_year")]
                       + [Column(c, "nonnegative", meaning=u, limits=REGION_COUNT_RANGE,
                                 optional=True) for c, u in SUPPLY_COLUMNS.items()],
                       key=["region_code", "reference_year"])
    problems = [problem(path, "region_code", r, c, "a region code of the projection ("
                        + ", ".join(regions[:5]) + ", ...)")
                for r, c in zip(table["_row"], table["region_code"]) if c not in regions]
    for part, whole in SUPPLY_PARTS.items():
        problems += [problem(path, part, r, f"{p:g}", f"at most {whole} ({w:g})")
                     for r, p, w in zip(table["_row"], table[part], table[whole]) if p > w]
    if last_year is not None:  # a region's years after the horizon are never compared
        first = table.groupby("region_code")["reference_year"].transform("min")
        problems += [problem(path, "reference_year", r, y, f"a year no later than the horizon "
                             f"{last_year} (the region has no earlier one)")
                     for r, y, f in zip(table["_row"], table["reference_year"], first)
                     if f > last_year]
        table = table[table["reference_year"] <= last_year]
    raise_if(problems)
    _check_national_row(table, path)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    for column in SUPPLY_COLUMNS:
        if f"{column}_basis" in raw:
            given = raw[f"{column}_basis"].str.strip().to_numpy()[table["_row"] - FIRST_DATA_LINE]
        else:
            given = np.where(np.isfinite(table[column].to_numpy(float)),
                             f"given in {path.name}", "")
        table[f"{column}_basis"] = given
    wide = table.set_index(["region_code", "reference_year"]).sort_index()
    ds = xr.Dataset.from_dataframe(wide[[*SUPPLY_COLUMNS, *(f"{c}_basis" for c in
                                                             SUPPLY_COLUMNS)]])
    ds = ds.rename(region_code="region")
    for column, unit in SUPPLY_COLUMNS.items():
        ds[f"{column}_basis"] = ds[f"{column}_basis"].fillna("").astype(str)
        ds[column].attrs["units"] = unit
    return ds.assign_attrs(source_file=str(path), data_sha256=file_digest([path]))


def _in_data_folder(file: str | Path, data_dir: str | Path | None) -> Path:
    """``file`` as given when absolute, else in ``data_dir`` (default: the project's data/)."""
    path = Path(file)
    return path if path.is_absolute() else (Path(data_dir) if data_dir else DATA_DIR) / path


def _check_national_row(table: pd.DataFrame, path: Path) -> None:
    """Log a warning when a year's national row is not the sum of the provinces (all 31
    present that year)."""
    for year, rows in table.groupby("reference_year"):
        nation = rows[rows["region_code"] == NATION_CODE]
        provinces = rows[rows["region_code"].str.fullmatch(r"\d{2}0000") &
                         (rows["region_code"] != NATION_CODE)]
        if nation.empty or len(provinces) < 31:
            continue
        for column in SUPPLY_COLUMNS:
            total, parts = float(nation[column].iloc[0]), float(provinces[column].sum())
            if np.isfinite(total) and parts > 0 and abs(total / parts - 1) > 0.01:
                log.warning("%s: the national %s of %d (%g) differs from the sum of the "
                            "provinces (%g) by %.1f %%", path, column, year, total, parts,
                            100 * (total / parts - 1))


def load_new_residents(file: str | Path, regions: list[str], data_dir: str | Path | None = None
                       ) -> xr.DataArray:
    """Planned new residents (persons) by region and year: columns region_code, year,
    new_residents. Returns a DataArray (region, year); absent cells are zero."""
    path = _in_data_folder(file, data_dir)
    table = read_table(path, [Column("region_code"), year_column(),
                              Column("new_residents", "nonnegative", meaning="persons",
                                     limits=REGION_COUNT_RANGE)],
                       key=["region_code", "year"])
    raise_if([problem(path, "region_code", r, c, "a region code of the projection")
              for r, c in zip(table["_row"], table["region_code"]) if c not in regions])
    wide = table.pivot(index="region_code", columns="year", values="new_residents").fillna(0.0)
    return xr.DataArray(wide.to_numpy(), dims=("region", "year"),
                        coords={"region": wide.index.to_numpy(str),
                                "year": wide.columns.to_numpy(int)},
                        attrs={"units": "persons", "source_file": str(path)})



#: Net migrants of one region in a year: 10 million either way is more than any Chinese
#: province has gained or lost in a year (Guangdong's largest gains were under 2 million).
NET_MIGRANTS_RANGE = (-1e7, 1e7)
#: The regions of a net-migrants file must add up to its national row within this share of
#: their absolute flows.
NET_MIGRANTS_SUM_TOLERANCE = 0.001


def load_net_migrants(file: str | Path, regions: list[str], nation: str, years,
                      data_dir: str | Path | None = None) -> xr.DataArray:
    """A user's net migrants by region and calendar year (``migration=file``).

    CSV columns ``region_code, year, net_migrants`` (persons per calendar year; negative =
    net emigration). Every region of ``regions`` other than ``nation`` needs a row for each
    of ``years``; a national row is optional (default: the regions' sum) and must otherwise
    equal their sum within :data:`NET_MIGRANTS_SUM_TOLERANCE` of their absolute flows.
    Returns a DataArray (region, year), persons per year, the nation first.
    """
    path = _in_data_folder(file, data_dir)
    table = read_table(path, [Column("region_code"), year_column(),
                              Column("net_migrants", "number", meaning="persons per year",
                                     limits=NET_MIGRANTS_RANGE)],
                       key=["region_code", "year"])
    problems = [problem(path, "region_code", r, c, "a region code of the projection ("
                        + ", ".join(regions[:5]) + ", ...)")
                for r, c in zip(table["_row"], table["region_code"]) if c not in regions]
    raise_if(problems)
    years = [int(y) for y in years]
    wide = table.pivot(index="region_code", columns="year", values="net_migrants")
    others = [r for r in regions if r != nation]
    for code in others or [nation]:
        have = set(wide.columns[wide.loc[code].notna()]) if code in wide.index else set()
        missing = [y for y in years if y not in have]
        if missing:
            problems.append(problem(path, "year", None, ", ".join(map(str, missing)), (
                f"a net_migrants row of region {code} for every year {years[0]}-{years[-1]}")))
    raise_if(problems)
    if not others:  # the nation alone
        return xr.DataArray(wide.loc[[nation], years].to_numpy(float), dims=("region", "year"),
                            coords={"region": [nation], "year": years},
                            attrs={"units": "persons per year", "source_file": str(path)})
    parts = wide.reindex(index=others, columns=years)
    total = parts.sum()
    if nation in wide.index:
        given = wide.loc[nation].reindex(years)
        gap = (given - total).abs()
        allowed = NET_MIGRANTS_SUM_TOLERANCE * parts.abs().sum()
        for year in [y for y in years if not np.isnan(given[y]) and gap[y] > allowed[y]]:
            row = table[(table["region_code"] == nation) & (table["year"] == year)]["_row"].iloc[0]
            problems.append(problem(path, "net_migrants", int(row), f"{given[year]:g}", (
                f"the sum of the regions' net migrants in {year} ({total[year]:g}) within "
                f"{100 * NET_MIGRANTS_SUM_TOLERANCE:g} % of their absolute flows")))
        raise_if(problems)
    values = np.vstack([total.to_numpy(float)[None], parts.to_numpy(float)])
    codes = [nation] + others
    return xr.DataArray(values, dims=("region", "year"), coords={"region": codes, "year": years},
                        attrs={"units": "persons per year", "source_file": str(path)})
