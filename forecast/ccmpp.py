"""Cohort-component projection: single years of age, annual steps, both sexes.

One pure function, :func:`project`, vectorised over ``region`` and ``draw``. A step runs from
1 July of year t to 1 July of year t+1 with the rates labelled ``year = t``:

.. math::

    E_{x} &= P_{x}(t) + M_{x}/2 \\quad\\text{(half the year's net migrants join at the start)}\\\\
    P_{x+1}(t+1) &= S_{x} E_{x} + M_{x+1}/2, \\qquad
    P_{100+}(t+1) = S_{99}(E_{99} + E_{100+}) + M_{100}/2 \\\\
    B &= \\sum_x f_x \\tfrac12\\left(W_x(t) + W_x(t+1)\\right), \\qquad
    B_{m} = B\\,\\frac{SRB}{1+SRB},\\; B_{f} = \\frac{B}{1+SRB} \\\\
    P_{0}(t+1) &= B_{s} L_0 + M_{0}/2

with S_x from :func:`forecast.lifetable.survivorship` (ratios of life-table person-years),
W_x women aged x, f_x single-year ASFR and M_x net migrants by age. Deaths are what the
survivorship removes, so for every region, sex and step

.. math:: P(t+1) = P(t) + B - D + M

holds to floating-point precision. Where net emigration would take a cohort below zero
(tiny cohorts at the oldest ages), the cohort is set to zero and the emigration that could
not happen is reported as ``migration_clamped``; ``net_migration`` in the result is the
migration actually applied.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.graduation import MAX_AGE
from forecast.lifetable import survivorship
from forecast.variables import SEXES, annotate, check

_STATE = ("region", "draw", "sex", "age")
_FEMALE = SEXES.index("female")
_MALE = SEXES.index("male")


def project(population: xr.DataArray, asfr: xr.DataArray, mx: xr.DataArray, srb: xr.DataArray,
            net_migration: xr.DataArray, births_total: xr.DataArray | None = None) -> xr.Dataset:
    """Project a population forward one year per entry of ``asfr.year``.

    Parameters
    ----------
    population : (region, sex, age[, draw]), persons
        Population at 1 July of the base year, the first value of ``asfr.year``.
    asfr : (age, year[, region, draw]), births per woman per year
        Fertility for the step starting 1 July of ``year``, by completed age of the mother.
    mx : (sex, age, year[, region, draw]), deaths per person-year
    srb : (year[, region, draw]), male births per female birth
    net_migration : (sex, age, year[, region, draw]), persons per year
    births_total : (year[, draw]), persons per year, optional
        When given, each step's births are scaled by one factor common to all regions so
        that they sum to it (used to hold sub-national projections to a national one).

    Returns
    -------
    xarray.Dataset
        ``population`` (region, sex, age, year, draw) at 1 July of each year from the base
        year to one year after the last step; ``births``, ``deaths``, ``net_migration`` and
        ``migration_clamped`` (region, sex, year, draw) for each step. Deterministic inputs
        give ``draw`` of size 1.
    """
    for da, name in ((population, "population"), (asfr, "asfr"), (mx, "mx"), (srb, "srb"),
                     (net_migration, "net_migration")):
        check(da, name)
    steps = asfr["year"].values
    if len(steps) == 0 or np.any(np.diff(steps) != 1):
        raise ValueError(f"asfr.year must be consecutive years; got {steps}")
    regions = population["region"].values
    draws = _draw_coord(population, asfr, mx, srb, net_migration, births_total)
    coords = {"region": regions, "draw": draws, "sex": list(SEXES), "age": np.arange(MAX_AGE + 1)}

    def arr(da, dims):
        return _aligned(da, dims, coords, steps)

    sx_da, sb_da = survivorship(mx.transpose(..., "sex", "age"))
    SX = arr(sx_da, ("year",) + _STATE)
    SB = arr(sb_da, ("year", "region", "draw", "sex"))
    F = arr(asfr, ("year", "region", "draw", "age"))
    SRB = arr(srb, ("year", "region", "draw"))
    MIG = arr(net_migration, ("year",) + _STATE)
    TOTAL = None if births_total is None else arr(births_total, ("year", "draw"))
    P = np.broadcast_to(arr(population, _STATE), tuple(len(coords[d]) for d in _STATE)).copy()
    if np.any(P < 0) or not np.all(np.isfinite(P)):
        raise ValueError("population must be finite and non-negative")

    n = len(steps)
    pops = np.empty((n + 1,) + P.shape)
    flows = {k: np.empty((n,) + P.shape[:-1]) for k in ("births", "deaths", "net_migration",
                                                         "migration_clamped")}
    pops[0] = P
    for i in range(n):
        P, step_flows = _step(P, SX[i], SB[i], F[i], SRB[i], MIG[i],
                              None if TOTAL is None else TOTAL[i])
        pops[i + 1] = P
        for k, v in step_flows.items():
            flows[k][i] = v

    pop_years = np.append(steps, steps[-1] + 1)
    out = {"population": xr.DataArray(pops, dims=("year",) + _STATE,
                                      coords={**coords, "year": pop_years})}
    for k, v in flows.items():
        out[k] = xr.DataArray(v, dims=("year", "region", "draw", "sex"),
                              coords={k2: coords[k2] for k2 in ("region", "draw", "sex")} | {"year": steps})
    ds = xr.Dataset({k: annotate(v.transpose("region", "sex", ..., "year", "draw"), k)
                     for k, v in out.items()})
    if "region_name" in population.coords:
        ds = ds.assign_coords(region_name=population["region_name"])
    return ds


def _step(P, sx, sb, f, srb, mig, births_total):
    """One annual step on arrays (region, draw, sex, age); returns P(t+1) and the flows."""
    half = mig / 2.0
    enter = P + half
    clamped_start = np.clip(-enter, 0.0, None)
    enter = enter + clamped_start
    surv = enter * sx
    died = (enter - surv).sum(-1)

    nxt = np.zeros(np.broadcast_shapes(P.shape, half.shape))
    nxt[..., 1:MAX_AGE] = surv[..., : MAX_AGE - 1]
    nxt[..., MAX_AGE] = surv[..., MAX_AGE - 1] + surv[..., MAX_AGE]
    nxt[..., 1:] += half[..., 1:]
    clamped_end = np.clip(-nxt, 0.0, None)
    nxt += clamped_end

    women = 0.5 * (P[:, :, _FEMALE] + nxt[:, :, _FEMALE])
    births = (f * women).sum(-1)
    if births_total is not None:
        raw = births.sum(0)
        if np.any((births_total > 0) & ~(raw > 0)):
            raise ValueError("births_total is positive where the regions' own births are zero: "
                             "no common factor can make them add up")
        births = births * np.divide(births_total, raw, out=np.zeros_like(raw), where=raw > 0)
    male_share = srb / (1.0 + srb)
    by_sex = np.empty(births.shape + (len(SEXES),))
    by_sex[..., _MALE] = births * male_share
    by_sex[..., _FEMALE] = births * (1.0 - male_share)

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
    return nxt, flows


def _draw_coord(*arrays) -> np.ndarray:
    """The shared ``draw`` coordinate of the inputs that have one, else ``[0]``."""
    found = [a["draw"].values for a in arrays if a is not None and "draw" in a.dims]
    for other in found[1:]:
        if len(other) != len(found[0]) or np.any(other != found[0]):
            raise ValueError("inputs with a draw dim must share the same draw coordinate")
    return found[0] if found else np.array([0])


def _aligned(da: xr.DataArray, dims: tuple[str, ...], coords: dict, steps) -> np.ndarray:
    """Values of ``da`` ordered as ``dims``, size-1 axes where ``da`` lacks a dim (broadcasts)."""
    sel = {d: (steps if d == "year" else coords[d]) for d in dims if d in da.dims}
    try:
        da = da.sel(sel)
    except KeyError as err:
        raise ValueError(f"{da.name or 'input'}: missing labels for the projection: {err}") from err
    missing = [d for d in dims if d not in da.dims]
    if missing:
        da = da.expand_dims(missing)
    return da.transpose(*dims).values.astype(float)
