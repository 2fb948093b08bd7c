"""The annual cohort-component step, compiled (Numba): the one step of every projection.

:func:`advance` carries a population from 1 July of year t to 1 July of t+1 for ages 1 and
over in one pass over the state: it reads each region's population once and writes next
year's, with the step's deaths, migrants, clamping and next year's raw births, deaths and
population accumulated on the way. What depends on every region at once (births raked to a
total, migrants reconciled to one) is done before or after it on the small (region, sex,
draw) arrays, and :func:`complete_age0` then writes age 0 from the step's births.
:func:`forecast.demography.ccmpp.project` (nation, provinces, counties kept draw by draw)
and :func:`forecast.regions.county_blocks.project_block` (counties in blocks) both step with
it; :func:`forecast.demography.ccmpp.reference_step` is the same step in whole-array NumPy,
kept as the readable reference the tests hold this one to (1e-12).

The timing and the clamping are those of :mod:`forecast.demography.ccmpp` (see its docstring):
half the step's net migrants join at its start and half at its end, and cohorts that net
emigration would take below zero are set to zero with the emigration not applied counted.

**Layout: the draw is the last, contiguous axis** (region, sex, age, draw). Draws are
independent, so every operation of an age runs across the draws in SIMD lanes, while each
draw's sums over ages keep their order (no ``fastmath``): results are bit-identical between
runs and processes, and identical to those of the earlier draw-by-draw loop
(experiments/benchmarks/README.md: the step about twice as fast). The two sexes run in
parallel threads, each through every region, so that the sum over regions is taken in the
same pass. Where Numba runs its threads with its own work queue (no OpenMP or TBB on the
machine), two threads of a program may not run these loops at once: :func:`step` and
:func:`region_sums` take a lock, so that projections started from several threads run one
step at a time.
"""

from __future__ import annotations

import threading

import numba
import numpy as np

from forecast.core.variables import SEXES

_FEMALE = SEXES.index("female")
#: Held while a compiled loop runs (module docstring).
_ONE_AT_A_TIME = threading.Lock()


@numba.njit(cache=True)
def sum_over_regions(P, out):
    """out[s, a, d] = sum over r of P[r, s, a, d], regions added in order (float64): the
    base year's (:func:`advance` sums the years after it)."""
    R, S, A, D = P.shape
    for s in range(S):
        for a in range(A):
            row = out[s, a]
            for d in range(D):
                row[d] = 0.0
            for r in range(R):
                values = P[r, s, a]
                for d in range(D):
                    row[d] += values[d]


@numba.njit(parallel=True, cache=True)
def advance(P, counts, rate, sx, f_next, factor, mx_next, nxt, half0, died, migrated,
            clamped, raw_births, deaths_next, alive, psum_next):
    """One step from P (region, sex, age, draw) to ``nxt`` (same shape) for ages 1 and over.

    Inputs (a first axis of size 1 is shared by every region; the draw axis is whole):
    counts (region|1, sex, age, draw), persons per step, and rate (sex, age, draw), per
    person at the step's start: the step's net migrants are counts + rate x P;
    sx (region|1, sex, age, draw): the step's survivorship; f_next (region|1, age, draw):
    next year's births per woman, times factor (region|1, draw); mx_next (region|1, sex,
    age, draw): next year's deaths per person-year.

    Writes, (region, sex, draw): ``half0`` half the migrants aged 0, ``died`` deaths of the
    step's cohorts, ``migrated`` net migrants, ``clamped`` emigration not applied,
    ``deaths_next`` next year's deaths and ``alive`` next year's population, both of ages 1
    and over; (region, draw): ``raw_births`` next year's births (women at 1 July t+1 are
    aged 1 and over); psum_next (sex, age, draw): ``nxt`` summed over regions in their
    order (ages 1 and over).

    The two sexes run in parallel threads, each through every region; within a region
    every age's work runs across the draws (SIMD lanes), each draw's sums over ages in
    order."""
    R, S, A, D = P.shape
    for s in numba.prange(S):
        # each draw's running values: the survivors entering the next age, and the sums
        prev, moved, lost, cut = np.empty(D), np.empty(D), np.empty(D), np.empty(D)
        deaths, total, fertile = np.empty(D), np.empty(D), np.empty(D)
        for a in range(A):
            psum_next[s, a, :] = 0.0
        for r in range(R):
            rc = 0 if counts.shape[0] == 1 else r
            rs = 0 if sx.shape[0] == 1 else r
            rf = 0 if f_next.shape[0] == 1 else r
            rk = 0 if factor.shape[0] == 1 else r
            rm = 0 if mx_next.shape[0] == 1 else r
            # age 0: its survivors enter age 1; its own next value needs the births
            p_row, c_row, q_row, s_row = P[r, s, 0], counts[rc, s, 0], rate[s, 0], sx[rs, s, 0]
            h_row = half0[r, s]
            for d in range(D):
                mig = c_row[d] + q_row[d] * p_row[d]
                moved[d] = mig
                half = 0.5 * mig
                h_row[d] = half
                enter = p_row[d] + half
                cut[d] = max(-enter, 0.0)
                enter = max(enter, 0.0)
                survived = enter * s_row[d]
                prev[d] = survived
                lost[d] = enter - survived
                deaths[d] = 0.0
                total[d] = 0.0
                fertile[d] = 0.0
            for a in range(1, A):
                p_row, c_row, q_row, s_row = P[r, s, a], counts[rc, s, a], rate[s, a], sx[rs, s, a]
                m_row, f_row, n_row = mx_next[rm, s, a], f_next[rf, a], nxt[r, s, a]
                sum_row = psum_next[s, a]
                open_age = a == A - 1  # the open age group keeps its own survivors
                for d in range(D):
                    mig = c_row[d] + q_row[d] * p_row[d]
                    moved[d] += mig
                    half = 0.5 * mig
                    enter = p_row[d] + half
                    kept = max(enter, 0.0)
                    surv = kept * s_row[d]
                    lost[d] += kept - surv
                    value = prev[d] + half
                    if open_age:
                        value += surv
                    cut[d] += max(-enter, 0.0) + max(-value, 0.0)
                    value = max(value, 0.0)
                    n_row[d] = value
                    deaths[d] += m_row[d] * value
                    total[d] += value
                    fertile[d] += f_row[d] * value
                    sum_row[d] += value
                    prev[d] = surv
            for d in range(D):
                died[r, s, d] = lost[d]
                migrated[r, s, d] = moved[d]
                clamped[r, s, d] = cut[d]
                deaths_next[r, s, d] = deaths[d]
                alive[r, s, d] = total[d]
            if s == _FEMALE:
                k_row = factor[rk]
                for d in range(D):
                    raw_births[r, d] = k_row[d] * (0.0 + fertile[d])


