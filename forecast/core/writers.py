"""Writers of a run's files: each ``*_writer`` returns a function that writes one file to
the path it is given. :class:`forecast.runs.run_folder.RunFolder` calls them in a staging folder
and publishes the folder whole.

Text cells of every CSV are neutralised against formula injection (OWASP, "CSV Injection"):
a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written
with a leading single quote, so a spreadsheet shows it as text instead of running it; line
breaks and other control characters inside a text cell become spaces, so a cell never splits
its row (nor starts a new row with a formula). Numeric columns are written as numbers.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import xarray as xr


def csv_writer(table: pd.DataFrame, decimals: int | None = 1) -> Callable[[Path], None]:
    """UTF-8 CSV (with BOM, so spreadsheet programs show the Chinese names); floats with
    ``decimals`` places, or as they are (already rounded) with ``decimals=None``."""
    fmt = None if decimals is None else f"%.{decimals}f"
    safe = neutralise_formulas(table)

    def write(path: Path) -> None:
        # the BOM by hand, then plain UTF-8: the bytes of encoding "utf-8-sig", whose
        # encoder (in Python) costs a call per row
        with open(path, "w", encoding="utf-8", newline="") as out:
            out.write("\ufeff")
            if (isinstance(safe.columns, pd.MultiIndex) or len(safe.columns) < 2
                    or not all(_cells(safe[c].iloc[:0], fmt) is not None
                               for c in safe.columns)):
                safe.to_csv(out, index=False, float_format=fmt, lineterminator="\n")
                return
            csv.writer(out, lineterminator="\n").writerow(list(safe.columns))
            for start in range(0, len(safe), ROWS_AT_ONCE):
                part = safe.iloc[start:start + ROWS_AT_ONCE]
                cells = [_cells(part[c], fmt) for c in part.columns]
                out.writelines(f"{line}\n" for line in map(",".join, zip(*cells)))
    return write


#: Rows turned into text at a time by :func:`csv_writer` (about 100 MB of text objects).
ROWS_AT_ONCE = 100_000


def _cells(values: pd.Series, fmt: str | None) -> list[str] | None:
    """The cells of one column as ``DataFrame.to_csv`` writes them in a row of two or more
    (``float_format`` ``fmt``, missing values empty, text quoted by the csv module's
    minimal quoting), or None for a column of a kind it formats otherwise (dates,
    categories), which is then written by ``to_csv`` itself. In bulk: twice as fast as
    ``to_csv``, the same bytes (tested)."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        numbers = values.to_numpy()
        # to_csv: NumPy's text of each number (the shortest that reads back as it, as
        # Python's repr, which makes it twice as fast), or the format applied to each
        cells = ([repr(v) for v in numbers.tolist()] if fmt is None
                 else [fmt % v for v in numbers.tolist()])
        for i in np.flatnonzero(np.isnan(numbers)).tolist():
            cells[i] = ""
        return cells
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return [str(v) for v in values.to_numpy().tolist()]
    if dtype == object or pd.api.types.is_string_dtype(dtype):
        # each distinct value once (a long table repeats a few thousand names and codes)
        codes, distinct = pd.factorize(values)
        text = [_quoted(str(v)) for v in distinct] + [""]  # code -1: a missing value
        return [text[c] for c in codes.tolist()]
    return None


def _quoted(text: str) -> str:
    """``text`` as the csv module writes a field of a row of several."""
    if not text:
        return text
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow([text])
    return line.getvalue()[:-1]


#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


#: Control characters inside a text cell (each becomes a space).
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f]"


def neutralise_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` whose text cells cannot start a formula nor split a row: cells
    of non-numeric columns starting with one of :data:`FORMULA_STARTS` get a leading
    single quote, then their control characters become spaces."""
    out = table.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        # each distinct text once (a long table repeats a few thousand names and codes)
        codes, distinct = pd.factorize(values)
        text = pd.Series(distinct, dtype=object).astype("string")
        risky = text.str.startswith(FORMULA_STARTS).fillna(False).to_numpy(bool)
        control = text.str.contains(CONTROL_CHARACTERS, regex=True).fillna(False).to_numpy(bool)
        changed = risky | control
        if changed.any():
            quoted = ("'" + text).where(risky, text).str.replace(CONTROL_CHARACTERS, " ",
                                                                   regex=True)
            rows = (codes >= 0) & changed[np.maximum(codes, 0)]  # code -1: a missing value
            cells = values.astype(object).to_numpy(copy=True)
            cells[rows] = quoted.astype(object).to_numpy()[codes[rows]]
            out[column] = pd.Series(cells, index=values.index, dtype=object)
    return out


def netcdf_writer(ds: xr.Dataset) -> Callable[[Path], None]:
    """NetCDF4 file with attributes made netCDF-safe (lists and dicts as JSON text)."""
    clean = ds.copy()
    clean.attrs = _safe_attrs(ds.attrs)
    for name in clean.variables:
        clean[name].attrs = _safe_attrs(clean[name].attrs)
    for name in clean.coords:
        if clean[name].dtype == object:
            clean[name] = clean[name].astype(str)
    return lambda path: clean.to_netcdf(path, engine="netcdf4", format="NETCDF4")


def idata_writer(idata) -> Callable[[Path], None]:
    """ArviZ InferenceData as NetCDF (posterior, sample stats, observed data)."""
    return lambda path: idata.to_netcdf(str(path))


def json_writer(data: dict) -> Callable[[Path], None]:
    """Strict JSON (NaN and infinities become null), UTF-8, indented."""
    def write(path: Path) -> None:
        path.write_text(json.dumps(_strict(data), indent=2, ensure_ascii=False, allow_nan=False,
                                   default=_json_default), encoding="utf-8")
    return write


def _strict(value):
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    return value


def _safe_attrs(attrs: dict) -> dict:
    out = {}
    for k, v in attrs.items():
        if isinstance(v, (list, tuple, dict)) or v is None or isinstance(v, bool):
            out[k] = json.dumps(v, ensure_ascii=False, default=_json_default)
        else:
            out[k] = v
    return out


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
