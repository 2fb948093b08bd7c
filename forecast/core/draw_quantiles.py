"""Quantiles over draws: the one summary every table and file takes of a projection's draws.

:func:`quantiles` gives the same numbers as ``numpy.quantile(values, probs, axis=-1)``
(method "linear", Hyndman and Fan's type 7: the value at position q (n - 1) of the sorted
draws, interpolated between its neighbours), bit for bit, NaN where a row holds a NaN. It
sorts each row once (NumPy's vectorised sort) instead of selecting each order statistic
anew, which is about ten times as fast for a thousand draws
(experiments/benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr


#: Values sorted at a time: the rows are sorted in a reused buffer of this many values (8 MB
#: in float64), not in a copy of the whole array, whose fresh memory costs more than the sort.
CHUNK_VALUES = 1 << 20


def quantiles(values: np.ndarray, probs: Sequence[float]) -> np.ndarray:
    """Quantiles (..., quantile) of ``values`` (..., draw) at ``probs`` (each in [0, 1]),
    in the units of ``values``, float64."""
    values = np.asarray(values)
    n = values.shape[-1]
    lower, upper, gamma = _positions(probs, n)
    lead = values.shape[:-1]
    count = int(np.prod(lead))
    # rows of a C-ordered array are a view; of any other, each chunk is gathered on its own
    rows = values.reshape(count, n) if values.flags.c_contiguous else None
    out = np.empty((count, len(gamma)))
    step = max(1, CHUNK_VALUES // n)
    buffer = np.empty((min(step, count), n),
                      dtype=values.dtype if np.issubdtype(values.dtype, np.floating) else float)
    for start in range(0, count, step):
        stop = min(start + step, count)
        part = buffer[:stop - start]
        part[...] = (rows[start:stop] if rows is not None
                     else values[np.unravel_index(np.arange(start, stop), lead)])
        undefined = np.isnan(part).any(-1)  # their quantiles are NaN: not sorted
        if undefined.any():
            out[start:stop] = np.nan
            out[start:stop][~undefined] = _sorted_quantiles(part[~undefined], lower, upper,
                                                            gamma)
        else:
            out[start:stop] = _sorted_quantiles(part, lower, upper, gamma)
    return out.reshape(values.shape[:-1] + (len(gamma),))


def _sorted_quantiles(rows: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                      gamma: np.ndarray) -> np.ndarray:
    """Quantiles (row, quantile) of ``rows`` (row, draw; no NaN), sorted in place, at the
    positions ``lower`` + ``gamma`` (towards ``upper``)."""
    rows.sort(axis=-1)
    return _interpolate(rows[:, lower], rows[:, upper], gamma)


def _interpolate(a: np.ndarray, b: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """``a`` + ``gamma`` (``b`` - ``a``), quantile by quantile (last axis)."""
    # numpy's interpolation, operation for operation (numpy.lib._function_base_impl._lerp)
    diff = b - a
    chunk = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=chunk,
                where=np.broadcast_to(gamma >= 0.5, chunk.shape))
    return chunk


class OrderStatistics:
    """Quantiles at ``probs`` of draws of a function of sorted draws, without sorting again.

    For a function f applied draw by draw that never decreases, the sorted draws of f(x) are
    f of the sorted draws of x; for one that never increases, the same reversed. So
    :func:`quantiles` of f(x) is the interpolation of f at the few order statistics of x
    that the quantiles read: :meth:`of` selects them from the sorted draws (the ``n`` draws
    of each row), :meth:`quantiles` interpolates f of them, bit for bit as
    :func:`quantiles` of f(x) would."""

    def __init__(self, probs: Sequence[float], n: int):
        self.lower, self.upper, self.gamma = _positions(probs, n)
        needed = np.concatenate([self.lower, self.upper, n - 1 - self.lower, n - 1 - self.upper])
        #: Positions in the sorted draws that :meth:`of` keeps, in increasing order.
        self.positions = np.unique(needed)
        at = {int(p): i for i, p in enumerate(self.positions)}
        self._rising = ([at[int(p)] for p in self.lower], [at[int(p)] for p in self.upper])
        self._falling = ([at[n - 1 - int(p)] for p in self.lower],
                         [at[n - 1 - int(p)] for p in self.upper])

    def of(self, values: np.ndarray) -> np.ndarray:
        """The order statistics (..., position of :attr:`positions`) of ``values``
        (..., draw); NaN for a row that holds a NaN."""
        ordered = np.sort(values, axis=-1)
        kept = ordered[..., self.positions]
        kept[np.isnan(ordered[..., -1])] = np.nan  # NumPy sorts NaN last
        return kept

    def quantiles(self, at: np.ndarray, decreasing: bool = False) -> np.ndarray:
        """Quantiles (..., quantile) of f(x) from ``at`` (..., position): f of the order
        statistics :meth:`of` gave; ``decreasing`` if f never increases."""
        lower, upper = self._falling if decreasing else self._rising
        return _interpolate(at[..., lower], at[..., upper], self.gamma)


def _positions(probs: Sequence[float], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sorted draws' positions (lower, upper) and weights (gamma) of the quantiles at
    ``probs`` of ``n`` draws: type 7, the position q (n - 1)."""
    probs = np.asarray(probs, dtype=float)
    if np.any((probs < 0) | (probs > 1)):
        raise ValueError(f"quantile probabilities must lie in [0, 1]; got {probs}")
    if n == 0:
        raise ValueError("quantiles of an empty draw axis")
    position = probs * (n - 1)
    lower = np.minimum(np.floor(position), n - 1).astype(np.intp)
    upper = np.minimum(lower + 1, n - 1)
    return lower, upper, position - np.floor(position)


def quantiles_of(da: xr.DataArray, probs: Sequence[float]) -> xr.DataArray:
    """``da.quantile(probs, dim="draw")`` of xarray, by :func:`quantiles`: dim ``quantile``
    (the values of ``probs``) first, then ``da``'s other dims; coordinates on ``draw``
    dropped; ``da``'s attrs kept."""
    other = [d for d in da.dims if d != "draw"]
    values = np.moveaxis(quantiles(da.transpose(*other, "draw").values, probs), -1, 0)
    coords = {k: v for k, v in da.coords.items() if "draw" not in v.dims}
    return xr.DataArray(values, dims=("quantile", *other),
                        coords={**coords, "quantile": np.asarray(probs, dtype=float)},
                        attrs=da.attrs, name=da.name)


def dataset_quantiles(ds: xr.Dataset, probs: Sequence[float]) -> xr.Dataset:
    """``ds.quantile(probs, dim="draw", keep_attrs=True)`` of xarray, by :func:`quantiles`:
    every variable with a ``draw`` dim summarised, the others kept as they are."""
    out = xr.Dataset({name: quantiles_of(v, probs) if "draw" in v.dims else v
                      for name, v in ds.data_vars.items()}, attrs=ds.attrs)
    return out.drop_vars("draw", errors="ignore")
