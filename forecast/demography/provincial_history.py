"""Provincial history from published series: fertility levels and net migration.

Two estimates for every province, from its published crude birth rates and year-end
populations (:func:`forecast.data.nbs.province_series`) and the census age structure:

**Fertility level by indirect standardisation** (Preston, Heuveline & Guillot 2001,
*Demography*, ch. 2). For each observed year Y the births expected in province p if its
women had the national age-specific rates are

.. math:: E_p(Y) = \\sum_x f^{nat}_x(Y)\\, W_{p,x}(Y), \\qquad B_p(Y) = b_p(Y)\\, N_p(Y)

and the province's factor is the ratio of observed to expected births relative to the
nation's (the sum over provinces), so that a province whose women bear children at the
national rates has factor 1 whatever its age structure:

.. math:: \\alpha_p(Y) = \\frac{B_p(Y) / E_p(Y)}{\\sum_q B_q(Y) / \\sum_q E_q(Y)}

with b the crude birth rate, N the mean of the year-end populations of Y-1 and Y, and W the
women by single age in Y: the census population of 1 July 2020 survived back along its
cohorts with the national death rates (no migration), scaled to N_p(Y). Only the province's
age *structure* in Y enters, so its level is that of the published population.

**Net migration** as the residual of the demographic balance, step by step (1 July t to
1 July t+1, mid-year populations N):

.. math:: M_p(t) = N_p(t+1) - N_p(t) - \\tfrac12 (B_p(t) + B_p(t+1)) + \\tfrac12 (D_p(t) + D_p(t+1))

The step out of the base year starts from the census population instead of N (the two
differ by up to 1 %, e.g. Hubei, whose 2019 year-end figure predates the census), so that
the projection meets the published population of the years after the census.
Births are the crude birth rate times N where published, else the nation's observed births
shared by the provinces' expected births times their fertility factor; deaths are the
nation's observed deaths shared by expected deaths (national death rates applied to each
province's census age structure, scaled to N). Both are raked to the nation's observed
births and deaths where the nation has them. The provinces' residuals do not add up to the
nation's net migration (zero for migration between provinces; the provincial and national
series are not fully consistent, their difference changing by about 0.5 million a year
before 2020), so the difference is shared out in proportion to each province's absolute
residual: the provinces then sum to the national net migration in every step, and a province
with no residual keeps none.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.demography.lifetable import survivorship_arrays
from forecast.core.variables import SEXES

_FEMALE = SEXES.index("female")


def survive_back(population: xr.DataArray, mx: xr.DataArray, base_year: int, years: np.ndarray
                 ) -> xr.DataArray:
    """The population of 1 July of earlier ``years`` from that of the base year, along
    cohorts, adding back deaths with ``mx``; no migration.

    Parameters
    ----------
    population : (region, sex, age), persons at 1 July of ``base_year``
    mx : (sex, age), deaths per person-year, held for every step
    years : calendar years wanted, none after ``base_year``; ``base_year - year`` steps back

    Returns
    -------
    DataArray (region, sex, age, year), persons. Ages 99 and 100+ keep the base year's
    counts (their cohorts cannot be told apart in the open interval).
    """
    base_values = population.transpose("region", "sex", "age").values
    sx = np.stack([survivorship_arrays(mx.sel(sex=s).values, s)[0] for s in SEXES])
    base = int(base_year)
    n_age = base_values.shape[-1]
    out = np.empty(base_values.shape + (len(years),))
    for j, year in enumerate(years):
        k = base - int(year)
        back = base_values.copy()
        for _ in range(k):
            # persons aged x+1 one year later were aged x: divide by the survival of age x
            prev = back.copy()
            prev[..., : n_age - 2] = back[..., 1 : n_age - 1] / sx[None, :, : n_age - 2]
            back = prev
        out[..., j] = back
    return _cohorts(out, population, years, "back")


def survive_forward(population: xr.DataArray, mx: xr.DataArray, base_year: int,
                    years: np.ndarray) -> xr.DataArray:
    """The population of 1 July of later ``years`` from that of the base year, along
    cohorts, removing deaths with ``mx``; no migration and no births: ages under
    ``year - base_year`` (born after the base year) are NaN.

    Parameters and result as :func:`survive_back`, with ``years`` none before ``base_year``.
    """
    base_values = population.transpose("region", "sex", "age").values
    sx = np.stack([survivorship_arrays(mx.sel(sex=s).values, s)[0] for s in SEXES])
    n_age = base_values.shape[-1]
    out = np.empty(base_values.shape + (len(years),))
    for j, year in enumerate(years):
        ahead = base_values.copy()
        for _ in range(int(year) - int(base_year)):
            # persons aged x survive to x+1 a year later; the open interval keeps its own
            nxt = np.full_like(ahead, np.nan)
            nxt[..., 1 : n_age - 1] = ahead[..., : n_age - 2] * sx[None, :, : n_age - 2]
            nxt[..., n_age - 1] = ahead[..., n_age - 1]
            ahead = nxt
        out[..., j] = ahead
    return _cohorts(out, population, years, "forward")


def _cohorts(values: np.ndarray, population: xr.DataArray, years, direction: str
             ) -> xr.DataArray:
    """(region, sex, age, year) persons survived ``direction`` from ``population``."""
    return xr.DataArray(values, dims=("region", "sex", "age", "year"),
                        coords={"region": population["region"].values, "sex": list(SEXES),
                                "age": population["age"].values, "year": np.asarray(years)},
                        attrs={"units": "persons", "description": "population at 1 July, "
                               f"survived {direction} from the base year along cohorts"})


def indirect_standardisation(births: xr.DataArray, women: xr.DataArray, asfr: xr.DataArray
                             ) -> xr.Dataset:
    """Fertility factors of regions relative to their sum (the nation) by indirect
    standardisation.

    Parameters
    ----------
    births : (region, year), observed births, persons per year (NaN where not observed)
    women : (region, age, year), women at 1 July of the year, persons
    asfr : (age, year), national births per woman per year

    Returns
    -------
    Dataset: ``expected`` (region, year) births at the national rates (persons per year);
    ``ratio`` = births / expected; ``factor`` (region, year) = ratio over the ratio of the
    regions' sums (dimensionless, 1 = the nation's fertility). A region without observed
    births in a year has no factor for it, and the sums of that year are over the others.
    """
    expected = (asfr * women).sum("age")
    ratio = births / expected
    seen = births.notnull()
    national = births.sum("region") / expected.where(seen).sum("region")
    factor = (ratio / national).where(seen.any("region"))
    return xr.Dataset({
        "expected": expected.assign_attrs(units="persons per year",
                                          description="births at the national ASFR"),
        "ratio": ratio.assign_attrs(units="1", description="observed / expected births"),
        "factor": factor.assign_attrs(units="1", description="fertility relative to the "
                                      "nation by indirect standardisation"),
    })


def level_factor(history: xr.DataArray, years: int = 3, trend: bool = False,
                 at_year: int | None = None) -> xr.DataArray:
    """The fertility level each region starts from: the mean factor of its last ``years``
    observed years, or with ``trend`` the least-squares line through them evaluated at
    ``at_year`` (floored at 0.05).

    ``history`` is (region, year) with NaN where not observed; returns (region)."""
    observed = history.dropna("year", how="all")
    window = observed.isel(year=slice(-max(int(years), 1), None))
    if not trend or window.sizes["year"] < 2:
        return window.mean("year")
    t = window["year"] - window["year"].mean()
    slope = (t * (window - window.mean("year"))).sum("year") / (t ** 2).sum()
    level = window.mean("year") + slope * (int(at_year) - float(window["year"].mean()))
    return level.clip(min=0.05)


def standardised_share(population: xr.DataArray, weights: xr.DataArray) -> xr.DataArray:
    """Each region's share of the events expected at common rates: sum over sex and age of
    ``weights`` × ``population``, over the regions' sum (region[, year])."""
    expected = (weights * population).sum([d for d in ("sex", "age") if d in population.dims])
    return expected / expected.sum("region")


