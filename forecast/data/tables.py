"""Reading and checking input CSV tables.

Every input table is read here, as text, and checked against a declared schema before any
number is used: missing file or column, a file without data rows, non-numeric, negative,
infinite, implausible (outside a column's declared ``limits``) or missing (NaN/empty) values,
unknown categories (sex, region code), duplicate keys and age groups with gaps or overlaps.
All problems in a file are reported at once through :class:`forecast.core.errors.InputError`.
"""

from __future__ import annotations

import errno
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.core.errors import InputError, problem, raise_if

#: Row number in messages = DataFrame position + this (line 1 is the header).
FIRST_DATA_LINE = 2
#: Longest text cell accepted (characters): names, codes, units and source notes are far
#: shorter; a longer cell is a broken file (a lost quote, binary data).
TEXT_MAX_CHARACTERS = 1000


@dataclass(frozen=True)
class Column:
    """One declared column of an input table.

    ``kind`` is ``"text"``, ``"integer"`` (whole numbers), ``"number"`` or
    ``"nonnegative"`` (a number >= 0). ``allowed`` restricts text to a set of values.
    ``limits`` = ``(lo, hi)`` is the plausible range of a numeric column, both ends
    included; a value outside it (or infinite) is reported with ``meaning``, the unit in
    words, e.g. "expected a number between 0 and 0.5 (births per woman per year)".
    ``empty`` is the value an empty numeric cell stands for where the source leaves cells
    with nothing counted blank (None: an empty cell is an error); ``optional`` numeric
    columns read an empty cell as NaN (a value the source does not give).
    """

    name: str
    kind: str = "text"
    allowed: frozenset[str] | None = None
    meaning: str = ""
    limits: tuple[float, float] | None = None
    empty: float | None = None
    optional: bool = False


def read_table(path: Path, columns: list[Column], key: list[str],
               keep: tuple[str, set] | None = None) -> pd.DataFrame:
    """Read ``path`` and check it against ``columns``; ``key`` columns identify a row.
    ``keep`` = (column, values) reads and checks only the rows whose ``column`` is one of
    ``values`` (e.g. one province's counties of a national table).

    Returns a DataFrame with numeric columns converted and an ``_row`` column holding
    each row's line number in the file. Raises :class:`InputError` listing every problem.
    """
    path = Path(path)
    if not path.is_file():
        expected = "a CSV file with columns " + ", ".join(c.name for c in columns)
        raise InputError(problem(path, None, None, None, f"{expected} ({not_a_file(path)})"))
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8",
                          skip_blank_lines=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputError(problem(path, None, None, type(err).__name__,
                                 f"a UTF-8 CSV file with one header row ({err})")) from err

    missing = [c.name for c in columns if c.name not in raw.columns]
    raise_if([problem(path, name, None, None, f"a column named {name}") for name in missing])

    blank = (raw.apply(lambda col: col.str.strip()) == "").all(axis=1).to_numpy()
    if blank.all():  # header only (or header and blank lines)
        raise InputError(problem(path, None, None, "no data rows",
                                 "at least one data row below the header line"))
    problems: list[str] = [problem(path, None, pos + FIRST_DATA_LINE, "a blank line",
                                   "a data row (remove blank lines)")
                           for pos in np.flatnonzero(blank)]
    wanted = ~blank
    if keep is not None:
        wanted &= raw[keep[0]].str.strip().isin(keep[1]).to_numpy()
    rows = np.flatnonzero(wanted) + FIRST_DATA_LINE
    raw = raw[wanted].reset_index(drop=True)
    table = pd.DataFrame({"_row": rows})
    for col in columns:
        values, col_problems = _convert(path, col, raw[col.name], rows)
        table[col.name] = values
        problems += col_problems
    raise_if(problems)
    for col in columns:
        if col.kind == "integer":
            table[col.name] = table[col.name].astype(np.int64)

    duplicated = table.duplicated(subset=key, keep=False)
    if duplicated.any():
        first_seen: dict[tuple, int] = {}
        for _, rec in table[duplicated].iterrows():
            k = tuple(rec[c] for c in key)
            if k in first_seen:
                problems.append(problem(path, ", ".join(key), rec["_row"], _fmt_key(k),
                                        f"one row per {', '.join(key)} (row {first_seen[k]} "
                                        "has the same values)"))
            else:
                first_seen[k] = rec["_row"]
    raise_if(problems)
    return table


