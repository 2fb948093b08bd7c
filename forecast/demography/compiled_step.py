"""The annual cohort-component step, compiled (Numba): the one step of every projection.

:func:`advance` carries a population (region, draw, sex, age) from 1 July of year t to 1 July
of t+1 for ages 1 and over in one pass over the state: it reads each region-draw's population
once and writes next year's, with the step's deaths, migrants, clamping and next year's raw
births, deaths and population accumulated on the way. What depends on every region at once
(births raked to a total, migrants reconciled to one) is done before or after it on the
small (region, draw, sex) arrays, and :func:`complete_age0` then writes age 0 from the
step's births. :func:`forecast.demography.ccmpp.project` (nation, provinces, counties kept
draw by draw) and :func:`forecast.regions.county_blocks.project_block` (counties in blocks)
both step with it; :func:`forecast.demography.ccmpp.reference_step` is the same step in
whole-array NumPy, kept as the readable reference the tests hold this one to (1e-12).

The timing and the clamping are those of :mod:`forecast.demography.ccmpp` (see its docstring):
half the step's net migrants join at its start and half at its end, and cohorts that net
emigration would take below zero are set to zero with the emigration not applied counted.

Draws run in parallel threads, each draw over all its regions. Sums run in a fixed order (no
``fastmath``), so that results are bit-identical between runs and processes
(experiments/benchmarks/README.md: reordering made the step 1.4 times as fast, but its
vectorised sums then depended on how the arrays happened to be aligned in memory). Where
Numba runs its threads with its own work queue (no OpenMP or TBB on the machine), two
threads of a program may not run these loops at once: :func:`step` and :func:`region_sums`
take a lock, so that projections started from several threads run one step at a time.
"""

from __future__ import annotations

import threading

import numba
import numpy as np

from forecast.core.variables import SEXES

_FEMALE = SEXES.index("female")
#: Held while a compiled loop runs (module docstring).
_ONE_AT_A_TIME = threading.Lock()


@numba.njit(parallel=True, cache=True)
def sum_over_regions(P, out):
    """out[d, s, a] = sum over r of P[r, d, s, a] (float64)."""
    R, D, S, A = P.shape
    for d in numba.prange(D):
        for s in range(S):
            for a in range(A):
                out[d, s, a] = 0.0
        for r in range(R):
            for s in range(S):
                for a in range(A):
                    out[d, s, a] += P[r, d, s, a]


@numba.njit(parallel=True, cache=True)
def advance(P, counts, rate, sx, f_next, factor, mx_next, nxt, half0, died, migrated,
            clamped, raw_births, deaths_next, alive, young, psum_next):
    """One step from P (region, draw, sex, age) to ``nxt`` (same shape) for ages 1 and over.

    Inputs (an axis of size 1 is shared by every region or draw):
    counts (region, draw|1, sex, age), persons per step, and rate (draw|1, sex, age), per
    person at the step's start: the step's net migrants are counts + rate x P;
    sx (region|1, draw|1, sex, age): the step's survivorship; f_next (region|1, draw|1, age):
    next year's births per woman, times factor (region|1, draw|1); mx_next (region|1,
    draw|1, sex, age): next year's deaths per person-year.

    Writes, (region, draw, sex): ``half0`` half the migrants aged 0, ``died`` deaths of the
    step's cohorts, ``migrated`` net migrants, ``clamped`` emigration not applied,
    ``deaths_next`` next year's deaths and ``alive`` next year's population, both of ages 1
    and over; (region, draw): ``raw_births`` next year's births (women at 1 July t+1 are
    aged 1 and over); young (region, draw, sex, k): ages 1 to k-1 of ``nxt`` (k may be 0);
    psum_next (draw, sex, age): ``nxt`` summed over regions (ages 1 and over)."""
    R, D, S, A = P.shape
    K = young.shape[3]
    for d in numba.prange(D):
        dc = 0 if counts.shape[1] == 1 else np.int64(d)  # (prange's index is unsigned)
        dr = 0 if rate.shape[0] == 1 else np.int64(d)
        for s in range(S):
            for a in range(A):
                psum_next[d, s, a] = 0.0
        for r in range(R):
            rs = 0 if sx.shape[0] == 1 else r
            ds = 0 if sx.shape[1] == 1 else np.int64(d)
            rf = 0 if f_next.shape[0] == 1 else r
            df = 0 if f_next.shape[1] == 1 else np.int64(d)
            rk = 0 if factor.shape[0] == 1 else r
            dk = 0 if factor.shape[1] == 1 else np.int64(d)
            rm = 0 if mx_next.shape[0] == 1 else r
            dm = 0 if mx_next.shape[1] == 1 else np.int64(d)
            births = 0.0
            for s in range(S):
                # the rows of this region, draw and sex (one index per age in the loop)
                p_row, n_row = P[r, d, s], nxt[r, d, s]
                c_row, q_row = counts[r, dc, s], rate[dr, s]
                s_row, m_row, f_row = sx[rs, ds, s], mx_next[rm, dm, s], f_next[rf, df]
                sum_row = psum_next[d, s]
                # age 0: its survivors enter age 1; its own next value needs the births
                mig = c_row[0] + q_row[0] * p_row[0]
                moved = mig
                half = 0.5 * mig
                half0[r, d, s] = half
                enter = p_row[0] + half
                cut = max(-enter, 0.0)
                enter = max(enter, 0.0)
                prev = enter * s_row[0]
                lost = enter - prev
                deaths = 0.0
                total = 0.0
                fertile = 0.0
                # one pass: every sum has one addition per age, so none waits on another
                for a in range(1, A):
                    mig = c_row[a] + q_row[a] * p_row[a]
                    moved += mig
                    half = 0.5 * mig
                    enter = p_row[a] + half
                    kept = max(enter, 0.0)
                    surv = kept * s_row[a]
                    lost += kept - surv
                    value = prev + half
                    if a == A - 1:  # the open age group keeps its own survivors
                        value += surv
                    cut += max(-enter, 0.0) + max(-value, 0.0)
                    value = max(value, 0.0)
                    n_row[a] = value
                    deaths += m_row[a] * value
                    total += value
                    fertile += f_row[a] * value
                    sum_row[a] += value
                    prev = surv
                for a in range(1, K):
                    young[r, d, s, a] = n_row[a]
                if s == _FEMALE:
                    births += fertile
                died[r, d, s] = lost
                migrated[r, d, s] = moved
                clamped[r, d, s] = cut
                deaths_next[r, d, s] = deaths
                alive[r, d, s] = total
            raw_births[r, d] = factor[rk, dk] * births


