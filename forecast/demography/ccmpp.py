"""Cohort-component projection: single years of age, annual steps, both sexes.

One pure function, :func:`project`, vectorised over ``region`` and ``draw``. A step runs from
1 July of year t to 1 July of year t+1. Fertility, mortality and the sex ratio at birth are
calendar-year rates (``year = Y`` is calendar year Y); net migration is given per step:

.. math::

    E_{x} &= P_{x}(t) + M_{x}/2 \\quad\\text{(half the step's net migrants join at the start)}\\\\
    P_{x+1}(t+1) &= S_{x} E_{x} + M_{x+1}/2, \\qquad
    P_{100+}(t+1) = S_{99}(E_{99} + E_{100+}) + M_{100}/2 \\\\
    B(Y) &= \\sum_x f_x(Y)\\, W_x(Y) \\quad\\text{(calendar year Y: its rates, the women at 1 July Y)}\\\\
    B_{t} &= \\tfrac12 B(t) + \\tfrac12 B(t+1), \\qquad P_{0}(t+1) = B_{t,s} L_0 + M_{0}/2 \\\\
    D(Y) &= \\sum_x m_x(Y)\\, P_x(Y)

with S_x from :func:`forecast.demography.lifetable.survivorship` of the step's death rates (the mean
of calendar years t and t+1, the timing that makes WPP balance), W_x women aged x at 1 July
(the exposure of the calendar year), f_x single-year ASFR and M_x net migrants by age. The
step's births are the second half of calendar year t's and the first half of t+1's, each
split by sex with its own year's sex ratio at birth (male share SRB/(1+SRB)). Calendar-year
births and deaths are thus computed directly from that year's rates and exposure
(``births_calendar``, ``deaths_calendar``), not averaged from steps, which would smooth a
one-year spike. Step deaths are what the survivorship removes, so for every region, sex and
step

.. math:: P(t+1) = P(t) + B_t - D_t + M_t

holds to floating-point precision. Where net emigration would take a cohort below zero
(tiny cohorts at the oldest ages), the cohort is set to zero and the emigration that could
not happen is reported as ``migration_clamped``; ``net_migration`` in the result is the
migration actually applied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr

from forecast.core.by_year import year_of
from forecast.demography import compiled_step
from forecast.demography.graduation import MAX_AGE
from forecast.demography.lifetable import survivorship_arrays
from forecast.demography.population_stream import PopulationStream
from forecast.core.variables import SEXES, annotate, check

_STATE = ("region", "draw", "sex", "age")
_FEMALE = SEXES.index("female")
_MALE = SEXES.index("male")


def project(population: xr.DataArray, asfr: xr.DataArray, mx: xr.DataArray, srb: xr.DataArray,
            net_migration: xr.DataArray, births_total: xr.DataArray | None = None,
            net_migration_rate: xr.DataArray | None = None,
            migration_total: xr.DataArray | None = None,
            keep_migration_of: list[str] | None = None,
            dtype: str = "float64", exchange: xr.DataArray | None = None,
            reference: bool = False, population_quantiles: Sequence[float] | None = None,
            young_ages: int = 0, progress: Callable[[int, int], None] | None = None
            ) -> xr.Dataset:
    """Project a population forward one year per entry of ``net_migration.year``.

    Parameters
    ----------
    population : (region, sex, age[, draw]), persons
        Population at 1 July of the base year, the first value of ``net_migration.year``.
    net_migration : (sex, age, year[, region, draw]), persons per step
        Net migrants of the step starting 1 July of ``year``; its years are the steps.
    asfr : (age, year[, region, draw]), births per woman per year
        Calendar-year fertility by completed age of the mother, for every step year and the
        year after the last step.
    mx : (sex, age, year[, region, draw]), deaths per person-year, calendar years as ``asfr``
    srb : (year[, region, draw]), male births per female birth, calendar years as ``asfr``
    births_total : (year[, draw][, sex]), persons per year, optional
        Calendar-year births (years as ``asfr``): when given, each year's births are scaled
        by one factor common to all regions so that they sum to it (used to hold
        sub-national projections to a national one); with ``sex``, each sex's births are then
        raked to its own total (regions with their own sex ratios at birth).
    net_migration_rate : (sex, age, year[, region, draw]), per person per step, optional
        Net migrants as a share of the population at the start of the step, added to
        ``net_migration``: flows that follow the cohorts they come from.
    migration_total : (sex, age, year[, draw]), persons per step, optional
        Net migrants that the regions must add up to at every sex and age in each step
        (the nation's): the difference is shared out in proportion to each region's
        absolute flow (by population where no region has a flow), as migration between
        regions nets to zero at every age.
    keep_migration_of : region codes, optional
        Regions whose net migrants by sex and age are returned (``net_migration_by_age``,
        migration_region x sex x age x year x draw, persons per step, NaN in the last year;
        before any clamping),
        e.g. to share a province's migration among its counties.
    exchange : (region, sex, age[, year][, draw]), persons per step, optional
        Net migrants between the regions added after the reconciliation to
        ``migration_total`` (they must sum to zero over the regions at every sex and age),
        e.g. migration between a province's counties.
    dtype : "float64" (default) or "float32"
        Floating-point type of the arrays and results: float32 halves the memory; its
        populations, births and deaths differ from float64's by about 1e-6 relative
        (``tests/demography/test_ccmpp.py``; configs/config.yaml ``precision``).
    reference : bool
        Step with :func:`reference_step` (whole-array NumPy, the readable reference the tests
        hold the compiled step to) instead of :mod:`forecast.demography.compiled_step`.
    population_quantiles : probabilities in [0, 1], optional
        Stream the population (with more than one draw): only two years' state are held,
        and of each year the ``population`` keeps these quantiles over draws
        (:func:`forecast.core.draw_quantiles.quantiles`), ``population_total`` the
        persons of every draw summed over sex and age and ``population_young`` every
        draw's first ``young_ages`` single ages; the memory then no longer grows with
        years x draws times the 202 sex-age cells.
    young_ages : int >= 0
        The ages 0, ..., ``young_ages`` - 1 whose draws a streamed population keeps.
    progress : callable (steps done, steps), optional
        Called after each step, e.g. to log a long projection's progress.

    Returns
    -------
    xarray.Dataset
        ``population`` (region, sex, age, year, draw) at 1 July of each year from the base
        year to one year after the last step (streamed: (region, sex, age, year, quantile),
        with ``population_total`` (region, year, draw) and ``population_young`` (region,
        sex, young_age, year, draw)); ``births``, ``deaths``, ``net_migration`` and
        ``migration_clamped`` (region, sex, year, draw) for each step (NaN in the last year,
        which no step follows); ``births_calendar``
        and ``deaths_calendar`` (region, sex, year, draw) for each calendar year from the
        base year to the year after the last step. Deterministic inputs give ``draw`` of
        size 1.
    """
    for da, name in ((population, "population"), (asfr, "asfr"), (mx, "mx"), (srb, "srb"),
                     (net_migration, "net_migration")):
        check(da, name)
    steps = net_migration["year"].values
    if len(steps) == 0 or np.any(np.diff(steps) != 1):
        raise ValueError(f"net_migration.year must be consecutive years; got {steps}")
    years = np.append(steps, steps[-1] + 1)
    regions = population["region"].values
    draws = _draw_coord(population, asfr, mx, srb, net_migration, births_total,
                        net_migration_rate, migration_total, exchange)
    coords = {"region": regions, "draw": draws, "sex": list(SEXES), "age": np.arange(MAX_AGE + 1)}

    dt = np.dtype(dtype)

    def arr(da, dims, wanted=years, lazy=False):
        return _aligned(da, dims, coords, wanted, lazy).astype(dt, copy=False)

    MX = arr(mx, ("year",) + _STATE)
    # fertility and migration may be made a year at a time (forecast.core.by_year): read
    # with year_of, step by step
    F = arr(asfr, ("year", "region", "draw", "age"), lazy=True)
    SRB = arr(srb, ("year", "region", "draw"))
    MIG = arr(net_migration, ("year",) + _STATE, steps, lazy=True)
    RATE = (None if net_migration_rate is None
            else arr(net_migration_rate, ("year",) + _STATE, steps, lazy=True))
    MTOTAL = (None if migration_total is None
              else arr(migration_total, ("year", "draw", "sex", "age"), steps))
    TOTAL = None if births_total is None else arr(births_total, ("year", "draw") + (
        ("sex",) if "sex" in births_total.dims else ()))
    EXCHANGE = None if exchange is None else arr(exchange, ("year",) + _STATE, steps)
    P = np.broadcast_to(arr(population, _STATE), tuple(len(coords[d]) for d in _STATE)).copy()
    if np.any(P < 0) or not np.all(np.isfinite(P)):
        raise ValueError("population must be finite and non-negative")

    n = len(steps)
    streamed = population_quantiles is not None and len(draws) > 1
    # streamed: years alternate between two buffers, each summarised once it is complete
    pops = np.empty(((2 if streamed else n + 1),) + P.shape, dtype=dt)
    summary = (PopulationStream(n + 1, P.shape, population_quantiles, young_ages, dt)
               if streamed else None)
    # a step's flows are held for every year, NaN in the last (no step follows it): the
    # Dataset's year, without a reindexed copy
    flows = {k: np.full((n + 1,) + P.shape[:-1], np.nan, dtype=dt) for k in (
        "births", "deaths", "net_migration", "migration_clamped")}
    calendar = {k: np.empty((n + 1,) + P.shape[:-1], dtype=dt) for k in ("births", "deaths")}
    kept = [list(regions).index(r) for r in (keep_migration_of or [])]
    kept_migration = np.empty((n + 1, len(kept)) + P.shape[1:], dtype=dt)
    kept_migration[n] = np.nan  # every step's is written in its turn; the last year has none
    pops[0] = P
    calendar["births"][0] = _calendar_births(P, year_of(F, 0), SRB[0],
                                             None if TOTAL is None else TOTAL[0])
    calendar["deaths"][0] = (MX[0] * P).sum(-1)
    if not reference:
        MX64 = np.require(MX, dtype=float, requirements=("C", "W"))
        work = compiled_step.buffers(tuple(P.shape[k] for k in (0, 2, 3, 1)))  # draw-last
    for i in range(n):
        now, after = pops[i % len(pops)], pops[(i + 1) % len(pops)]
        if summary is not None:
            summary.add(i, now)
        sx, sb = _survivorship(0.5 * (MX[i] + MX[i + 1]))
        mig = _migrants(now, year_of(MIG, i), None if RATE is None else year_of(RATE, i),
                        None if MTOTAL is None else MTOTAL[i])
        if EXCHANGE is not None:  # without a year dim: the same in every step
            mig = mig + EXCHANGE[i if len(EXCHANGE) > 1 else 0]
        if kept:
            kept_migration[i] = np.broadcast_to(mig, P.shape)[kept]
        total_next = None if TOTAL is None else TOTAL[i + 1]
        f_next = year_of(F, i + 1)  # made now where the rates are made a year at a time
        if reference:
            sx, sb = (a.astype(dt, copy=False) for a in (sx, sb))
            after[...], step_flows, births_next, deaths_next = reference_step(
                now, sx, sb, mig, calendar["births"][i], f_next, SRB[i + 1],
                total_next, MX[i + 1])
        else:
            step_flows, births_next, deaths_next = _compiled(
                now, after, sx, sb, mig, calendar["births"][i],
                np.require(f_next, dtype=float, requirements=("C", "W")), SRB[i + 1],
                total_next, MX64[i + 1], work)
        calendar["births"][i + 1] = births_next
        calendar["deaths"][i + 1] = deaths_next
        for k, v in step_flows.items():
            flows[k][i] = v
        if progress is not None:
            progress(i + 1, n)
    if summary is not None:
        summary.add(n, pops[n % 2])

    out = ({"population": xr.DataArray(pops, dims=("year",) + _STATE,
                                       coords={**coords, "year": years})}
           if summary is None else summary.arrays(coords, years))
    flow_coords = {k2: coords[k2] for k2 in ("region", "draw", "sex")}
    for k, v in flows.items():
        out[k] = xr.DataArray(v, dims=("year", "region", "draw", "sex"),
                              coords=flow_coords | {"year": years})
    for k, v in calendar.items():
        out[f"{k}_calendar"] = xr.DataArray(v, dims=("year", "region", "draw", "sex"),
                                            coords=flow_coords | {"year": years})
    # quantiles first, as dataset_quantiles puts them
    ds = xr.Dataset({k: annotate(v.transpose(*(d for d in ("quantile", "region", "sex")
                                               if d in v.dims), ..., "year",
                                             *(d for d in ("draw",) if d in v.dims)), k)
                     for k, v in out.items()})
    if kept:
        ds["net_migration_by_age"] = xr.DataArray(
            kept_migration, dims=("year", "migration_region", "draw", "sex", "age"),
            coords={"year": years, "migration_region": list(keep_migration_of),
                    "draw": draws, "sex": list(SEXES), "age": coords["age"]},
            attrs={"units": "persons per step"}).transpose("migration_region", "sex", "age",
                                                           "year", "draw")
    if "region_name" in population.coords:
        ds = ds.assign_coords(region_name=population["region_name"])
    return ds


def _migrants(P, counts, rate, total):
    """Net migrants of a step (region, draw, sex, age): ``counts`` plus ``rate`` times the
    population at the step's start, reconciled to ``total`` (draw, sex, age) when given."""
    mig = np.broadcast_to(counts, P.shape) if rate is None else counts + rate * P
    if total is None:
        return mig
    if all(x.dtype == np.float64 for x in (mig, P, total)):  # the same numbers, compiled
        return compiled_step.reconciled(mig, P, total)
    return reconcile_reference(mig, P, total)


def reconcile_reference(mig, P, total):
    """Migrants ``mig`` (region, draw, sex, age) reconciled to ``total`` (draw, sex, age)
    in whole-array NumPy: each cell's excess over the total shared among regions by
    |mig|, or by the population P where no region has migrants. The readable reference of
    :func:`forecast.demography.compiled_step.reconcile`."""
    size = np.abs(mig)
    scale = size.sum(0, keepdims=True)
    weight = np.where(scale > 0, size / np.where(scale > 0, scale, 1.0),
                      P / np.maximum(P.sum(0, keepdims=True), 1e-300))
    return mig - (mig.sum(0) - total)[None] * weight


def _survivorship(mx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step survivorship (region, draw, sex, age) and births' survival L0 (region, draw, sex)
    from the step's death rates (region, draw, sex, age)."""
    sx, sb = np.empty_like(mx), np.empty(mx.shape[:-1])
    for k, sex in enumerate(SEXES):
        sx[:, :, k], sb[:, :, k] = survivorship_arrays(mx[:, :, k], sex)
    return sx, sb


def _calendar_births(P, f, srb, births_total):
    """Births of a calendar year by sex (region, draw, sex): its ASFR times the women at
    1 July of the year, scaled to ``births_total`` (draw) when given."""
    return births_by_sex((f * P[:, :, _FEMALE]).sum(-1), srb, births_total)


def births_by_sex(births, srb, births_total):
    """Births (region, draw) scaled to ``births_total`` when given, then split by sex with the
    sex ratio at birth: (region, draw, sex). A total by draw scales every region by one
    factor; a total by (draw, sex) then also rakes each sex to its own total, so that regions
    with their own sex ratios still add up to the nation's boys and girls."""
    by_sex_total = births_total is not None and np.ndim(births_total) == np.ndim(births)
    if births_total is not None:
        total = births_total.sum(-1) if by_sex_total else births_total
        raw = births.sum(0)
        if np.any((total > 0) & ~(raw > 0)):
            raise ValueError("births_total is positive where the regions' own births are zero: "
                             "no common factor can make them add up")
        births = births * np.divide(total, raw, out=np.zeros_like(raw), where=raw > 0)
    male_share = srb / (1.0 + srb)
    by_sex = np.empty(births.shape + (len(SEXES),), dtype=births.dtype)
    by_sex[..., _MALE] = births * male_share
    by_sex[..., _FEMALE] = births * (1.0 - male_share)
    if by_sex_total:
        raw = by_sex.sum(0)
        by_sex = by_sex * np.divide(births_total, raw, out=np.zeros_like(raw), where=raw > 0)
    return by_sex


def reference_step(P, sx, sb, mig, births_now, f_next, srb_next, total_next, mx_next):
    """One annual step on arrays (region, draw, sex, age) in whole-array NumPy: P(t+1), the
    step's flows and the births and deaths of calendar year t+1 (region, draw, sex). The
    readable reference of :func:`forecast.demography.compiled_step.advance`."""
    half = mig / 2.0
    enter = P + half
    clamped_start = np.clip(-enter, 0.0, None)
    enter = enter + clamped_start
    surv = enter * sx
    died = (enter - surv).sum(-1)

    nxt = np.zeros(np.broadcast_shapes(P.shape, half.shape), dtype=P.dtype)
    nxt[..., 1:MAX_AGE] = surv[..., : MAX_AGE - 1]
    nxt[..., MAX_AGE] = surv[..., MAX_AGE - 1] + surv[..., MAX_AGE]
    nxt[..., 1:] += half[..., 1:]
    clamped_end = np.clip(-nxt, 0.0, None)
    nxt += clamped_end

    # women at 1 July t+1 are aged 1 and over, so next year's births are known before age 0
    births_next = _calendar_births(nxt, f_next, srb_next, total_next)
    by_sex = 0.5 * (births_now + births_next)
    age0 = by_sex * sb + half[..., 0]
    clamped0 = np.clip(-age0, 0.0, None)
    nxt[..., 0] = age0 + clamped0
    clamped = clamped_start.sum(-1) + clamped_end.sum(-1) + clamped0
    flows = {
        "births": by_sex,
        "deaths": died + by_sex * (1.0 - sb),
        "net_migration": np.broadcast_to(mig, nxt.shape).sum(-1) + clamped,
        "migration_clamped": clamped,
    }
    return nxt, flows, births_next, (mx_next * nxt).sum(-1)


_NO_RATE = np.zeros((len(SEXES), MAX_AGE + 1, 1))
_NO_FACTOR = np.ones((1, 1))


def _compiled(P, nxt, sx, sb, mig, births_now, f_next, srb_next, total_next, mx_next, work):
    """:func:`reference_step` with the compiled step, writing P(t+1) into ``nxt``; ``work``:
    the buffers of :func:`forecast.demography.compiled_step.buffers`. The arrays here are
    (region, draw, sex[, age]); the step's are draw-last, and the step's results are
    turned back (the same numbers: only their order in memory differs)."""
    last = compiled_step.draws_last
    state = last(P, 1)
    following = np.empty_like(state)
    compiled_step.step(state, following, last(np.broadcast_to(mig, P.shape), 1), _NO_RATE,
                       last(sx, 1), last(f_next, 1), _NO_FACTOR, last(mx_next, 1), work)
    births_next = births_by_sex(work["raw_births"], srb_next, total_next)
    by_sex = 0.5 * (births_now + births_next)
    age0, clamped0 = compiled_step.complete_age0(following, by_sex.transpose(0, 2, 1),
                                                 sb.transpose(0, 2, 1), work["half0"])
    nxt[...] = following.transpose(0, 3, 1, 2)
    age0 = age0.transpose(0, 2, 1)
    clamped = work["clamped"].transpose(0, 2, 1) + clamped0.transpose(0, 2, 1)
    flows = {
        "births": by_sex,
        "deaths": work["died"].transpose(0, 2, 1) + by_sex * (1.0 - sb),
        "net_migration": work["migrated"].transpose(0, 2, 1) + clamped,
        "migration_clamped": clamped,
    }
    return flows, births_next, work["deaths_next"].transpose(0, 2, 1) + mx_next[..., 0] * age0


def _draw_coord(*arrays) -> np.ndarray:
    """The shared ``draw`` coordinate of the inputs that have one, else ``[0]``."""
    found = [a["draw"].values for a in arrays if a is not None and "draw" in a.dims]
    for other in found[1:]:
        if len(other) != len(found[0]) or np.any(other != found[0]):
            raise ValueError("inputs with a draw dim must share the same draw coordinate")
    return found[0] if found else np.array([0])


def _aligned(da: xr.DataArray, dims: tuple[str, ...], coords: dict, steps, lazy: bool = False):
    """Values of ``da`` ordered as ``dims``, size-1 axes where ``da`` lacks a dim (broadcasts):
    a NumPy array, or with ``lazy`` the Dask array of a lazy ``da``."""
    sel = {d: (steps if d == "year" else coords[d]) for d in dims if d in da.dims}
    sel = {d: v for d, v in sel.items()  # labels already in order need no (copying) selection
           if d not in da.indexes or not np.array_equal(da.indexes[d].values, v)}
    try:
        da = da.sel(sel)
    except KeyError as err:
        raise ValueError(f"{da.name or 'input'}: missing labels for the projection: {err}") from err
    missing = [d for d in dims if d not in da.dims]
    if missing:
        da = da.expand_dims(missing)
    da = da.transpose(*dims)
    if lazy and da.chunks is not None:
        return da.data.astype(float)
    return da.values.astype(float, copy=False)
