"""Sub-national projections held consistent with the nation.

Provincial fertility starts from the national schedule scaled by a factor: the province's
observed births over the births its women would have at the national rates
(:mod:`forecast.demography.provincial_history`). A region without observed births falls back on the
census child-woman ratio, age-standardised the same way (:func:`child_woman_ratio_factor`; Rele
1967): children under 5 reflect the last five years' births, but also infant and child
mortality and the migration of children apart from their mothers (children left with
grandparents in the province of origin), so it understates fertility where adult migrants
concentrate.

Consistency: the provinces are projected with one factor per step common to all of them,
chosen so that provincial births sum to the national projection's births
(``births_total`` of :func:`forecast.demography.ccmpp.project`, by calendar year). With the national
mortality schedule and sex ratio at birth for every province, provincial populations then sum to the
national population up to the small differences of graduating each region's age groups separately.

References: Rele, J. R. (1967), *Fertility analysis through extension of stable population
concepts*; Ševčíková, Raftery & Gerland (2018), Probabilistic projection of subnational total
fertility rates, *Demographic Research* 38(60).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.core.by_year import computed
from forecast.demography.ccmpp import project
from forecast.core.errors import InputError, problem, raise_if


def child_woman_ratio_factor(population: xr.DataArray, asfr: xr.DataArray, nation: str,
                             source: str = "census") -> xr.DataArray:
    """Age-standardised child-woman ratio by region, relative to the nation's: the fallback
    fertility level of a region without observed births.

    The children aged 0-4 of each region are compared with the children its women would
    have at the national age-specific rates (indirect standardisation, as for births in
    :func:`forecast.demography.provincial_history.indirect_standardisation`), so that a region with
    many women at the peak childbearing ages is not read as a region of high fertility:

    .. math:: \\alpha_r = \\frac{C_r / \\sum_x f_x W_{r,x}}{C_n / \\sum_x f_x W_{n,x}}

    Parameters
    ----------
    population : (region, sex, age), persons by single year of age
    asfr : (age), national births per woman per year (e.g. of the years before the census)
    nation : the region code of the nation

    Returns
    -------
    DataArray (region), dimensionless; 1 for the nation.
    """
    children = population.sel(age=population["age"] < 5).sum(("sex", "age"))
    women = population.sel(sex="female", drop=True)
    expected = (asfr * women).sum("age")
    codes = [str(c) for c in population["region"].values]
    raise_if([problem(source, "value", None, f"{e:g} expected births in region {c}",
                      "women of childbearing age in every region")
              for c, e in zip(codes, expected.values) if not e > 0])
    ratio = children / expected
    national = float(ratio.sel(region=nation))
    if not np.isfinite(national) or not national > 0:
        raise InputError(problem(source, "value", None, "no children aged 0-4 in the nation",
                                 "a positive national child-woman ratio"))
    return (ratio / national).assign_attrs(units="1", description=(
        "age-standardised child-woman ratio relative to the nation's"))


def project_with_nation(population: xr.DataArray, rates: dict[str, xr.DataArray], nation: str,
                        keep_migration_of: list[str] | None = None, dtype: str = "float64",
                        progress=None, **streamed) -> xr.Dataset:
    """Project the nation, then the other regions with births raked to the nation's.

    ``rates`` holds ``asfr``, ``mx``, ``srb``, ``net_migration`` and optionally
    ``net_migration_rate`` as for :func:`forecast.demography.ccmpp.project`; where ``net_migration``
    has a row for the nation, the other regions' net migrants are reconciled to it by sex and age
    in every step (``migration_total``); ``population`` must hold the nation and all of its
    regions, since the other regions' births are scaled to add up to the nation's;
    ``streamed`` passes ``population_quantiles`` and ``young_ages`` on to
    :func:`forecast.demography.ccmpp.project`, ``progress`` to the other regions'
    projection. Returns one Dataset with the nation first.
    """
    others = [r for r in population["region"].values if r != nation]

    def pick(da, keep):
        if "region" not in da.dims:
            return da
        at = da.get_index("region").get_indexer(keep)
        if len(at) and np.all(at >= 0) and np.all(np.diff(at) == 1):  # a run of regions: a view, no copy
            return da.isel(region=slice(int(at[0]), int(at[-1]) + 1))
        return da.sel(region=keep)

    # the nation's rates in memory: small, and one year of a lazy rate holds every region
    national = project(pick(population, [nation]),
                       **{k: computed(pick(v, [nation])) for k, v in rates.items()},
                       dtype=dtype, **streamed)
    if not others:
        return national
    # by sex: regions with their own sex ratios at birth still add up to the nation's
    births_total = national["births_calendar"].sel(region=nation, drop=True)
    # migration between regions nets to zero at every age: the regions' flows add up to the
    # nation's by sex and age in every step (with the nation's row of the inputs)
    migration_total = (rates["net_migration"].sel(region=nation, drop=True)
                       if "region" in rates["net_migration"].dims else None)
    regional = project(pick(population, others), **{k: pick(v, others) for k, v in rates.items()},
                       births_total=births_total, migration_total=migration_total,
                       keep_migration_of=keep_migration_of, dtype=dtype, progress=progress,
                       **streamed)
    kept = regional.get("net_migration_by_age")
    regional = regional.drop_vars("net_migration_by_age", errors="ignore")
    both = xr.concat([national, regional], dim="region", data_vars="all", coords="different",
                     compat="equals", join="outer")
    return both if kept is None else both.assign(net_migration_by_age=kept)


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
