"""Young ages of the base population rebuilt from registered births (reverse survival).

A census tends to miss young children, and the cumulative spline that graduates its groups
0, 1-4, 5-9 to single ages smooths away year-to-year swings in births (China 2020: the
2016-17 peak and the 2018-20 fall). As for WPP's base populations, the children alive at a
date are instead rebuilt from the births of their cohorts survived to that date:

1. :func:`cohort_births`: calendar-year births B(Y), spread uniformly over [Y, Y+1) and split
   by sex with the sex ratio at birth of Y, give the births of the cohort aged x (completed
   years) at decimal time T, the persons born in (T - x - 1, T - x].
2. :func:`survived_cohorts`: that cohort is alive at T with probability L_x / l_0 of the
   period life table.
3. :func:`rebuild_young_ages`: the census groups are compared with these births-implied
   counts at the census date; the base population at 1 July is replaced or reshaped.
4. :func:`scale_regions`: the national change is shared among the regions.

Rule (when the census is trusted). For each young group g, with C_g the census count and I_g
the births-implied count at the census date (both sexes), the implied under-count is
u_g = 1 - C_g / I_g; one decision per group keeps the sex ratio of the rebuilt ages coherent
(China 2020, ages 1-4: -1.0 % for girls, +1.5 % for boys, +0.3 % together, which says more
about the sex ratio at birth assumed than about coverage). With J(x) the births-implied
count aged x at 1 July, by sex:

- u_g > threshold (default 0.01, the census more than 1 % below the births): the census
  under-counts and the single ages of g at 1 July are replaced, P(x) = J(x);
- otherwise the census is trusted: g keeps the census level relative to the births and the
  births only shape the single ages, P(x) = J(x) C_g / I_g for each sex.

Age x at 1 July is assigned to the census group containing x. Four months later about a
third of those at a group's top age have moved to the next group; the ratio C_g / I_g is a
coverage factor of the group's cohorts and is carried over to 1 July unchanged.

References: Spoorenberg, T. (2014), Reverse survival method of fertility estimation: an
evaluation, *Demographic Research* 31(9): 217-246; Moultrie, T. A. et al. (eds., 2013), *Tools
for Demographic Estimation*, IUSSP, "Estimation of fertility by reverse survival"; United
Nations (2024), *World Population Prospects 2024: Methodology of the United Nations population
estimates and projections*, UN DESA/POP/2024/DC/NO. 10; Goodkind, D. (2004), China's missing
children: the 2000 census underreporting surprise, *Population Studies* 58(3): 281-295.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from forecast.demography.lifetable import life_table_arrays
from forecast.core.variables import SEXES

_EPS = 1e-9  # overlaps of birth intervals shorter than this (years) are rounding noise


def cohort_births(births: xr.DataArray, srb: xr.DataArray, at: float,
                  ages) -> xr.DataArray:
    """Births of the cohorts aged x (completed years) at decimal time ``at``, by sex.

    Parameters
    ----------
    births : DataArray (year,), persons per calendar year, spread uniformly over [Y, Y+1)
    srb : DataArray (year,), male births per female birth, by calendar year of birth
    at : decimal time, e.g. 2020.5 for 1 July 2020, 2020 + 10/12 for 1 November 2020
    ages : completed ages x; the cohort aged x was born in (at - x - 1, at - x]

    Returns
    -------
    DataArray (sex, age), persons born (before mortality); sexes female, male.
    """
    ages = np.atleast_1d(np.asarray(ages, dtype=int))
    low, high = at - ages - 1.0, at - ages
    years = np.arange(int(np.floor(low.min())), int(np.floor(high.max())) + 1)
    overlap = np.clip(np.minimum(high[:, None], years + 1.0)
                      - np.maximum(low[:, None], years), 0.0, None)
    overlap[overlap < _EPS] = 0.0
    needed = years[overlap.sum(0) > 0]
    missing = {name: [int(y) for y in needed if y not in set(da["year"].values.tolist())]
               for name, da in (("births", births), ("srb", srb))}
    if any(missing.values()):
        raise ValueError("cohort_births: years missing for the cohorts aged "
                         f"{ages.min()}-{ages.max()} at {at:.4f}: " + "; ".join(
                             f"{k} {v}" for k, v in missing.items() if v))
    b = births.sel(year=needed).values.astype(float)
    ratio = srb.sel(year=needed).values.astype(float)
    total = overlap[:, overlap.sum(0) > 0] * b  # (age, year)
    male = (total * ratio / (1.0 + ratio)).sum(-1)
    female = (total / (1.0 + ratio)).sum(-1)
    return xr.DataArray(np.stack([female, male]), dims=("sex", "age"),
                        coords={"sex": list(SEXES), "age": ages},
                        attrs={"units": "persons", "at": at,
                               "description": "births of the cohort aged x at `at`"})


def survived_cohorts(cohorts: xr.DataArray, mx: xr.DataArray) -> xr.DataArray:
    """Persons alive from cohort births: births aged x times L_x / l_0 of the life table.

    L_x / l_0 (radix l_0 = 1) is the share alive of a cohort born evenly over one year while
    its members are aged x to x + 1 (completed age x), under the period rates ``mx`` held
    for the cohort's whole life. Births that change between the two calendar years of a
    cohort are not spread evenly; that is neglected.

    Parameters
    ----------
    cohorts : DataArray (sex, age), persons born (:func:`cohort_births`)
    mx : DataArray (sex, age 0...100), deaths per person-year; age 100 is 100+

    Returns
    -------
    DataArray (sex, age) like ``cohorts``, persons alive.
    """
    mx = mx.transpose("sex", "age")
    lx = xr.concat([xr.DataArray(life_table_arrays(mx.sel(sex=s).values, str(s))["Lx"],
                                 dims="age", coords={"age": mx["age"].values})
                    for s in cohorts["sex"].values], dim="sex")
    lx = lx.assign_coords(sex=cohorts["sex"].values)
    out = cohorts * lx.sel(age=cohorts["age"].values)
    return out.transpose(*cohorts.dims).assign_attrs(
        cohorts.attrs, units="persons", description="persons alive, births survived by L_x / l_0")


def _group_label(start: int, end: int) -> str:
    return str(start) if end - start == 1 else f"{start}-{end - 1}"


def rebuild_young_ages(census_groups: xr.DataArray, starts, ends, implied_census: xr.DataArray,
                       implied_july: xr.DataArray, base: xr.DataArray,
                       undercount_threshold: float = 0.01,
                       max_age: int = 9) -> tuple[xr.DataArray, pd.DataFrame]:
    """Base population with young ages replaced or reshaped by births (rule: module doc).

    Parameters
    ----------
    census_groups : DataArray (sex, group), persons at the census date, groups in order
    starts, ends : first age and one past the last age of each group, e.g. [0, 1, 5], [1, 5, 10]
    implied_census : DataArray (sex, age), births-implied persons at the census date
    implied_july : DataArray (sex, age 0...max_age), births-implied persons at 1 July
    base : DataArray (sex, age 0...100), census-graduated persons at 1 July
    undercount_threshold : share; a larger implied under-count replaces the group
    max_age : last rebuilt age; the groups must cover 0...max_age, older ages are unchanged

    Returns
    -------
    population : DataArray like ``base``, persons at 1 July
    report : DataFrame, one row per sex and group: sex, age_group, census, births_implied
        (persons at the census date), undercount (share, 1 - census / births_implied),
        action ("replaced" or "census kept")
    """
    starts, ends = np.asarray(starts, dtype=int), np.asarray(ends, dtype=int)
    if starts[0] != 0 or np.any(starts[1:] != ends[:-1]) or ends[-1] != max_age + 1:
        raise ValueError(f"groups {list(zip(starts, ends))} must cover ages 0...{max_age} "
                         "contiguously")
    if census_groups.sizes["group"] != len(starts):
        raise ValueError(f"census_groups has {census_groups.sizes['group']} groups; "
                         f"{len(starts)} starts given")
    out = base.copy()
    rows = []
    for k, (a, b) in enumerate(zip(starts, ends)):
        single = np.arange(a, b)
        census = census_groups.isel(group=k)
        implied = implied_census.sel(age=single).sum("age")
        # one decision per group for both sexes, so that the rebuilt sex ratio stays coherent
        replace = 1.0 - float(census.sum()) / float(implied.sum()) > undercount_threshold
        for s in SEXES:
            c, i = float(census.sel(sex=s)), float(implied.sel(sex=s))
            july = implied_july.sel(sex=s, age=single).values
            out.loc[{"sex": s, "age": single}] = july if replace else july * c / i
            rows.append({"sex": s, "age_group": _group_label(a, b), "census": c,
                         "births_implied": i, "undercount": 1.0 - c / i,
                         "action": "replaced" if replace else "census kept"})
    return out, pd.DataFrame(rows)


def scale_regions(population: xr.DataArray, national_before: xr.DataArray,
                  national_after: xr.DataArray) -> xr.DataArray:
    """Every region times the national change after / before, per sex and age.

    Parameters
    ----------
    population : DataArray (region, sex, age), persons
    national_before, national_after : DataArray (sex, age), persons; where ``before`` is 0
        the regions keep their values

    Returns
    -------
    DataArray like ``population``. If the regions summed to ``national_before`` they sum to
    ``national_after`` (except where ``before`` is 0); a nation row among the regions equal to
    ``national_before`` becomes ``national_after``.
    """
    with xr.set_options(arithmetic_join="exact"):
        safe = national_before.where(national_before != 0, 1.0)
        ratio = (national_after / safe).where(national_before != 0, 1.0)
        return (population * ratio).transpose(*population.dims).assign_attrs(population.attrs)


def rebuild_from_births(population: xr.DataArray, census_groups: xr.DataArray, starts, ends,
                        births: xr.DataArray, srb: xr.DataArray, mx: xr.DataArray,
                        base_time: float, census_time: float, nation: str, max_age: int = 4,
                        undercount_threshold: float = 0.01) -> tuple[xr.DataArray, pd.DataFrame]:
    """The base population (region, sex, age) with the nation's young ages rebuilt from
    births and every region scaled alike (:func:`scale_regions`).

    ``census_groups`` (sex, group) are the nation's census counts of the young groups
    ``starts``/``ends`` (persons at ``census_time``); ``births`` and ``srb`` (year) the
    national calendar series; ``mx`` (sex, age) the death rates survived with; ``base_time``
    the decimal time of the base population (2020.5 for 1 July 2020). Ages up to ``max_age``
    are rebuilt; the report covers every group given (its rows for older groups describe
    the census coverage only).
    """
    ages = np.arange(int(np.max(ends)))
    implied_census = survived_cohorts(cohort_births(births, srb, census_time, ages), mx)
    implied_july = survived_cohorts(cohort_births(births, srb, base_time, ages), mx)
    national = population.sel(region=nation, drop=True)
    _, report = rebuild_young_ages(census_groups, starts, ends, implied_census, implied_july,
                                   national, undercount_threshold, int(np.max(ends)) - 1)
    rebuilt = np.asarray(ends) <= max_age + 1
    after, _ = rebuild_young_ages(census_groups.isel(group=np.flatnonzero(rebuilt)),
                                  np.asarray(starts)[rebuilt], np.asarray(ends)[rebuilt],
                                  implied_census, implied_july.sel(age=slice(0, max_age)),
                                  national, undercount_threshold, max_age)
    kept = ~report["age_group"].isin([_group_label(a, b) for a, b in
                                      zip(np.asarray(starts)[rebuilt], np.asarray(ends)[rebuilt])])
    report.loc[kept, "action"] = "not rebuilt (census graduated)"
    return scale_regions(population, national, after), report
