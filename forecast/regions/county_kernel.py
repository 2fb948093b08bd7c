"""The county block's annual step as compiled loops (Numba): one pass over the state.

:func:`forecast.demography.ccmpp.project` takes a step in some thirty whole-array NumPy operations,
each a pass over the population (experiments/benchmarks/README.md: about 70 state copies' worth
per step). Here the same step is one pass, :func:`advance`: it reads each county-draw's
population once and writes next year's, with the step's deaths, migrants, clamping and next
year's raw births, deaths and provincial population (which shares out the next step's net
migrants) accumulated on the way; :func:`sum_over_regions` gives the base year's.
What depends on all counties at once (births raked to the province's) is then done on the
small (county, draw, sex) arrays in NumPy. Both loops run over draws in parallel threads,
each draw over all its counties.

Sums run in a fixed order (no ``fastmath``): allowing the compiler to reorder them makes the
step about 1.4 times as fast (experiments/benchmarks/README.md), but its vectorised sums then
depend on how the arrays happen to be aligned in memory, and two processes could differ in
the last bit.

The arithmetic is that of :mod:`forecast.demography.ccmpp` (see its docstring for the timing): half
the step's net migrants join at its start and half at its end, cohorts that net emigration
would take below zero are set to zero and the emigration not applied is counted.
"""

from __future__ import annotations

import numba
import numpy as np

from forecast.core.variables import SEXES

_FEMALE = SEXES.index("female")


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
def advance(P, nxt, psum, mtotal, flows, spread, share_of, taken, sx, f_next, factor, mx_next,
            half0, died, migrated, clamped, raw_births, deaths_next, alive, young, psum_next):
    """One step from P (county, draw, sex, age) to ``nxt`` for ages 1 and over.

    psum (draw, sex, age): the province's population at the step's start; mtotal (draw,
    sex, age): its net migrants of the step, shared in proportion to P / psum, plus the
    migration between the counties flows (county, draw) x spread (county, sex, age) less
    share_of (county, sex, age) x taken (draw, sex, age)
    (:mod:`forecast.regions.county_exchange`); sx (draws
    of mx, sex, age): the step's survivorship; f_next (draw, age): the province's ASFR of
    next year, times factor (county, draw); mx_next (draws of mx, sex, age): next year's death
    rates. Writes (county, draw, sex): ``half0`` half the migrants aged 0, ``died`` deaths
    of the step's cohorts, ``migrated`` net migrants, ``clamped`` emigration not applied,
    ``deaths_next`` next year's deaths and ``alive`` next year's population, of ages 1+;
    (county, draw): ``raw_births`` next year's births before raking; young (county, draw,
    sex, 6): ages 1-5 of ``nxt``; psum_next (draw, sex, age): ``nxt`` summed over counties
    (ages 1+). Draws run in parallel, each over all counties."""
    R, D, S, A = P.shape
    shared_mx = sx.shape[0] == 1
    for d in numba.prange(D):
        m = 0 if shared_mx else np.int64(d)  # (prange's index is unsigned)
        share = np.empty((S, A))
        for s in range(S):
            for a in range(A):
                share[s, a] = mtotal[d, s, a] / max(psum[d, s, a], 1e-300)
                psum_next[d, s, a] = 0.0
        for r in range(R):
            births = 0.0
            for s in range(S):
                # age 0: its survivors enter age 1; its own next value needs the births
                mig = (P[r, d, s, 0] * share[s, 0] + flows[r, d] * spread[r, s, 0]
                       - share_of[r, s, 0] * taken[d, s, 0])
                moved = mig
                half = 0.5 * mig
                half0[r, d, s] = half
                enter = P[r, d, s, 0] + half
                cut = max(-enter, 0.0)
                enter = max(enter, 0.0)
                prev = enter * sx[m, s, 0]
                lost = enter - prev
                deaths = 0.0
                total = 0.0
                fertile = 0.0
                # one pass: every sum has one addition per age, so none waits on another
                for a in range(1, A):
                    mig = (P[r, d, s, a] * share[s, a] + flows[r, d] * spread[r, s, a]
                           - share_of[r, s, a] * taken[d, s, a])
                    moved += mig
                    half = 0.5 * mig
                    enter = P[r, d, s, a] + half
                    kept = max(enter, 0.0)
                    surv = kept * sx[m, s, a]
                    lost += kept - surv
                    value = prev + half
                    if a == A - 1:  # the open age group keeps its own survivors
                        value += surv
                    cut += max(-enter, 0.0) + max(-value, 0.0)
                    value = max(value, 0.0)
                    nxt[r, d, s, a] = value
                    deaths += mx_next[m, s, a] * value
                    total += value
                    fertile += f_next[d, a] * value
                    psum_next[d, s, a] += value
                    prev = surv
                for a in range(1, 6):
                    young[r, d, s, a] = nxt[r, d, s, a]
                if s == _FEMALE:
                    births += fertile
                died[r, d, s] = lost
                migrated[r, d, s] = moved
                clamped[r, d, s] = cut
                deaths_next[r, d, s] = deaths
                alive[r, d, s] = total
            raw_births[r, d] = factor[r, d] * births