def reconcile(residual: xr.DataArray, total: xr.DataArray) -> xr.DataArray:
    """Net migrants by region adjusted to add up to ``total``: the difference shared out in
    proportion to each region's absolute residual (a region with none keeps none).

    ``residual`` (region, year[, ...]), ``total`` (year[, ...]); persons per step."""
    size = np.abs(residual)
    weight = size / size.sum("region")
    gap = residual.sum("region") - total
    return residual - gap * weight.fillna(0.0)


def net_migration_residual(midyear: xr.DataArray, births: xr.DataArray, deaths: xr.DataArray
                           ) -> xr.DataArray:
    """Net migrants per step (region, year = the step from 1 July of year), persons: the
    change of the mid-year population less half of each calendar year's births and plus half
    of its deaths (NaN where a term is missing). Inputs are (region, year) by calendar year."""
    years = midyear["year"].values
    following = lambda da: da.shift(year=-1)  # noqa: E731 - year t+1 aligned on t
    change = following(midyear) - midyear
    natural = 0.5 * (births + following(births)) - 0.5 * (deaths + following(deaths))
    step = (change - natural).isel(year=slice(0, len(years) - 1))
    return step.assign_attrs(units="persons per step", description="net migrants from 1 July "
                             "of year to 1 July of year + 1 (demographic balance residual)")