@numba.njit(parallel=True, cache=True)
def reconcile(mig, P, total, out):
    """out = mig (region, draw, sex, age) reconciled to ``total`` (draw, sex, age): each
    cell's excess over the total shared among regions by |mig|, or by P where every region's
    mig is zero; sums over regions in their order, so that the numbers are those of the
    whole-array reference :func:`forecast.demography.ccmpp.reconcile_reference` (float64)."""
    R, D, S, A = mig.shape
    for d in numba.prange(D):
        for s in range(S):
            for a in range(A):
                scale, summed, people = 0.0, 0.0, 0.0
                for r in range(R):
                    scale += abs(mig[r, d, s, a])
                    summed += mig[r, d, s, a]
                    people += P[r, d, s, a]
                excess = summed - total[d, s, a]
                for r in range(R):
                    if scale > 0:
                        weight = abs(mig[r, d, s, a]) / scale
                    else:
                        weight = P[r, d, s, a] / max(people, 1e-300)
                    out[r, d, s, a] = mig[r, d, s, a] - excess * weight


def complete_age0(nxt: np.ndarray, step_births: np.ndarray, sb: np.ndarray,
                  half0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Write age 0 of ``nxt`` (region, sex, age, draw): the step's births (the mean of
    calendar years t and t+1, (region, sex, draw), persons) times their survival ``sb``,
    plus half the migrants aged 0, clamped at zero. Returns age 0 and the emigration not
    applied (region, sex, draw), persons."""
    age0 = step_births * sb + half0
    clamped0 = np.maximum(-age0, 0.0)
    age0 += clamped0
    nxt[:, :, 0] = age0
    return age0, clamped0


def buffers(shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """The per-step outputs of :func:`advance` for a state of ``shape`` (region, sex, age,
    draw), float64."""
    regions, sexes, ages, draws = shape
    out = {k: np.empty((regions, sexes, draws)) for k in (
        "half0", "died", "migrated", "clamped", "deaths_next", "alive")}
    out["raw_births"] = np.empty((regions, draws))
    out["psum_next"] = np.empty((sexes, ages, draws))
    return out


def draws_last(values: np.ndarray, axis: int) -> np.ndarray:
    """``values`` as a C-ordered array with its draw ``axis`` moved last."""
    return np.ascontiguousarray(np.moveaxis(values, axis, -1))


def whole(values: np.ndarray, draws: int) -> np.ndarray:
    """``values`` (..., draw) as a writable C-ordered float64 array with ``draws`` draws (a
    draw axis of size 1 spread over them); the array itself where it is one already."""
    if values.shape[-1] != draws:
        values = np.broadcast_to(values, values.shape[:-1] + (draws,))
    return np.require(values, dtype=np.float64, requirements=("C", "W"))


def step(P: np.ndarray, nxt: np.ndarray, counts: np.ndarray, rate: np.ndarray,
         sx: np.ndarray, f_next: np.ndarray, factor: np.ndarray, mx_next: np.ndarray,
         out: dict[str, np.ndarray]) -> None:
    """:func:`advance` with the outputs of :func:`buffers` (``out``), every array draw-last.
    An input whose draw axis has size 1 is spread over the draws, and the inputs are handed
    over as writable C-ordered float64 arrays (copied where they are not), so that the step
    is compiled once per type of the population (float64, float32), not once per kind of
    array it is given (a read-only view, a strided one)."""
    plain = [whole(x, P.shape[-1]) for x in (counts, rate, sx, f_next, factor, mx_next)]
    with _ONE_AT_A_TIME:
        advance(P, *plain, nxt, out["half0"], out["died"], out["migrated"], out["clamped"],
                out["raw_births"], out["deaths_next"], out["alive"], out["psum_next"])


def reconciled(mig: np.ndarray, P: np.ndarray, total: np.ndarray) -> np.ndarray:
    """:func:`reconcile` of ``mig`` and P (region, draw, sex, age) to ``total``; float64."""
    shape = np.broadcast_shapes(mig.shape, P.shape)
    mig, P = (np.require(np.broadcast_to(x, shape), dtype=np.float64, requirements="C")
              for x in (mig, P))
    total = np.require(np.broadcast_to(total, shape[1:]), dtype=np.float64, requirements="C")
    out = np.empty(shape)
    with _ONE_AT_A_TIME:
        reconcile(mig, P, total, out)
    return out


def region_sums(P: np.ndarray, out: np.ndarray) -> None:
    """:func:`sum_over_regions` of P (region, sex, age, draw) into ``out`` (sex, age, draw)."""
    with _ONE_AT_A_TIME:
        sum_over_regions(P, out)