def not_a_file(path: Path) -> str:
    """What is at ``path`` instead of a readable file, in words: not found, a folder, a
    broken or looping symbolic link, or the system's reason."""
    path = Path(path)
    try:
        path.stat()
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "a symbolic link that loops back on itself"
        if path.is_symlink():
            return f"a symbolic link to {os.readlink(path)!r}, which does not exist"
        if err.errno == errno.ENOENT:
            return "file not found"
        return f"cannot be read: {err.strerror}"
    if path.is_dir():
        return "a folder, not a file"
    if not path.is_file():
        return "not a regular file"
    return "a file"


def _fmt_key(values: tuple) -> str:
    return ", ".join(str(v) for v in values)


def _convert(path: Path, col: Column, text: pd.Series, rows: np.ndarray
             ) -> tuple[pd.Series, list[str]]:
    """Convert one column; return the values and a problem line per bad cell.

    ``rows`` holds each cell's line number in the file."""
    problems = []
    stripped = text.str.strip()
    if col.kind == "text":
        too_long = (stripped.str.len() > TEXT_MAX_CHARACTERS).to_numpy()
        for pos in np.flatnonzero(too_long):
            problems.append(problem(path, col.name, rows[pos], text.iloc[pos],
                                    f"a text of at most {TEXT_MAX_CHARACTERS:,} characters"))
        if col.allowed is not None:
            bad = ~stripped.isin(col.allowed)
            expected = "one of " + ", ".join(sorted(col.allowed))
            for pos in np.flatnonzero(bad.to_numpy()):
                problems.append(problem(path, col.name, rows[pos],
                                        text.iloc[pos], expected))
        return stripped, problems

    if col.empty is not None:
        stripped = stripped.where(stripped != "", str(col.empty))
    numbers = pd.to_numeric(stripped, errors="coerce").astype(float)
    vals = numbers.to_numpy()
    # one problem per cell: the first of missing/text, negative, out of limits, infinite,
    # not whole
    reported = np.isnan(vals)
    if col.optional:
        reported &= (stripped != "").to_numpy()
    for pos in np.flatnonzero(reported):
        got = text.iloc[pos]
        what = "missing value" if got.strip().lower() in ("", "nan", "na", "null") else "text"
        problems.append(problem(path, col.name, rows[pos], got,
                                f"a number ({what} found){_meaning(col)}"))
    reported = np.isnan(vals)  # optional empty cells have nothing more to check
    with np.errstate(invalid="ignore"):
        if col.kind == "nonnegative":
            negative = ~reported & (vals < 0)
            for pos in np.flatnonzero(negative):
                problems.append(problem(path, col.name, rows[pos], text.iloc[pos],
                                        f"a number >= 0{_meaning(col)}"))
            reported = reported | negative
        if col.limits is not None:
            lo, hi = col.limits
            outside = ~reported & ~((vals >= lo) & (vals <= hi))  # inf is outside too
            for pos in np.flatnonzero(outside):
                problems.append(problem(path, col.name, rows[pos], text.iloc[pos],
                                        between(lo, hi, col.meaning)))
            reported = reported | outside
        infinite = ~reported & np.isinf(vals)
        for pos in np.flatnonzero(infinite):
            problems.append(problem(path, col.name, rows[pos], text.iloc[pos],
                                    "a finite number"))
        reported = reported | infinite
        if col.kind == "integer":
            for pos in np.flatnonzero(~reported & (np.floor(vals) != vals)):
                problems.append(problem(path, col.name, rows[pos], text.iloc[pos],
                                        "a whole number"))
    return numbers, problems


def between(lo: float, hi: float, meaning: str = "") -> str:
    """The expectation of a range check: ``a number between 0 and 0.5 (births per ...)``."""
    return f"a number between {fmt_number(lo)} and {fmt_number(hi)}" + (
        f" ({meaning})" if meaning else "")


def fmt_number(value: float) -> str:
    """A number for messages: whole numbers with thousands separators, others short."""
    value = float(value)
    if math.isfinite(value) and (value.is_integer() or abs(value) >= 1000) and abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:g}"