def provincial_history(population: xr.DataArray, crude_birth_rate: xr.DataArray,
                       yearend: xr.DataArray, asfr: xr.DataArray, mx: xr.DataArray,
                       national_births: xr.DataArray, national_deaths: xr.DataArray,
                       national_migration: xr.DataArray, base_year: int,
                       factor_years: int = 3, factor_trend: bool = False,
                       migration_from: int = 2011, level: xr.DataArray | None = None
                       ) -> xr.Dataset:
    """Fertility factors and net migration of the provinces from their published series.

    Parameters
    ----------
    population : (region, sex, age), the provinces at 1 July of ``base_year``, persons
    crude_birth_rate : (region, year), per 1,000 population, NaN where not published
    yearend : (region, year), persons at 31 December, NaN where not published
    asfr : (age, year), national births per woman per year, calendar years
    mx : (sex, age), national deaths per person-year
    national_births, national_deaths : (year), observed, persons per calendar year
    national_migration : (year), the nation's net migrants per step from 1 July of year
    factor_years, factor_trend : the level the provinces start from (:func:`level_factor`)
    level : (region), the fertility factor of the years without published birth rates
        (e.g. the census's); default the level above
    migration_from : first step whose net migration is estimated

    Returns
    -------
    Dataset with ``fertility_factor`` (region; NaN for a province without observed births),
    ``fertility_factor_history`` and ``fertility_ratio`` (region, year), ``midyear_population``,
    ``births``, ``deaths`` (region, year; persons, calendar year) and ``net_migration``
    (region, step = the step from 1 July of that year), persons per step, summing to
    ``national_migration``.
    """
    midyear = 0.5 * (yearend + yearend.shift(year=1))
    midyear = midyear.dropna("year", how="all")
    years = midyear["year"].values
    back_years = years[years <= base_year]
    structure = survive_back(population, mx, base_year, back_years) if len(back_years) else None
    base = population.expand_dims(year=years[years > base_year])
    structure = base if structure is None else xr.concat([structure, base.transpose(
        *structure.dims)], dim="year")
    shares = structure / structure.sum(("sex", "age"))
    people = shares * midyear  # (region, sex, age, year), scaled to the published level
    women = people.isel(sex=_FEMALE, drop=True)
    asfr_years = asfr.sel(year=[y for y in years if y in asfr["year"].values])
    births_published = crude_birth_rate.reindex(year=years) / 1000.0 * midyear
    std = indirect_standardisation(births_published.sel(year=asfr_years["year"]),
                                   women.sel(year=asfr_years["year"]), asfr_years)
    fertile_history = std["factor"].where(std["year"] <= base_year)
    has_history = fertile_history.notnull().any("year")
    start = level_factor(fertile_history, factor_years, factor_trend, base_year)
    start = start.where(has_history)

    # births: published where every province has a rate, else the nation's shared by the
    # expected births at each province's level; both raked to the nation's observed births
    complete = births_published.notnull().all("region")
    level = (start if level is None else level).fillna(1.0)
    modelled = standardised_share(women.sel(year=asfr_years["year"]), level * asfr_years)
    births = births_published.where(complete)
    nat_b = national_births.reindex(year=years)
    births = births.fillna(modelled.reindex(year=years) * nat_b)
    births = births * (nat_b / births.sum("region")).fillna(1.0)
    deaths = standardised_share(people, mx) * national_deaths.reindex(year=years)
    residual = net_migration_residual(midyear, births, deaths)
    if base_year in years:
        # from the base year on the projection starts from the census, not from the published
        # mid-year population: the step out of the base year is measured from the census, so
        # that the projection meets the published population of the next year
        anchored = midyear.copy()
        anchored.loc[{"year": base_year}] = population.sum(("sex", "age"))
        residual = residual.where(residual["year"] < base_year,
                                  net_migration_residual(anchored, births, deaths))
    residual = residual.sel(year=slice(int(migration_from), None))
    residual = residual.sel(year=residual.notnull().all("region"))
    steps = residual["year"].values
    net = reconcile(residual, national_migration.sel(year=steps)).rename(year="step")
    return xr.Dataset({
        "fertility_factor": start.assign_attrs(
            units="1", description="fertility relative to the nation at the base year, "
            f"mean of the last {factor_years} observed years"
            + (" extrapolated along their trend" if factor_trend else "")),
        "fertility_factor_history": std["factor"],
        "fertility_ratio": std["ratio"],
        "midyear_population": midyear.assign_attrs(units="persons", description="mean of "
                                                   "the year-end populations of year - 1 and year"),
        "births": births.assign_attrs(units="persons per year"),
        "deaths": deaths.assign_attrs(units="persons per year"),
        "net_migration": net.assign_attrs(units="persons per step", description=(
            "net migrants from 1 July of year to 1 July of year + 1: demographic balance "
            "residual, reconciled to the national net migration")),
    })