def complete_age0(nxt: np.ndarray, step_births: np.ndarray, sb: np.ndarray,
                  half0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Write age 0 of ``nxt`` (region, draw, sex, age): the step's births (the mean of
    calendar years t and t+1, (region, draw, sex), persons) times their survival ``sb``,
    plus half the migrants aged 0, clamped at zero. Returns age 0 and the emigration not
    applied (region, draw, sex), persons."""
    age0 = step_births * sb + half0
    clamped0 = np.maximum(-age0, 0.0)
    age0 += clamped0
    nxt[..., 0] = age0
    return age0, clamped0


def buffers(shape: tuple[int, ...], young: int = 0) -> dict[str, np.ndarray]:
    """The per-step outputs of :func:`advance` for a state of ``shape`` (region, draw, sex,
    age), float64: ``young`` keeps ages 1 to young-1."""
    regions, draws, sexes, ages = shape
    out = {k: np.empty((regions, draws, sexes)) for k in (
        "half0", "died", "migrated", "clamped", "deaths_next", "alive")}
    out["raw_births"] = np.empty((regions, draws))
    out["young"] = np.zeros((regions, draws, sexes, young))
    out["psum_next"] = np.empty((draws, sexes, ages))
    return out


def step(P: np.ndarray, nxt: np.ndarray, counts: np.ndarray, rate: np.ndarray,
         sx: np.ndarray, f_next: np.ndarray, factor: np.ndarray, mx_next: np.ndarray,
         out: dict[str, np.ndarray]) -> None:
    """:func:`advance` with the outputs of :func:`buffers` (``out``). The inputs are handed
    over as writable C-ordered float64 arrays (copied where they are not), so that the step
    is compiled once per type of the population (float64, float32), not once per kind of
    array it is given (a read-only view, a strided one)."""
    plain = [np.require(x, dtype=np.float64, requirements=("C", "W"))
             for x in (counts, rate, sx, f_next, factor, mx_next)]
    with _ONE_AT_A_TIME:
        advance(P, *plain, nxt, out["half0"], out["died"], out["migrated"], out["clamped"],
                out["raw_births"], out["deaths_next"], out["alive"], out["young"],
                out["psum_next"])


def region_sums(P: np.ndarray, out: np.ndarray) -> None:
    """:func:`sum_over_regions` of P (region, draw, sex, age) into ``out`` (draw, sex, age)."""
    with _ONE_AT_A_TIME:
        sum_over_regions(P, out)
