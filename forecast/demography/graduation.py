"""Graduation of 5-year (or abridged) age groups to single years of age 0...100+.

All functions are area-preserving and work along the last axis of numpy arrays, so a whole
table of regions, sexes and years is graduated in one call.

- Counts (population): a monotone cubic (PCHIP) spline through the cumulative count at the
  group boundaries, differenced at whole ages. It passes through every boundary, so each
  group's total is kept exactly, and a monotone cumulative gives no negative counts.
- Rates over an age span (ASFR): the same on cumulative fertility, so the TFR is kept exactly.
- Death rates (mx): log mx interpolated linearly between interval midpoints, then scaled
  within each abridged interval so that the sum of single-year rates equals the interval's
  width times its rate; with a constant hazard within each age this reproduces the interval's
  probability of surviving, 1 - nqx = exp(-n * nmx), exactly.

References: Fritsch & Carlson (1980), monotone piecewise cubic interpolation; United Nations
(2022), *World Population Prospects: Methodology*, section on single-age estimation.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import PchipInterpolator

#: Single ages 0...99 and the open interval 100+ (stored at age 100).
MAX_AGE = 100
AGES = np.arange(MAX_AGE + 1)
#: Nominal width given to an open age group so the cumulative spline has a last knot.
OPEN_GROUP_WIDTH = 10.0


def graduate_counts(counts: np.ndarray, starts: np.ndarray, shift: float = 0.0) -> np.ndarray:
    """Split counts in age groups into single ages 0...99 and the open group 100+.

    Parameters
    ----------
    counts : array (..., group)
        Persons in each age group; the last group is open and starts at 100.
    starts : array (group,)
        First age of each group (completed years), starting at 0.
    shift : float
        Years by which the wanted reference date precedes the counts' date (0 <= shift < 1).
        The counts are read as a cohort function of exact age: persons aged under ``a`` at
        the earlier date are those aged under ``a + shift`` at the later date, less those
        born in between (aged under ``shift``). Deaths in between are not added back here.

    Returns
    -------
    array (..., 101)
        Persons by single year of age 0...99 and 100+. With ``shift=0`` every group total
        is reproduced exactly.
    """
    counts = np.asarray(counts, dtype=float)
    starts = np.asarray(starts, dtype=float)
    if starts[0] != 0 or starts[-1] != MAX_AGE:
        raise ValueError(f"age groups must start at 0 and end with an open group {MAX_AGE}+")
    knots = np.append(starts, MAX_AGE + OPEN_GROUP_WIDTH)
    cumulative = np.concatenate([np.zeros(counts.shape[:-1] + (1,)),
                                 np.cumsum(counts, axis=-1)], axis=-1)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # flat stretches
        spline = PchipInterpolator(knots, cumulative, axis=-1, extrapolate=False)
    at = spline(np.arange(MAX_AGE + 1) + shift) - spline(np.array([shift]))
    single = np.diff(at, axis=-1)
    total = cumulative[..., -1:] - spline(np.array([shift]))
    open_group = total - at[..., -1:]
    return np.clip(np.concatenate([single, open_group], axis=-1), 0.0, None)


def graduate_rates(rates: np.ndarray, starts: np.ndarray, width: float = 5.0) -> np.ndarray:
    """Split rates for equal-width age groups into single-year rates on ages 0...100.

    Parameters
    ----------
    rates : array (..., group)
        Events per person-year in each group (e.g. ASFR, births per woman per year).
    starts : array (group,)
        First age of each group; groups are contiguous, each ``width`` years wide.

    Returns
    -------
    array (..., 101)
        Single-year rates, zero outside the groups' span. The sum over ages equals
        ``width * rates.sum(-1)`` exactly (for ASFR: the TFR).
    """
    rates = np.asarray(rates, dtype=float)
    starts = np.asarray(starts, dtype=float)
    knots = np.append(starts, starts[-1] + width)
    cumulative = np.concatenate([np.zeros(rates.shape[:-1] + (1,)),
                                 np.cumsum(rates * width, axis=-1)], axis=-1)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # flat stretches
        spline = PchipInterpolator(knots, cumulative, axis=-1)
    lo, hi = int(knots[0]), int(knots[-1])
    out = np.zeros(rates.shape[:-1] + (MAX_AGE + 1,))
    out[..., lo:hi] = np.clip(np.diff(spline(np.arange(lo, hi + 1)), axis=-1), 0.0, None)
    return out


def graduate_mx(mx: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Single-year death rates 0...100+ from abridged rates (ages 0, 1-4, 5-9, ..., 100+).

    Parameters
    ----------
    mx : array (..., interval)
        Central death rates (deaths per person-year) for intervals starting at ``starts``;
        the last interval is open and starts at 100.
    starts : array (interval,)
        Interval starts, e.g. 0, 1, 5, 10, ..., 95, 100.

    Returns
    -------
    array (..., 101)
        Single-year mx. Within each closed interval [x, x+n) the single-year rates sum to
        ``n * nmx``; the open interval keeps its rate.
    """
    mx = np.asarray(mx, dtype=float)
    starts = np.asarray(starts, dtype=int)
    if np.any(mx <= 0):
        raise ValueError("death rates must be positive to be graduated on the log scale")
    ends = np.append(starts[1:], starts[-1] + OPEN_GROUP_WIDTH)
    midpoints = (starts + ends) / 2.0
    targets = np.arange(MAX_AGE + 1) + 0.5
    left = np.clip(np.searchsorted(midpoints, targets, side="right") - 1, 0, len(midpoints) - 2)
    weight = np.clip((targets - midpoints[left]) / (midpoints[left + 1] - midpoints[left]), 0, 1)
    log_mx = np.log(mx)
    single = np.exp(log_mx[..., left] * (1 - weight) + log_mx[..., left + 1] * weight)
    interval = np.searchsorted(starts, np.arange(MAX_AGE + 1), side="right") - 1
    for k, start in enumerate(starts):
        in_k = interval == k
        if start == MAX_AGE:
            single[..., in_k] = mx[..., k:k + 1]
            continue
        target = mx[..., k] * (ends[k] - start)
        single[..., in_k] *= (target / single[..., in_k].sum(-1))[..., None]
    return single
