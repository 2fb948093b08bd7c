"""Interval widths learned from a model's own forecast record (conformal calibration).

A forecast's draws of a positive quantity (TFR) are widened around their median on the log
scale by a factor k (:func:`widened`): log x' = m + k (log x - m), m the median over draws in
each year. The median stays; the distance of every quantile from it, in log, is multiplied
by k, so each central interval's bounds move out by the same factor, as far ahead as the
record reaches; further ahead the added part is held.

k is learned from a rolling-origin record of the model's forecasts of the same series
(``experiments/official_series/``): for each forecast the smallest factor whose widened 80 %
(95 %) interval would hold the observation (:func:`covering_scale`), and k the factor at which
the record's 80 % and 95 % intervals would hold, jointly, nearest to 80 % and 95 %
(:func:`interval_scale`). This is split conformal prediction with the model's own quantiles
as the yardstick (Angelopoulos & Bates 2023, *Foundations and Trends in Machine Learning*
16(4)): the model keeps the shape of its forecast (its median, how the spread grows with the
horizon, the skew), the record sets how wide it is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The central intervals the scale is fitted to: name -> nominal coverage.
LEVELS = {"80": 0.80, "95": 0.95}
#: Fewest scored forecasts a scale is learned from; below it the scale is 1.
MIN_FORECASTS = 10
#: How many years ahead the record scores forecasts (``experiments/official_series/``):
#: :func:`widened` scales the spread this far and holds the added part beyond.
RECORD_YEARS = 5


def covering_scale(observed, median, lower, upper) -> np.ndarray:
    """The smallest factor (>= 0) by which the interval [lower, upper] around ``median``,
    widened on the log scale, holds ``observed`` (all positive; same shapes)."""
    y, m = np.log(observed), np.log(median)
    above = np.log(upper) - m
    below = m - np.log(lower)
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = np.where(y >= m, (y - m) / above, (m - y) / below)
    # a degenerate bound (zero width) covers only the median itself
    return np.where(np.isnan(needed), 0.0, needed)


def interval_scale(record: pd.DataFrame, min_forecasts: int = MIN_FORECASTS) -> float:
    """The factor k at which the record's 80 % and 95 % intervals, widened by k, hold
    nearest to 80 % and 95 % (least squares of the two misses; the smallest such k).

    ``record``: one row per scored forecast with ``observed``, ``median``, ``lower_80``,
    ``upper_80``, ``lower_95``, ``upper_95``. 1 where it holds fewer than ``min_forecasts``
    rows."""
    if len(record) < min_forecasts:
        return 1.0
    needed = {level: covering_scale(record["observed"], record["median"],
                                    record[f"lower_{level}"], record[f"upper_{level}"])
              for level in LEVELS}
    # the coverage changes only where k passes a forecast's covering scale
    candidates = np.unique(np.concatenate([[1.0], *needed.values()]))
    candidates = candidates[candidates > 0]
    held = {level: (needed[level][None, :] <= candidates[:, None]).mean(axis=1)
            for level in LEVELS}
    miss = sum((held[level] - nominal) ** 2 for level, nominal in LEVELS.items())
    return float(candidates[int(np.argmin(miss))])


def widened(paths: np.ndarray, scale: float, reach: int = RECORD_YEARS) -> np.ndarray:
    """``paths`` (year, draw), positive, the first year one year ahead, widened by ``scale``
    around each year's median on the log scale as far as the record reaches (``reach``
    years ahead); beyond it each path keeps the extra distance it had in the last of those
    years (the record does not say how the shortfall grows further; the model's own spread
    still grows), recentred on the year's median. ``scale`` 1 returns ``paths`` unchanged."""
    if scale == 1.0:
        return paths
    logs = np.log(paths)
    centre = np.median(logs, axis=-1, keepdims=True)
    out = centre + scale * (logs - centre)
    if len(out) > reach:
        beyond = logs[reach:] + (out[reach - 1] - logs[reach - 1])
        out[reach:] = beyond - np.median(beyond, axis=-1, keepdims=True) + centre[reach:]
    return np.exp(out)
