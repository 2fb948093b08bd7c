"""County-level units projected in blocks, with memory bounded by the block.

The same projection as :func:`forecast.regions.county_projection.project_counties` (each county's
rates are its province's, its fertility scaled by the county's level; births raked to the province's
draw by draw; the province's net migrants by sex and age shared by population), but a block of
counties x draws is carried forward one year at a time by the compiled step
(:mod:`forecast.demography.compiled_step`): only the current and next year's population are held, and
each year the planner indicators of :data:`forecast.core.registry.INDICATORS` are
taken from it, draw by draw (:func:`project_block`). A block holds whole provinces' counties
(raking ties a province's counties together) and any subset of draws (draws are
independent). A province's indicator draws (counties x indicators x years x draws, 14 numbers
per county, year and draw instead of the 202 of its population) are then summed to its
prefectures and summarised over draws (:func:`summarise_province`).

Memory is thus bounded by one block's state and temporaries plus one province's indicator
draws, whatever the number of counties; the blocks run one after another or, with
``engine="dask"``, as tasks of a Dask cluster (:mod:`forecast.regions.county_engine`). The block
function is the same in both, so both give identical numbers.
"""

from __future__ import annotations

import numpy as np

from forecast.demography import compiled_step
from forecast.core import draw_quantiles
from forecast.demography.ccmpp import _survivorship, births_by_sex
from forecast.demography.indicator_counts import YOUNG_AGES, count_indicators
from forecast.regions.county_exchange import exchange_counts
from forecast.core.registry import INDICATORS, QUANTILES
from forecast.core.variables import SEXES

#: The indicators of a block, in the order of its second axis.
NAMES = list(INDICATORS)
_AT = {name: i for i, name in enumerate(NAMES)}
_FEMALE = SEXES.index("female")
#: Ages 0 to YOUNG - 1: those the planner indicators count.
YOUNG = len(YOUNG_AGES)


