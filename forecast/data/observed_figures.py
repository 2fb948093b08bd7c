"""Observed figures dropped into a folder for the early-warning report.

Every ``*.csv`` in the folder (read in name order) has the columns ``region_code``, ``year``,
``indicator``, ``value`` (others, e.g. ``source``, are documentation). Indicators and units:

- ``births`` — live births in the calendar year, persons;
- ``tfr`` — total fertility rate, children per woman;
- ``sex_ratio_at_birth`` — boys per 100 girls born in the year;
- ``childcare_places``, ``childcare_places_affordable`` — childcare places (托位) at the
  end of the year, places;
- ``childcare_places_per_1000`` — childcare places per 1,000 residents as published (the
  report uses it in place of places over the forecast's population);
- ``kindergarten_seats`` — kindergarten seats (or enrolment capacity), seats.

Each file is checked like every input (:func:`forecast.data.tables.read_table`): missing columns,
blank or unknown values, numbers out of range, a region code the forecast does not have, a
duplicated row; the error names the file, column and row. A row of a later file replaces the
same region, year and indicator of an earlier one (a newer release), and the log says so.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from forecast.data.common import year_column
from forecast.core.errors import InputError, problem, raise_if
from forecast.data.tables import Column, read_table

log = logging.getLogger(__name__)

#: Indicator -> (unit, plausible range).
OBSERVED = {
    "births": ("persons", (0.0, 3e7)),
    "tfr": ("children per woman", (0.1, 8.0)),
    "sex_ratio_at_birth": ("boys per 100 girls", (80.0, 150.0)),
    "childcare_places": ("places", (0.0, 1e8)),
    "childcare_places_affordable": ("places", (0.0, 1e8)),
    "childcare_places_per_1000": ("places per 1,000 residents", (0.0, 1000.0)),
    "kindergarten_seats": ("seats", (0.0, 1e8)),
}
COLUMNS = ["region_code", "year", "indicator", "value", "file", "row"]


def read_observed(folder: str | Path | None, regions: list[str]) -> pd.DataFrame:
    """Every observed figure in ``folder`` (None or no CSV files: none), checked against
    the forecast's ``regions``; columns :data:`COLUMNS`."""
    if folder is None:
        return pd.DataFrame(columns=COLUMNS)
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"config, report.observed_dir: got {str(folder)!r}; expected a folder "
                         "of observed-figure CSV files (or null for none).")
    frames = [_read_file(path, regions) for path in sorted(folder.glob("*.csv"))]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    table = pd.concat(frames, ignore_index=True)
    newer = table.duplicated(["region_code", "year", "indicator"], keep="last")
    for row in table[newer].itertuples(index=False):
        log.info("Observed %s %s %d in %s row %d is replaced by a later file", row.region_code,
                 row.indicator, row.year, row.file, row.row)
    return table[~newer].reset_index(drop=True)


def _read_file(path: Path, regions: list[str]) -> pd.DataFrame:
    table = read_table(path, [Column("region_code"), year_column(),
                              Column("indicator", allowed=frozenset(OBSERVED),
                                     meaning="an indicator: " + ", ".join(OBSERVED)),
                              Column("value", "number", meaning="a number")],
                       key=["region_code", "year", "indicator"])
    problems = [problem(path, "region_code", r, c, "a region code of the forecast ("
                        + ", ".join(regions[:4]) + ", ...)")
                for r, c in zip(table["_row"], table["region_code"]) if c not in regions]
    for r, indicator, value in zip(table["_row"], table["indicator"], table["value"]):
        unit, (lo, hi) = OBSERVED[indicator]
        if not lo <= value <= hi:
            problems.append(problem(path, "value", r, f"{value:g}", f"a number from {lo:g} to "
                                    f"{hi:g} ({indicator}, {unit})"))
    raise_if(problems)
    return pd.DataFrame({"region_code": table["region_code"].astype(str),
                         "year": table["year"].astype(int), "indicator": table["indicator"],
                         "value": table["value"].astype(float), "file": str(path),
                         "row": table["_row"].astype(int)})
