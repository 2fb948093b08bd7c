"""Rates made a year at a time, when the projection reads them.

A model's rates by draw are products of small factors: the provinces' ASFR is the national
schedule (age, year, draw) times each province's level (region, year, draw), their
migration rates a level (region, year, draw) times an age pattern (region, sex, age). Made
whole, each is an array (region, age[, sex], year, draw) of several hundred MB, and every
operation on it (calibration, a scenario) another. :func:`lazily` turns the small factor
into a Dask array of one chunk per year, so that every array made from it stays a recipe:
the projection computes one year of it per step (:func:`year_of`), and the peak memory no
longer grows with years x draws. The arithmetic is the same, element by element, so are
the numbers.

Arrays smaller than :data:`LAZY_BYTES` are made at once: a WPP region or a backtest's
few draws would only pay the bookkeeping.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

#: Products at least this large (bytes) are made a year at a time.
LAZY_BYTES = 64 * 2**20


def lazily(factor: xr.DataArray, product_bytes: int) -> xr.DataArray:
    """``factor`` (with a ``year`` dim) as a Dask array of one chunk per year when the
    array it makes is at least :data:`LAZY_BYTES` (``product_bytes``), else as it is.

    One chunk holds every region: a chunk per region and year too made the graph of the
    census run (32 regions x 16 years) cost Dask more to order and optimise at each step
    (about 5 s of a 7 s projection) than its arithmetic."""
    if product_bytes < LAZY_BYTES:
        return factor
    return factor.chunk({"year": 1})


def year_of(values, at: int) -> np.ndarray:
    """``values[at]`` (a NumPy or Dask array, year first) as a NumPy array, computed in
    this thread where lazy."""
    part = values[at]
    if hasattr(part, "compute"):
        return np.asarray(part.compute(scheduler="synchronous"))
    return part


def computed(data: xr.DataArray | xr.Dataset) -> xr.DataArray | xr.Dataset:
    """``data`` with its values in memory (computed in this thread where lazy)."""
    return data.compute(scheduler="synchronous")
