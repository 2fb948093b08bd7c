"""County-level units projected in blocks, with memory bounded by the block.

The same projection as :func:`forecast.counties.project_counties` (each county's rates are its
province's, its fertility scaled by the county's level; births raked to the province's draw by
draw; the province's net migrants by sex and age shared by population), but a block of
counties x draws is carried forward one year at a time: only the current year's population
is held, and each year the planner indicators of :data:`forecast.indicators.INDICATORS` are
taken from it, draw by draw (:func:`project_block`). A block holds whole provinces' counties
(raking ties a province's counties together) and any subset of draws (draws are
independent). A province's indicator draws (counties x indicators x years x draws, 14 numbers
per county, year and draw instead of the 202 of its population) are then summed to its
prefectures and summarised over draws (:func:`summarise_province`).

Memory is thus bounded by one block's state and temporaries plus one province's indicator
draws, whatever the number of counties; the blocks run one after another or, with
``engine="dask"``, as tasks of a Dask cluster (:mod:`forecast.county_compute`). The block
function is the same in both, so both give identical numbers.
"""

from __future__ import annotations

import numpy as np

from forecast.ccmpp import _calendar_births, _step, _survivorship
from forecast.indicators import INDICATORS, QUANTILES

#: The indicators of a block, in the order of its second axis.
NAMES = list(INDICATORS)
_AT = {name: i for i, name in enumerate(NAMES)}
#: Indicators that are counts (prefectures sum them); the others are rates.
COUNTS = [n for n in NAMES if n not in ("tfr", "crude_birth_rate")]
_FEMALE = 0


def project_block(population: np.ndarray, factor: np.ndarray, asfr: np.ndarray,
                  mx: np.ndarray, srb: np.ndarray, births_total: np.ndarray,
                  migration_total: np.ndarray, dtype: str = "float64") -> np.ndarray:
    """Indicator draws (county, indicator, year, draw) of one province's counties.

    Parameters (numpy arrays; ``year`` = the base year ... the horizon, ``step`` = the base
    year ... the year before the horizon; ``draw`` of size D or 1 where the province's input
    has no draws)
    ----------
    population : (county, sex, age), persons at 1 July of the base year
    factor : (county,), the county's fertility relative to its province
    asfr : (year, draw, age), the province's births per woman
    mx : (year, draw, sex, age), the province's deaths per person-year
    srb : (year, draw), male births per female birth
    births_total : (year, draw), the province's births of the calendar year, persons
    migration_total : (step, draw, sex, age), the province's net migrants of the step, persons
    dtype : "float64" or "float32", the projection's floating-point type

    Returns float64 (county, indicator, year, draw): indicators in the order of
    :data:`NAMES` and their units in :data:`forecast.indicators.INDICATORS`; ``net_migration``
    and ``population_yearend`` are NaN in the horizon year (no step follows it).
    """
    dt = np.dtype(dtype)
    steps, draws = migration_total.shape[0], births_total.shape[1]
    counties = population.shape[0]
    state = (counties, draws) + population.shape[1:]
    P = np.broadcast_to(population[:, None].astype(dt), state).copy()
    scale = factor.astype(float)[:, None, None]
    mx, srb = mx.astype(dt), srb.astype(dt)
    total, mtotal = births_total.astype(dt), migration_total.astype(dt)
    out = np.full((counties, len(NAMES), steps + 1, draws), np.nan)

    def rates(year):
        return (scale * asfr[year][None]).astype(dt)

    births = _calendar_births(P, rates(0), srb[0], total[0])
    for i in range(steps + 1):
        deaths = (mx[i][None] * P).sum(-1)
        f = rates(i)
        _record(out[:, :, i], P, births, f)
        if i == steps:
            break
        sx, sb = (a.astype(dt, copy=False) for a in _survivorship(0.5 * (mx[i] + mx[i + 1])[None]))
        migrants = mtotal[i][None] * (P / np.maximum(P.sum(0, keepdims=True), 1e-300))
        P, flows, births_next = _step(P, sx, sb, migrants, births, rates(i + 1), srb[i + 1],
                                      total[i + 1])
        net = flows["net_migration"].sum(-1)
        out[:, _AT["net_migration"], i] = net
        out[:, _AT["population_yearend"], i] += 0.5 * (births - deaths + flows["net_migration"]
                                                       ).sum(-1)
        births = births_next
    out[:, _AT["population_yearend"], steps] = np.nan
    return out


def _record(out: np.ndarray, P: np.ndarray, births: np.ndarray, f: np.ndarray) -> None:
    """Write one year's indicators (county, indicator, draw) from its population P (county,
    draw, sex, age), births (county, draw, sex) and ASFR f (county, draw, age)."""
    young = P[..., :6].sum(2)
    population = P.sum((2, 3))
    out[:, _AT["births"]] = births.sum(-1)
    out[:, _AT["tfr"]] = f.sum(-1)
    out[:, _AT["population"]] = population
    out[:, _AT["crude_birth_rate"]] = 1000.0 * out[:, _AT["births"]] / population
    out[:, _AT["population_yearend"]] = population
    for a in range(6):
        out[:, _AT[f"population_age_{a}"]] = young[..., a]
    out[:, _AT["population_0_2"]] = young[..., :3].sum(-1)
    out[:, _AT["population_3_5"]] = young[..., 3:].sum(-1)


def prefecture_draws(draws: np.ndarray, members: np.ndarray, prefectures: list[str]
                     ) -> np.ndarray:
    """Indicator draws (prefecture, indicator, year, draw) as sums of the counties' (county,
    indicator, year, draw) whose prefecture code is in ``members`` (county,): counts summed
    draw by draw, the crude birth rate recomputed from them, the TFR undefined (NaN)."""
    out = np.stack([draws[members == code].sum(0) for code in prefectures])
    out[:, _AT["tfr"]] = np.nan
    out[:, _AT["crude_birth_rate"]] = (1000.0 * out[:, _AT["births"]]
                                       / out[:, _AT["population"]])
    return out


def quantiles(draws: np.ndarray) -> np.ndarray:
    """The quantiles of :data:`forecast.indicators.QUANTILES` over the last axis (draw),
    linear interpolation (``numpy.quantile``, as the provincial tables); (..., quantile),
    NaN where undefined."""
    return np.moveaxis(np.quantile(draws, list(QUANTILES.values()), axis=-1), 0, -1)


def summarise_province(draws: np.ndarray, members: np.ndarray, prefectures: list[str]
                       ) -> np.ndarray:
    """Quantiles (prefecture + county, indicator, year, quantile) of one province: its
    prefectures (sums of their counties) first, then its counties in the order of ``draws``
    (county, indicator, year, draw)."""
    return quantiles(np.concatenate([prefecture_draws(draws, members, prefectures), draws]))