def check_limits_by(table: pd.DataFrame, path: Path, column: str, by: str,
                    limits: dict[str, tuple[float, float, str]]) -> None:
    """Range checks that depend on a category: ``limits[category] = (lo, hi, meaning)``.

    E.g. the vital-rates table's ``value`` column holds TFRs, counts of births in thousands
    and sex ratios, told apart by its ``indicator`` column. Categories not in ``limits`` are
    not checked. Raises :class:`InputError` naming every row outside its range."""
    problems = []
    for category, (lo, hi, meaning) in limits.items():
        rows = table[table[by] == category]
        vals = rows[column].to_numpy(dtype=float)
        outside = ~((vals >= lo) & (vals <= hi))
        for row, value in zip(rows["_row"].to_numpy()[outside], vals[outside]):
            problems.append(problem(path, column, int(row), shortest(value),
                                    f"{between(lo, hi, meaning)} for {by} {category}"))
    raise_if(sorted(problems, key=_row_of))


def shortest(value: float) -> str:
    """A value read from a file, as short as it round-trips: 5, 0.35, -1e+30."""
    value = float(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _row_of(line: str) -> int:
    match = re.search(r"\brow (\d+)\b", line)
    return int(match.group(1)) if match else 0


def _meaning(col: Column) -> str:
    return f" ({col.meaning})" if col.meaning else ""


_AGE_LABEL = re.compile(r"^(\d+)(?:-(\d+)|(\+))?$")


def parse_age_group(label: str) -> tuple[int, float]:
    """Age group label -> (start, end) in completed years, end exclusive.

    ``"0"`` -> (0, 1); ``"1-4"`` -> (1, 5); ``"85+"`` -> (85, inf). Raises ValueError.
    """
    match = _AGE_LABEL.match(str(label))
    if not match:
        raise ValueError(label)
    start = int(match.group(1))
    if match.group(3):
        return start, math.inf
    end = int(match.group(2)) + 1 if match.group(2) else start + 1
    if end <= start:
        raise ValueError(label)
    return start, end


def check_age_groups(table: pd.DataFrame, path: Path, by: list[str], column: str,
                     first_age: int, last_end: float, labels_are_starts: bool = False,
                     width: int | None = None, open_starts: tuple[int, ...] | None = None
                     ) -> pd.DataFrame:
    """Check that, within each ``by`` group, age groups tile [first_age, last_end).

    Adds ``age_start`` and ``age_end`` columns (completed years; end exclusive, ``inf``
    for an open group). With ``labels_are_starts`` each label is the start of an
    abridged interval ("0", "1", "5", ..., "100+") that ends where the next one starts.
    ``width`` requires every closed group to be that many years wide; ``open_starts``
    lists the ages an open group may start at. Every ``by`` group must have the same age
    groups. Raises :class:`InputError` naming every row with a gap, an overlap, a bad
    label, a wrong width or a missing end.
    """
    problems: list[str] = []
    starts, ends = [], []
    for label, row in zip(table[column], table["_row"]):
        try:
            start, end = parse_age_group(label)
        except ValueError:
            problems.append(problem(path, column, row, label,
                                    'an age group such as "0", "1-4", "15-19" or "85+"'))
            start, end = -1, -1
        starts.append(start)
        ends.append(end)
    raise_if(problems)
    table = table.assign(age_start=starts, age_end=ends)
    if not labels_are_starts and _tiled(table, by, first_age, last_end, width, open_starts):
        _require_same_groups(table, path, by, column)
        return table  # every group is right: the loop below only words the problems

    expected_end = "an open group such as \"85+\"" if math.isinf(last_end) else f"age {_age(last_end)}"
    for keys, group in table.sort_values("age_start").groupby(by, sort=False):
        group = group.sort_values(["age_start", "_row"])
        if labels_are_starts:
            nxt = group["age_start"].shift(-1).to_numpy(dtype=float, copy=True)
            nxt[-1] = group["age_end"].iloc[-1] if math.isinf(group["age_end"].iloc[-1]) else last_end
            group = group.assign(age_end=nxt)
            table.loc[group.index, "age_end"] = nxt
        where = ", ".join(f"{b}={k}" for b, k in zip(by, keys if isinstance(keys, tuple) else (keys,)))
        expected_next, previous = first_age, None
        for rec in group[["_row", column, "age_start", "age_end"]].itertuples(index=False):
            row, label, start, end = rec
            if start > expected_next:
                problems.append(problem(path, column, row, label,
                                        f"an age group starting at {_age(expected_next)} for "
                                        f"{where} (ages {_age(expected_next)}-{_age(start - 1)} "
                                        "are missing)"))
            elif start < expected_next and previous is None:
                problems.append(problem(path, column, row, label,
                                        f"the first age group to start at {_age(first_age)} "
                                        f"for {where}"))
            elif start < expected_next:
                prev_row, prev_label = previous
                problems.append(problem(path, column, prev_row, prev_label,
                                        f"age groups that do not overlap for {where} (it "
                                        f'overlaps "{label}" in row {row})'))
                problems.append(problem(path, column, row, label,
                                        f"age groups that do not overlap for {where} (it "
                                        f'overlaps "{prev_label}" in row {prev_row})'))
            if width is not None and math.isfinite(end) and end - start != width:
                problems.append(problem(path, column, row, label,
                                        f"a {width}-year age group for {where}"))
            if open_starts is not None and math.isinf(end) and start not in open_starts:
                problems.append(problem(path, column, row, label, "an open age group starting "
                                        f"at {' or '.join(_age(a) for a in open_starts)}"))
            expected_next, previous = end, (row, label)
        if expected_next != last_end:
            problems.append(problem(path, column, previous[0], previous[1],
                                    f"the last age group for {where} to end at {expected_end}"))
    raise_if(problems)
    _require_same_groups(table, path, by, column)
    return table


def _tiled(table: pd.DataFrame, by: list[str], first_age: int, last_end: float,
           width: int | None, open_starts: tuple[int, ...] | None) -> bool:
    """Whether every ``by`` group's age groups tile [first_age, last_end) (with ``width``
    and ``open_starts`` as :func:`check_age_groups`), checked on whole columns."""
    ordered = table.sort_values([*by, "age_start"])
    keys = ordered[by]
    first = keys.ne(keys.shift()).any(axis=1).to_numpy()
    last = keys.ne(keys.shift(-1)).any(axis=1).to_numpy()
    start = ordered["age_start"].to_numpy(float)
    end = ordered["age_end"].to_numpy(float)
    ok = np.where(first, start == first_age, start == np.roll(end, 1))
    ok &= ~last | (end == last_end)
    if width is not None:
        ok &= ~np.isfinite(end) | (end - start == width)
    if open_starts is not None:
        ok &= np.isfinite(end) | np.isin(start, open_starts)
    return bool(ok.all())


def _require_same_groups(table: pd.DataFrame, path: Path, by: list[str], column: str) -> None:
    """Raise unless every ``by`` group has the same list of age-group starts."""
    lists = table.sort_values("age_start").groupby(by, sort=True)["age_start"].agg(tuple)
    if lists.nunique() <= 1:
        return
    reference = lists.mode().iloc[0]
    odd_key = next(k for k, v in lists.items() if v != reference)
    keys = odd_key if isinstance(odd_key, tuple) else (odd_key,)
    mask = np.logical_and.reduce([table[b] == k for b, k in zip(by, keys)])
    odd = table[mask].sort_values("age_start")
    extra = odd[~odd["age_start"].isin(reference)]
    rec = (extra if len(extra) else odd).iloc[0]
    where = ", ".join(f"{b}={k}" for b, k in zip(by, keys))
    raise InputError(problem(path, column, rec["_row"], rec[column],
                             f"the same age groups for every {', '.join(by)} (for {where} they "
                             f"differ from the others, which start at "
                             f"{', '.join(_age(a) for a in reference)})"))


def _age(value: float) -> str:
    """An age for messages: whole numbers without a decimal point."""
    return str(int(value)) if math.isfinite(value) and float(value).is_integer() else str(value)


def require_values(table: pd.DataFrame, path: Path, column: str, wanted: list, what: str) -> None:
    """Raise naming ``column`` when any of ``wanted`` is absent from it."""
    present = set(table[column].tolist())
    missing = [w for w in wanted if w not in present]
    if missing:
        have = sorted(present)
        shown = ", ".join(str(v) for v in have[:40]) + (" ..." if len(have) > 40 else "")
        raise InputError(problem(path, column, None, ", ".join(str(m) for m in missing),
                                 f"{what}; the file has: {shown}"))