def project_block(population: np.ndarray, factor: np.ndarray, asfr: np.ndarray,
                  mx: np.ndarray, srb: np.ndarray, births_total: np.ndarray,
                  migration_total: np.ndarray, dtype: str = "float64",
                  exchange: dict[str, np.ndarray] | None = None,
                  out: np.ndarray | None = None,
                  survival: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Indicator draws (county, indicator, year, draw) of one province's counties, written
    into ``out`` when given (a view of that shape, e.g. a block of a larger array).

    Parameters (numpy arrays; ``year`` = the base year ... the horizon, ``step`` = the base
    year ... the year before the horizon; ``draw`` of size D or 1 where the province's input
    has no draws)
    ----------
    population : (county, sex, age), persons at 1 July of the base year
    factor : (county,) or (year, county, draw of size D or 1), the county's fertility
        relative to its province
    asfr : (year, draw, age), the province's births per woman
    mx : (year, draw, sex, age), the province's deaths per person-year
    srb : (year, draw), male births per female birth
    births_total : (year, draw[, sex]), the province's births of the calendar year, persons
        (by sex: each sex raked to the province's, :func:`forecast.demography.ccmpp.births_by_sex`)
    migration_total : (step, draw, sex, age), the province's net migrants of the step, persons
    dtype : "float64" or "float32": the type the population is held in (arithmetic is
        float64 either way; float32 halves the memory the step streams through)
    exchange : the parts of the migration between the counties (``flows`` (county, draw of
        size D or 1), ``spread`` and ``share`` (county, sex, age);
        :func:`forecast.regions.county_exchange.county_exchange_draws`); none by default
    survival : :func:`step_survival` of ``mx`` (of the block's draws), when the caller has it
        (the same for every province whose death rates are the nation's); made here if not

    Returns float64 (county, indicator, year, draw): indicators in the order of
    :data:`NAMES` and their units in :data:`forecast.core.registry.INDICATORS`; ``net_migration``
    and ``population_yearend`` are NaN in the horizon year (no step follows it). The step is
    :func:`forecast.demography.compiled_step.advance` (the province's net migrants shared by
    population, the migration between the counties as fixed counts); the age-0 cohort, which
    needs the raked births, is completed by
    :func:`forecast.demography.compiled_step.complete_age0`.
    """
    steps, draws = migration_total.shape[0], births_total.shape[1]
    counties, sexes, ages = population.shape
    base = population.astype(dtype)  # (county, sex, age): every draw starts from it
    asfr, mx = (np.ascontiguousarray(x, dtype=float) for x in (asfr, mx))
    factor = np.asarray(factor, dtype=float)
    if factor.ndim == 1:
        factor = factor[None, :, None]
    factor = np.ascontiguousarray(np.broadcast_to(factor, (steps + 1, counties, draws)))
    mtotal = np.ascontiguousarray(migration_total, dtype=float)
    if out is None:
        out = np.empty((counties, len(NAMES), steps + 1, draws))
    out[:, :, -1] = np.nan  # the horizon year's flows; every other value is written below
    out[:, _AT["tfr"]] = factor.transpose(1, 0, 2) * asfr.sum(-1)[None]

    women = np.broadcast_to(base[:, None, _FEMALE], (counties, draws, ages))
    births = births_by_sex(factor[0] * np.einsum("rda,da->rd", women, asfr[0]),
                           srb[0], births_total[0])
    deaths = (mx[0][None] * base[:, None]).sum(-1)
    population = np.broadcast_to(base.sum((1, 2))[:, None], (counties, draws))
    # the step's layout from here on: (county, sex, age, draw)
    last = compiled_step.draws_last
    P = np.broadcast_to(base[..., None], (counties, sexes, ages, draws)).copy()
    nxt = np.empty_like(P)
    counts = compiled_step.whole(np.zeros((1, sexes, ages, 1)) if exchange is None
                                 else exchange_counts(exchange, draws_last=True), draws)
    work = compiled_step.buffers(P.shape)
    asfr_last, mx_last, mtotal_last = last(asfr, 1), last(mx, 1), last(mtotal, 1)
    sx_last, sb_last = step_survival(mx) if survival is None else survival
    psum = np.empty((sexes, ages, draws))
    _record(out[:, :, 0], births, population, P[:, :, :YOUNG])
    compiled_step.region_sums(P, psum)
    for i in range(steps):
        rate = mtotal_last[i] / np.maximum(psum, 1e-300)  # the province's by population
        compiled_step.step(P, nxt, counts, rate, sx_last[i][None], asfr_last[i + 1][None],
                           factor[i + 1], mx_last[i + 1][None], work)
        births_next = births_by_sex(work["raw_births"], srb[i + 1], births_total[i + 1])
        age0, clamped0 = compiled_step.complete_age0(
            nxt, (0.5 * (births + births_next)).transpose(0, 2, 1), sb_last[i][None],
            work["half0"])
        work["psum_next"][:, 0] = age0.sum(0)
        psum, work["psum_next"] = work["psum_next"], psum
        net = (work["migrated"] + work["clamped"] + clamped0).sum(1)
        out[:, _AT["net_migration"], i] = net
        out[:, _AT["population_yearend"], i] = population + 0.5 * (
            (births - deaths).sum(-1) + net)
        deaths = (work["deaths_next"] + mx[i + 1][:, :, 0].T[None] * age0).transpose(0, 2, 1)
        population = (work["alive"] + age0).sum(1)
        births = births_next
        P, nxt = nxt, P
        _record(out[:, :, i + 1], births, population, P[:, :, :YOUNG])
    return out


def step_survival(mx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each step's survivorship (step, sex, age, draw) and births' survival (step, sex,
    draw), from the death rates ``mx`` (year, draw, sex, age) of the step's two calendar
    years (their mean, as :func:`forecast.demography.ccmpp.project` takes them)."""
    sx, sb = _survivorship(0.5 * (mx[:-1] + mx[1:]))  # the step as the first axis
    return compiled_step.draws_last(sx, 1), np.ascontiguousarray(sb.transpose(0, 2, 1))


def _record(out: np.ndarray, births: np.ndarray, population: np.ndarray, young: np.ndarray
            ) -> None:
    """Write one year's indicators (county, indicator, draw) other than the TFR and the
    step's flows: births (county, draw, sex), population (county, draw) and ages 0-5
    (county, sex, age 0-5, draw)."""
    both = young[:, 0] + young[:, 1]  # (county, age 0-5, draw)
    counts = count_indicators(births[..., 0] + births[..., 1], population,
                              [both[:, a] for a in YOUNG_AGES])
    for name, values in counts.items():
        out[:, _AT[name]] = values


def member_sums(values: np.ndarray, members: np.ndarray, groups: list[str]) -> np.ndarray:
    """Sums (group, ...) of ``values`` (unit, ...) over the units whose group code in
    ``members`` (unit,) is each of ``groups``: a prefecture's counts from its counties', in
    every draw (NaN where a member's value is NaN)."""
    return np.stack([values[members == code].sum(0) for code in groups]
                    or [values[:0].sum(0)])[:len(groups)]


def prefecture_draws(draws: np.ndarray, members: np.ndarray, prefectures: list[str]
                     ) -> np.ndarray:
    """Indicator draws (prefecture, indicator, year, draw) as sums of the counties' (county,
    indicator, year, draw) whose prefecture code is in ``members`` (county,): counts summed
    draw by draw, the crude birth rate recomputed from them, the TFR undefined (NaN)."""
    out = member_sums(draws, members, prefectures)
    out[:, _AT["tfr"]] = np.nan
    out[:, _AT["crude_birth_rate"]] = (1000.0 * out[:, _AT["births"]]
                                       / out[:, _AT["population"]])
    return out


def quantiles(draws: np.ndarray) -> np.ndarray:
    """The quantiles of :data:`forecast.core.registry.QUANTILES` over the last axis (draw),
    as every table takes them (:func:`forecast.core.draw_quantiles.quantiles`); (...,
    quantile), NaN where undefined."""
    return draw_quantiles.quantiles(draws, list(QUANTILES.values()))


def summarise_province(draws: np.ndarray, members: np.ndarray, prefectures: list[str],
                       counties: list[str] | None = None, extra=None) -> np.ndarray:
    """Quantiles (prefecture + county, indicator, year, quantile) of one province: its
    prefectures (sums of their counties) first, then its counties in the order of ``draws``
    (county, indicator, year, draw). ``extra``, a callable (unit draws (unit, indicator,
    year, draw), unit codes) -> quantiles (unit, extra indicator, year, quantile), adds
    indicators computed from the same draws (e.g. the demand stage's) after :data:`NAMES`;
    ``counties`` are the codes of ``draws``' counties."""
    units = prefecture_draws(draws, members, prefectures)
    summary = np.concatenate([quantiles(units), quantiles(draws)])
    if extra is None:
        return summary
    added = np.concatenate([extra(units, list(prefectures)), extra(draws, list(counties))])
    return np.concatenate([summary, added], axis=1)
