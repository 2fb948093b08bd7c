"""Sub-national projections held consistent with the nation.

Provincial fertility starts from the national schedule scaled by a factor from the census:
the child-woman ratio (children aged 0-4 per woman aged 15-49) of the province over the
nation's. The ratio is a census-only fertility indicator (Rele 1967): children under 5
reflect the last five years' births per woman of childbearing age, so its relative level
approximates relative TFR without registered births. It also reflects infant and child
mortality and the migration of children apart from their mothers (children left with
grandparents in the province of origin), so it understates fertility where adult migrants
concentrate.

Consistency: the provinces are projected with one factor per step common to all of them,
chosen so that provincial births sum to the national projection's births
(``births_total`` of :func:`forecast.ccmpp.project`, by calendar year). With the national mortality schedule
and sex ratio at birth for every province, provincial populations then sum to the national
population up to the small differences of graduating each region's age groups separately.

References: Rele, J. R. (1967), *Fertility analysis through extension of stable population
concepts*; Ševčíková, Raftery & Gerland (2018), Probabilistic projection of subnational total
fertility rates, *Demographic Research* 38(60).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.ccmpp import project
from forecast.errors import InputError, problem, raise_if
from forecast.variables import SEXES


def child_woman_ratio_factor(counts: np.ndarray, starts: np.ndarray, codes: list[str],
                             nation: str, source: str = "census") -> xr.DataArray:
    """Relative child-woman ratio by region.

    Parameters
    ----------
    counts : array (region, sex, group), persons; sexes ordered female, male
    starts : array (group,), first age of each group
    codes : region codes along the first axis; ``nation`` is one of them

    Returns
    -------
    DataArray (region), dimensionless: (C/W)_region / (C/W)_nation with C persons aged 0-4
    and W women aged 15-49.
    """
    starts = np.asarray(starts)
    children = counts[:, :, starts < 5].sum((1, 2))
    women = counts[:, SEXES.index("female"), (starts >= 15) & (starts < 50)].sum(-1)
    raise_if([problem(source, "value", None, f"{w:g} women aged 15-49 in region {c}",
                      "a positive number of women of childbearing age")
              for c, w in zip(codes, women) if not w > 0])
    ratio = children / women
    factor = ratio / ratio[codes.index(nation)]
    if not np.all(np.isfinite(factor)) or not factor[codes.index(nation)] > 0:
        raise InputError(problem(source, "value", None, "no children aged 0-4 in the nation",
                                 "a positive national child-woman ratio"))
    return xr.DataArray(factor, dims="region", coords={"region": codes})


def project_with_nation(population: xr.DataArray, rates: dict[str, xr.DataArray], nation: str
                        ) -> xr.Dataset:
    """Project the nation, then the other regions with births raked to the nation's.

    ``rates`` holds ``asfr``, ``mx``, ``srb`` and ``net_migration`` as for
    :func:`forecast.ccmpp.project`; ``population`` must hold the nation and all of its
    regions, since the other regions' births are scaled to add up to the nation's. Returns
    one Dataset with the nation first.
    """
    others = [r for r in population["region"].values if r != nation]

    def pick(da, keep):
        return da.sel(region=keep) if "region" in da.dims else da

    national = project(pick(population, [nation]), **{k: pick(v, [nation]) for k, v in rates.items()})
    if not others:
        return national
    births_total = national["births_calendar"].sum("sex").sel(region=nation, drop=True)
    regional = project(pick(population, others), **{k: pick(v, others) for k, v in rates.items()},
                       births_total=births_total)
    return xr.concat([national, regional], dim="region", data_vars="all", coords="different",
                     compat="equals", join="outer")


#: Annual defaults of the Scale-AR(1) model (Ševčíková, Raftery & Gerland 2018, from the
#: published 5-year rho = 0.92464, sigma = 0.04522).
ANNUAL_RHO = 0.98445
ANNUAL_SIGMA = 0.02086


def scale_factor_paths(start: xr.DataArray, start_year: int, years: np.ndarray, draws: int,
                       rng: np.random.Generator, rho: float = ANNUAL_RHO,
                       sigma: float = ANNUAL_SIGMA, fixed: list[str] = ()) -> xr.DataArray:
    """Sub-national fertility scale factors as an AR(1) towards 1, one path per draw.

    .. math:: \\alpha_{r,t} - 1 = \\rho\\,(\\alpha_{r,t-1} - 1) + \\sigma \\varepsilon_{r,t},
              \\quad \\varepsilon \\sim N(0, 1), \\quad \\alpha_{r,t_0} = \\text{start}_r

    Regional TFR is the national TFR times the factor. Factors are floored at 0.05 so that
    a long path cannot reach zero. Regions in ``fixed`` (the nation) keep factor 1.

    Parameters
    ----------
    start : (region), dimensionless; the factor in ``start_year`` (e.g. from the census)
    years : calendar years wanted (>= start_year)
    draws : number of paths

    Returns
    -------
    DataArray (region, year, draw), dimensionless.
    """
    years = np.asarray(years)
    n_steps = int(years.max() - start_year)
    paths = np.empty((start.sizes["region"], n_steps + 1, draws))
    paths[:, 0, :] = start.values[:, None]
    shocks = rng.standard_normal((start.sizes["region"], n_steps, draws)) * sigma
    for k in range(n_steps):
        paths[:, k + 1] = np.maximum(1.0 + rho * (paths[:, k] - 1.0) + shocks[:, k], 0.05)
    out = xr.DataArray(paths, dims=("region", "year", "draw"),
                       coords={"region": start["region"].values,
                               "year": np.arange(start_year, start_year + n_steps + 1),
                               "draw": np.arange(draws)})
    for region in fixed:
        out.loc[{"region": region}] = 1.0
    return out.sel(year=years).assign_attrs(units="1", description="regional TFR / national TFR")
