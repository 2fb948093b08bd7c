"""Writing a run's files atomically: every file goes to a temporary name first, and all are
renamed into place only once all have been written, so a failed run leaves no partial output.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import xarray as xr

FORECAST_CSV = "forecast.csv"
PROJECTION_NC = "projection.nc"
RUN_JSON = "run.json"


def write_files(out_dir: Path, writers: dict[str, Callable[[Path], None]]) -> list[Path]:
    """Call each ``writers[name](temp_path)``, then rename every temporary file to ``name``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    temps: dict[str, Path] = {}
    try:
        for name, write in writers.items():
            temp = out_dir / f".{name}.{os.getpid()}.tmp"
            temps[name] = temp
            write(temp)
        final = []
        for name, temp in temps.items():
            os.replace(temp, out_dir / name)
            final.append(out_dir / name)
        return final
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)


def csv_writer(table: pd.DataFrame) -> Callable[[Path], None]:
    """UTF-8 CSV (with BOM, so spreadsheet programs show the Chinese names), 1 decimal."""
    return lambda path: table.to_csv(path, index=False, encoding="utf-8-sig", float_format="%.1f")


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


def json_writer(data: dict) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default),
                        encoding="utf-8")
    return write


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
