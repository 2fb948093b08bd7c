"""Young ages rebuilt from births: cohort births, survival, the replace-or-keep rule, regions."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.demography.graduation import AGES
from forecast.demography.lifetable import andreev_kingkade_a0
from forecast.core.variables import SEXES
from forecast.demography import young_ages
from forecast.demography.young_ages import (cohort_births, rebuild_young_ages, scale_regions,
                                            survived_cohorts)

CENSUS = 2020 + 10 / 12  # 1 November 2020
JULY = 2020.5
STARTS, ENDS = [0, 1, 5], [1, 5, 10]
RTOL = 1e-12  # sums and ratios of a few dozen doubles


def _series(values, years):
    return xr.DataArray(np.asarray(values, dtype=float), dims="year", coords={"year": years})


def _mx(level_young=0.002, rise=0.09):
    """Gompertz-like single-year rates, infant rate higher; (sex, age)."""
    base = level_young * np.exp(rise * np.maximum(AGES - 10, 0))
    base[0] = 0.007
    return xr.DataArray(np.stack([base, 1.2 * base]), dims=("sex", "age"),
                        coords={"sex": list(SEXES), "age": AGES})


def test_cohort_births_by_hand():
    years = np.arange(2005, 2021)
    births = _series(1000.0 + 10.0 * (years - 2005), years)  # linear: B(Y) = 1000 + 10 (Y - 2005)
    srb = _series(np.full(len(years), 1.0), years)
    B = births.to_series()
    nov = cohort_births(births, srb, CENSUS, range(10)).sum("sex")
    july = cohort_births(births, srb, JULY, range(10)).sum("sex")
    np.testing.assert_allclose(nov.sel(age=0), 10 / 12 * B[2020] + 2 / 12 * B[2019], rtol=RTOL)
    np.testing.assert_allclose(nov.sel(age=9), 10 / 12 * B[2011] + 2 / 12 * B[2010], rtol=RTOL)
    np.testing.assert_allclose(july.sel(age=0), 0.5 * B[2020] + 0.5 * B[2019], rtol=RTOL)
    # births linear in the year: a one-year interval gets B at (its midpoint - 1/2 year)
    np.testing.assert_allclose(july.values, 1000 + 10 * (JULY - np.arange(10) - 1 - 2005),
                               rtol=RTOL)
    np.testing.assert_allclose(nov.values, 1000 + 10 * (CENSUS - np.arange(10) - 1 - 2005),
                               rtol=RTOL)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(1e3, 1e7), min_size=16, max_size=16),
       st.lists(st.floats(1.0, 1.2), min_size=16, max_size=16),
       st.floats(2015.0, 2021.0))
def test_sexes_sum_to_births_and_srb_splits(births, srb, at):
    years = np.arange(2005, 2021)
    b, r = _series(births, years), _series(srb, years)
    out = cohort_births(b, r, at, range(5))
    hi = at - np.arange(5)
    shares = np.clip(np.minimum(hi[:, None], years + 1) - np.maximum(hi[:, None] - 1, years), 0, 1)
    # cohort_births ignores slivers of a year below _EPS (a time a hair past a year's start):
    # up to that share of a year's births, relative to the cohort's
    tolerance = 10 * young_ages._EPS * max(births) / min(births)
    np.testing.assert_allclose(out.sum("sex").values, shares @ b.values, rtol=tolerance)
    np.testing.assert_allclose(out.sel(sex="male").values,
                               shares @ (b.values * r.values / (1 + r.values)), rtol=tolerance)
    assert list(out["sex"].values) == list(SEXES)


def test_missing_year_is_named():
    years = np.arange(2012, 2021)
    b, r = _series(np.ones(len(years)), years), _series(np.ones(len(years)), years)
    with pytest.raises(ValueError, match=r"births \[2010, 2011\]"):
        cohort_births(b, r, CENSUS, range(10))
    cohort_births(b, r, CENSUS, range(8))  # born 2012 or later: nothing missing
    with pytest.raises(ValueError, match=r"srb \[2020\]"):
        cohort_births(b, r.sel(year=slice(2012, 2019)), CENSUS, range(3))


def test_tiny_mortality_returns_the_cohorts():
    mx = xr.full_like(_mx(), 1e-12)
    cohorts = cohort_births(_series(np.full(16, 1e6), np.arange(2005, 2021)),
                            _series(np.full(16, 1.06), np.arange(2005, 2021)), CENSUS, range(10))
    np.testing.assert_allclose(survived_cohorts(cohorts, mx).values, cohorts.values, rtol=1e-9)


def test_survival_is_person_years_lived():
    mx = _mx()
    cohorts = xr.DataArray(np.full((2, 10), 1e6), dims=("sex", "age"),
                           coords={"sex": list(SEXES), "age": np.arange(10)})
    out = survived_cohorts(cohorts, mx)
    for s in SEXES:
        m = mx.sel(sex=s).values
        # independent: l_x from q_x = 1 - exp(-m) (q0 from m0 and a0), L_x = l_{x+1} + a_x d_x
        a0 = andreev_kingkade_a0(m[0], s)
        q = 1 - np.exp(-m[:11])
        q[0] = m[0] / (1 + (1 - a0) * m[0])
        lx = np.concatenate([[1.0], np.cumprod(1 - q)])
        a = 1 / m[:10] - 1 / np.expm1(m[:10])
        a[0] = a0
        L = lx[1:11] + a * (lx[:10] - lx[1:11])
        np.testing.assert_allclose(out.sel(sex=s).values, 1e6 * L, rtol=1e-10)


def _synthetic(seed, undercount):
    """Births with a spike, survived to the census and to 1 July; census = truth x (1 - u)."""
    rng = np.random.default_rng(seed)
    years = np.arange(2005, 2021)
    births = 1e6 * (1 + 0.1 * rng.standard_normal(len(years)))
    births[years == 2016] *= 1.3
    b, r = _series(births, years), _series(rng.uniform(1.05, 1.18, len(years)), years)
    mx = _mx(level_young=rng.uniform(1e-4, 1e-3))
    truth_nov = survived_cohorts(cohort_births(b, r, CENSUS, range(10)), mx)
    truth_july = survived_cohorts(cohort_births(b, r, JULY, range(10)), mx)
    groups = np.stack([truth_nov.sel(age=slice(a, e - 1)).sum("age").values
                       for a, e in zip(STARTS, ENDS)], axis=-1)
    census = xr.DataArray(groups * (1 - np.asarray(undercount)), dims=("sex", "group"),
                          coords={"sex": list(SEXES)})
    base = xr.DataArray(rng.uniform(1e5, 1e6, (2, len(AGES))), dims=("sex", "age"),
                        coords={"sex": list(SEXES), "age": AGES})
    return census, truth_nov, truth_july, base


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_known_undercount_is_recovered_and_replaced(seed):
    u = [0.05, 0.0, 0.02]
    census, nov, july, base = _synthetic(seed, u)
    out, report = rebuild_young_ages(census, STARTS, ENDS, nov, july, base)
    assert list(report["age_group"]) == ["0", "0", "1-4", "1-4", "5-9", "5-9"]
    np.testing.assert_allclose(report["undercount"], np.repeat(u, 2), atol=1e-12)
    assert list(report["action"][::2]) == ["replaced", "census kept", "replaced"]
    # replaced and u = 0 groups both equal the truth at 1 July
    np.testing.assert_allclose(out.sel(age=slice(0, 9)).values, july.values, rtol=RTOL)
    np.testing.assert_array_equal(out.sel(age=slice(10, 100)).values,
                                  base.sel(age=slice(10, 100)).values)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_trusted_group_keeps_census_level_with_births_shape(seed):
    u = [0.05, -0.03, 0.02]  # the census 3 % above births at 1-4; 5-9 trusted at threshold 3 %
    census, nov, july, base = _synthetic(seed, u)
    out, report = rebuild_young_ages(census, STARTS, ENDS, nov, july, base,
                                     undercount_threshold=0.03)
    assert list(report["action"][::2]) == ["replaced", "census kept", "census kept"]
    assert list(report["action"][1::2]) == list(report["action"][::2])  # one rule per group
    np.testing.assert_allclose(out.sel(age=0).values, july.sel(age=0).values, rtol=RTOL)
    np.testing.assert_allclose(out.sel(age=slice(1, 4)).values,
                               1.03 * july.sel(age=slice(1, 4)).values, rtol=RTOL)
    np.testing.assert_allclose(out.sel(age=slice(5, 9)).values,
                               0.98 * july.sel(age=slice(5, 9)).values, rtol=RTOL)


def test_groups_must_cover_the_rebuilt_ages():
    census, nov, july, base = _synthetic(0, [0, 0, 0])
    with pytest.raises(ValueError, match="cover ages 0...9"):
        rebuild_young_ages(census, STARTS, [1, 5, 9], nov, july, base)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_scale_regions_adds_up_to_the_nation(seed):
    rng = np.random.default_rng(seed)
    shape = (4, 2, len(AGES))
    pop = xr.DataArray(rng.uniform(0, 1e5, shape), dims=("region", "sex", "age"),
                       coords={"region": list("abcd"), "sex": list(SEXES), "age": AGES})
    pop[:, :, 50] = 0.0  # an age nobody has: kept at zero
    before = pop.sum("region")
    after = before * rng.uniform(0.8, 1.2, before.shape)
    out = scale_regions(pop, before, after)
    np.testing.assert_allclose(out.sum("region").values, after.values, rtol=RTOL)
    np.testing.assert_allclose((out / pop).isel(age=slice(0, 50)).values,
                               np.broadcast_to((after / before).isel(age=slice(0, 50)).values,
                                               (4, 2, 50)), rtol=RTOL)
    assert np.all(out.isel(age=50).values == 0.0)