def stock_age_pattern(arrivals: np.ndarray, years_of_stay: float,
                      survivors: np.ndarray | None = None) -> np.ndarray:
    """Age distribution (sums to 1) of a stationary stock of migrants who arrive with the age
    distribution ``arrivals`` (by single age), leave at a constant rate of 1 /
    ``years_of_stay`` a year and, with ``survivors`` (life-table l_x by age), die at those
    rates."""
    stay = 1.0 - 1.0 / float(years_of_stay)
    ages = np.arange(len(arrivals))
    lived = np.clip(ages[:, None] - ages[None, :], 0, None)
    kept = np.where(ages[:, None] >= ages[None, :], stay ** lived, 0.0)
    if survivors is not None:
        l = np.asarray(survivors, dtype=float)
        kept = kept * np.where(ages[:, None] >= ages[None, :], l[:, None] / l[None, :], 0.0)
    stock = kept @ np.asarray(arrivals, dtype=float)
    return stock / stock.sum()


def stock_exchange(stock: xr.DataArray, population: xr.DataArray, arrivals: np.ndarray,
                   years_of_stay: float, survivors: np.ndarray | None = None) -> xr.DataArray:
    """Migration between regions that keeps each region's stock of migrants from elsewhere
    at its census level: net migrants by age a year (region, age), persons.

    Each region's stock turns over in ``years_of_stay`` years on average: migrants arrive
    with the age pattern ``arrivals`` and leave with the age pattern of the stock
    (:func:`stock_age_pattern`), as many as arrive. A region holds more than its share of the
    nation's migrant stock (by population) where it is a destination; the turnover of that
    excess is a flow of young adults in and of older adults out there, and the reverse spread
    over the others in proportion to population:

    .. math:: X_{r,x} = \\frac{1}{D}\\,\\Big(S_r - P_r \\frac{\\sum_q S_q}{\\sum_q P_q}\\Big)
              \\,\\big(a_x - s_x\\big)

    with S the migrant stock, P the population, D ``years_of_stay``, a the arrivals' and s the
    stock's age distribution (with ``survivors``, l_x: migrants also die, so few of the
    stock, and few of those who leave, are very old). X sums to zero over regions at every age and over ages in every
    region, so it moves people between ages and regions without changing any region's
    total or the nation's age structure.

    ``stock`` and ``population`` are (region) in persons.
    """
    pattern = np.asarray(arrivals, dtype=float) / np.sum(arrivals)
    shape = pattern - stock_age_pattern(pattern, years_of_stay, survivors)
    excess = stock - population * stock.sum() / population.sum()
    ages = xr.DataArray(shape, dims="age", coords={"age": np.arange(len(shape))})
    return (excess / float(years_of_stay) * ages).assign_attrs(
        units="persons per year", description="exchange of migrants between regions by age")
