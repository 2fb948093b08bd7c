"""Writing a run's files atomically.

All files are written into a temporary folder beside the run folder; when every one is
complete, the temporary folder is renamed to the run folder in one step (the run folder must
be absent or empty, as Hydra creates it). A failed run leaves nothing behind. If the run
folder already holds files, each new file replaces its namesake by its own rename.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import xarray as xr

FORECAST_CSV = "forecast.csv"
PROJECTION_NC = "projection.nc"
RUN_JSON = "run.json"
POSTERIOR_NC = "posterior.nc"
DEMAND_CSV = "demand.csv"
BACKTEST_SCORES = "backtest_scores.csv"
BACKTEST_SUMMARY = "backtest_summary.csv"


def write_files(out_dir: Path, writers: dict[str, Callable[[Path], None]]) -> list[Path]:
    """Call each ``writers[name](path)`` in a temporary folder, then move them all into place."""
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the run folder should not be
    try:
        for name, write in writers.items():
            write(staging / name)
        if not out_dir.exists() or (out_dir.is_dir() and not any(out_dir.iterdir())):
            os.replace(staging, out_dir)  # one rename: all files appear together
        else:
            for name in writers:
                os.replace(staging / name, out_dir / name)
        return [out_dir / name for name in writers]
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def csv_writer(table: pd.DataFrame, decimals: int | None = 1) -> Callable[[Path], None]:
    """UTF-8 CSV (with BOM, so spreadsheet programs show the Chinese names); floats with
    ``decimals`` places, or as they are (already rounded) with ``decimals=None``."""
    fmt = None if decimals is None else f"%.{decimals}f"
    return lambda path: table.to_csv(path, index=False, encoding="utf-8-sig", float_format=fmt)


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
