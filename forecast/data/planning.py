"""Planning inputs of the demand stage: the current supply of childcare places and
kindergarten seats, and planned new residents, by region."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import xarray as xr

from forecast.data.census import NATION_CODE
from forecast.data.common import file_digest, year_column
from forecast.errors import problem, raise_if
from forecast.paths import DATA_DIR
from forecast.tables import Column, read_table

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
    """Current supply of childcare places and kindergarten seats by region.

    CSV columns: ``region_code``, ``reference_year`` (the year the counts describe; supply
    is held at that level afterwards), and the counts of :data:`SUPPLY_COLUMNS` (places or
    seats, >= 0; the affordable and public counts are parts of the totals). Other columns
    (``region_name``, ``source``, ``illustrative``) are carried as documentation. Regions of
    the table that the projection does not have are an error, and so is a ``reference_year``
    after ``last_year`` (the horizon: the supply would never be compared); projected regions
    missing from the table get no supply indicators. A national row (000000) that differs
    from the sum of all 31 provinces by more than 1 % is reported in the log.

    Returns a Dataset (region) of the counts plus ``reference_year``.
    """
    path = Path(file)
    if not path.is_absolute():
        path = (Path(data_dir) if data_dir else DATA_DIR) / path
    table = read_table(path, [Column("region_code"), year_column("reference_year")]
                       + [Column(c, "nonnegative", meaning=u, limits=REGION_COUNT_RANGE)
                          for c, u in SUPPLY_COLUMNS.items()],
                       key=["region_code"])
    problems = [problem(path, "region_code", r, c, "a region code of the projection ("
                        + ", ".join(regions[:5]) + ", ...)")
                for r, c in zip(table["_row"], table["region_code"]) if c not in regions]
    for part, whole in SUPPLY_PARTS.items():
        problems += [problem(path, part, r, f"{p:g}", f"at most {whole} ({w:g})")
                     for r, p, w in zip(table["_row"], table[part], table[whole]) if p > w]
    if last_year is not None:
        problems += [problem(path, "reference_year", r, y, f"a year no later than the horizon "
                             f"{last_year}") for r, y in zip(table["_row"], table["reference_year"])
                     if y > last_year]
    raise_if(problems)
    _check_national_row(table, path)
    ds = xr.Dataset({c: ("region", table[c].to_numpy(float)) for c in SUPPLY_COLUMNS},
                    coords={"region": table["region_code"].to_numpy(str)})
    ds["reference_year"] = ("region", table["reference_year"].to_numpy(int))
    for c, unit in SUPPLY_COLUMNS.items():
        ds[c].attrs["units"] = unit
    return ds.assign_attrs(source_file=str(path), data_sha256=file_digest([path]))


def _check_national_row(table: pd.DataFrame, path: Path) -> None:
    """Log a warning when the national row is not the sum of the provinces (all 31 present)."""
    nation = table[table["region_code"] == NATION_CODE]
    provinces = table[table["region_code"].str.fullmatch(r"\d{2}0000") &
                      (table["region_code"] != NATION_CODE)]
    if nation.empty or len(provinces) < 31:
        return
    for column in SUPPLY_COLUMNS:
        total, parts = float(nation[column].iloc[0]), float(provinces[column].sum())
        if parts > 0 and abs(total / parts - 1) > 0.01:
            log.warning("%s: the national %s (%g) differs from the sum of the provinces (%g) "
                        "by %.1f %%", path, column, total, parts, 100 * (total / parts - 1))


def load_new_residents(file: str | Path, regions: list[str], data_dir: str | Path | None = None
                       ) -> xr.DataArray:
    """Planned new residents (persons) by region and year: columns region_code, year,
    new_residents. Returns a DataArray (region, year); absent cells are zero."""
    path = Path(file)
    if not path.is_absolute():
        path = (Path(data_dir) if data_dir else DATA_DIR) / path
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

