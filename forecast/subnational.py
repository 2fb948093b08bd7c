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
(``births_total`` of :func:`forecast.ccmpp.project`). With the national mortality schedule
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
    births_total = national["births"].sum("sex").sel(region=nation, drop=True)
    regional = project(pick(population, others), **{k: pick(v, others) for k, v in rates.items()},
                       births_total=births_total)
    return xr.concat([national, regional], dim="region", data_vars="all", coords="different",
                     compat="equals", join="outer")
