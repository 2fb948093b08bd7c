"""What every reader of :mod:`forecast.data` shares: the year column, memoised table
reads, selection of complete annual series, config whole numbers, and the last touches on a
loaded Dataset (units, attributes, the SHA-256 of its files)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Mapping

import pandas as pd
import xarray as xr

from forecast.core.errors import InputError, problem
from forecast.core.options import Problems, Rule, Text, Where, Whole, as_whole
from forecast.core.paths import DATA_DIR
from forecast.data.tables import Column, not_a_file, require_values
from forecast.core.variables import SEXES, VARIABLES

#: Calendar years: only catches typos and overflow (data 1950-2023).
YEAR_RANGE = (1800, 2300)
THOUSAND = 1000.0
TEN_THOUSAND = 10_000.0
SEX = frozenset(SEXES)
SEX_OR_BOTH = frozenset(SEXES + ("both",))


def cached(reader):
    """Memoise a table reader on the file's content (its name and bytes, :func:`file_digest`;
    the digest itself memoised on the path, size and modification time).

    Checking a whole WPP file takes about a second; runs and tests that load several regions,
    or a copy of the data folder, read each distinct file once. A reader's table depends on
    the file's content alone (errors name the path and are not cached). Callers get a copy,
    so the cache cannot be altered.
    """
    cache: dict[str, pd.DataFrame] = {}
    digests: dict[tuple, str] = {}

    def read(path: Path) -> pd.DataFrame:
        path = Path(path)
        try:
            stat = path.stat()
            key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
            if key not in digests:
                digests[key] = file_digest([path])
        except OSError:
            return reader(path)  # missing or unreadable file: let the reader report it
        digest = digests[key]
        if digest not in cache:
            cache[digest] = reader(path)
        return cache[digest].copy()

    read.__doc__ = reader.__doc__
    return read


def year_column(name: str = "year") -> Column:
    return Column(name, "integer", meaning="calendar year", limits=YEAR_RANGE)


def select(table: pd.DataFrame, path: Path, column: str, value, what: str) -> pd.DataFrame:
    require_values(table, path, column, [value], what)
    return table[table[column] == value]


def annual_series(table: pd.DataFrame, path: Path, value: str, region: str, until: int,
            first_needed: int, what: str) -> pd.Series:
    """A complete annual series (index year) up to ``until``; raise naming the missing years
    from ``first_needed`` on. ``what`` names the series in the message."""
    series = table.set_index("year")[value].sort_index()
    series = series[series.index <= until]
    missing = [int(y) for y in range(first_needed, until + 1) if y not in series.index]
    if missing:
        raise InputError(problem(path, "year", None, ", ".join(map(str, missing)),
                                 f"every year from {first_needed} to {until} for region "
                                 f"{region} ({what})"))
    return series


def file_digest(paths: list[Path]) -> str:
    """SHA-256 over the bytes of the input files, in the given order."""
    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).name.encode())
        h.update(Path(p).read_bytes())
    return h.hexdigest()


def config_int(name: str, value, allow_none: bool = False) -> int | None:
    """A whole-number config value, or an InputError naming the option."""
    if value is None and allow_none:
        return None
    try:
        if isinstance(value, bool) or float(value) != int(float(value)):
            raise ValueError
        return int(float(value))
    except (TypeError, ValueError):
        raise InputError(f"config, {name}: got {value!r}; expected a whole number (a year)."
                         ) from None


def check_years(base_year: int, until: int | None, last_in_data: int, path: Path) -> int:
    until = last_in_data if until is None else until
    if until > last_in_data:
        raise InputError(problem(path, "year", None, until,
                                 f"data.until no later than {last_in_data}, the last year in the data"))
    if base_year > until:
        raise InputError(problem(path, "year", None, base_year,
                                 f"a base year no later than data.until={until}"))
    return until


def finish(ds: xr.Dataset, base_year: int, until: int, files: list[Path], description: str
            ) -> xr.Dataset:
    for name in ds.data_vars:
        if name in VARIABLES:
            ds[name].attrs.update(units=VARIABLES[name].units,
                                  description=VARIABLES[name].description)
    ds["population"].attrs["date"] = f"1 July {base_year}"
    ds["net_migration_total"].attrs.update(units="persons per year",
                                           description="Net international migration, calendar year")
    if "births_observed" in ds:
        ds["births_observed"].attrs.update(units="persons per year",
                                           description="WPP 2024 estimate of births, calendar year")
    ds["mx"].attrs["period"] = "5-year period starting 1 July of `period`"
    ds["asfr"].attrs["time"] = "calendar year"
    ds.attrs.pop("until", None)
    return ds.assign_attrs(base_year=int(base_year), last_observed_year=int(until),
                           source_files=[str(f) for f in files], data_sha256=file_digest(files),
                           description=description)



# --------------------------------------------------------------------------- options

def existing_files(*keys: str, required: bool = False) -> Rule:
    """Rule: the options ``keys`` are null (unless ``required``) or CSV files that exist,
    relative to the group's ``data_dir`` (default the project's data folder) or absolute."""
    def rule(node: Mapping, name: str, problems: Problems, root: Mapping) -> None:
        folder = node.get("data_dir")
        folder = (Path(folder) if isinstance(folder, str) and folder and Path(folder).is_dir()
                  else DATA_DIR)
        for key in keys:
            value, option = node.get(key), f"{name}.{key}"
            if value is None and required:
                problems.add(option, value, REQUIRED_FILES.get(key, "the path of a CSV file"))
                continue
            if value is None:
                continue
            Text().check(value, option, problems, root)
            if isinstance(value, str) and value.strip():
                path = Path(value) if Path(value).is_absolute() else folder / value
                if not path.is_file():
                    problems.add(option, value, f"null or an existing CSV file ({path}: "
                                 f"{not_a_file(path)}; relative paths are read from the data "
                                 "folder)")
    rule.keys = keys
    return rule


#: What a required file option holds, for its message.
REQUIRED_FILES = {"path": "a CSV of net migrants (region_code, year, net_migrants), e.g. "
                          "migration.path=/plans/net_migrants.csv"}

#: ``data_dir``: the folder of the input tables (null: the project's ``data/``).
DATA_DIR_OPTION = Where(lambda v: isinstance(v, str) and bool(v.strip()) and Path(v).is_dir(),
                        nullable=True, default=None, what="null or an existing folder")
#: A year of the data (``base_year``, ``until``).
YEAR_OPTION = Whole(what="a whole-number year")


def until_after_base(node: Mapping, name: str, problems: Problems, root: Mapping) -> None:
    """Rule: ``until`` is null or no earlier than ``base_year``."""
    base, until = as_whole(node.get("base_year")), as_whole(node.get("until"))
    if base is not None and until is not None and until < base:
        problems.add(f"{name}.until", until, f"null or a year no earlier than {name}.base_year "
                     f"({base})")
