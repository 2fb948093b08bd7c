"""China's official TFR series on the census base, and the pool the national models learn from."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from forecast.data import load_china_census
from forecast.demography.official_tfr import (REVISED_UNTIL, census_women, official_tfr,
                                              splice)
from forecast.demography.provincial_history import survive_back, survive_forward
from forecast.testing import make_population


def _population() -> xr.DataArray:
    """(region, sex, age): a million at age 0, fewer with age."""
    return make_population(1e6 * np.exp(-0.01 * np.arange(101)))


def _mx(population: xr.DataArray) -> xr.DataArray:
    ages = population["age"].values
    rate = 0.0005 * np.exp(0.09 * np.clip(ages - 30, -30, None))
    return xr.DataArray(np.stack([rate, 1.2 * rate]), dims=("sex", "age"),
                        coords={"sex": population["sex"].values, "age": ages})


def test_cohorts_survived_back_and_forward_return_to_the_base():
    population = _population()
    mx = _mx(population)
    back = survive_back(population, mx, 2020, np.array([2015])).sel(year=2015)
    again = survive_forward(back, mx, 2015, np.array([2020])).sel(year=2020)
    # ages 5-98 were followed both ways; the open interval and the two ages below it are not
    np.testing.assert_allclose(again.sel(age=slice(5, 98)), population.sel(age=slice(5, 98)),
                               rtol=1e-12)
    ahead = survive_forward(population, mx, 2020, np.array([2023])).sel(year=2023)
    assert ahead.sel(age=slice(0, 2)).isnull().all()  # born after the base year
    # deaths are removed: each cohort is smaller three years on
    assert (ahead.sel(age=slice(3, 97)).values
            < population.sel(age=slice(0, 94)).values).all()


def test_census_women_are_the_female_cohorts_of_both_directions():
    population = _population().isel(region=0, drop=True)
    mx = _mx(population.expand_dims(region=["x"]))
    women = census_women(population, mx, 2020, np.array([2018, 2020, 2022]))
    assert women.dims == ("age", "year")
    np.testing.assert_allclose(women.sel(year=2020), population.sel(sex="female"))
    assert women.sel(year=2022, age=[0, 1]).isnull().all()


def test_the_official_tfr_reproduces_the_births():
    """Its schedule (the WPP shape at the official level) gives the women exactly the
    births it was built from; births at the schedule's own level give a factor of 1."""
    rng = np.random.default_rng(1)
    ages, years = np.arange(15, 50), np.arange(2010, 2014)
    women = xr.DataArray(rng.uniform(4e6, 6e6, (len(ages), len(years))), dims=("age", "year"),
                         coords={"age": ages, "year": years})
    shape = np.exp(-0.5 * ((ages - 28) / 5.0) ** 2)
    asfr = xr.DataArray(np.outer(shape / shape.sum(), [1.6, 1.5, 1.7, 1.4]),
                        dims=("age", "year"), coords={"age": ages, "year": years})
    births = xr.DataArray(rng.uniform(1.4e7, 1.8e7, len(years)), dims="year",
                          coords={"year": years})
    out = official_tfr(births, women, asfr)
    rebuilt = (asfr / asfr.sum("age") * out["tfr"] * women).sum("age")
    np.testing.assert_allclose(rebuilt, births, rtol=1e-12)
    at_level = official_tfr((asfr * women).sum("age"), women, asfr)
    np.testing.assert_allclose(at_level["factor"], 1.0, rtol=1e-12)
    assert list(out["kind"].values) == ["revised"] * 4


def test_splice_keeps_the_official_years_and_makes_no_step():
    years = np.arange(2000, 2010)
    pool = xr.DataArray(np.linspace(1.8, 1.6, 10), dims="year", coords={"year": years})
    official = xr.DataArray([1.5, 1.48, 1.47, 1.45, 1.44, 1.3], dims="year",
                            coords={"year": np.arange(2005, 2011)})
    out = splice(pool, official)
    np.testing.assert_array_equal(out["year"], np.arange(2000, 2011))
    np.testing.assert_array_equal(out.sel(year=slice(2005, None)), official)
    ratio = float((official.sel(year=[2005, 2006, 2007])
                   / pool.sel(year=[2005, 2006, 2007])).mean())
    np.testing.assert_allclose(out.sel(year=slice(None, 2004)),
                               pool.sel(year=slice(None, 2004)) * ratio)


@pytest.fixture(scope="module")
def inputs():
    return load_china_census(regions=[])


def test_the_census_year_matches_the_census_published_tfr(inputs):
    """NBS put the TFR of 2020 at 1.3 with the 7th census results (its own births of the
    12 months before the census over its women). The series' 2020 (calendar-year births
    of 12.0 million, WPP's age shape) agrees within 3 %: the two differ in the months
    covered and the age shape."""
    official = inputs["tfr_official"].sel(observed_year=2020)
    assert abs(float(official) / 1.3 - 1) < 0.03


def test_the_pool_holds_the_official_series_with_its_errors_marked(inputs):
    pool = inputs["tfr_pool"].sel(pool_region="CHN")
    official = inputs["tfr_official"].rename(observed_year="year").dropna("year")
    np.testing.assert_allclose(pool.sel(year=official["year"]), official)
    marked = inputs["tfr_pool_measurement_error"].sel(pool_region="CHN").values.astype(bool)
    flagged = pool["year"].values[marked]
    np.testing.assert_array_equal(flagged, official["year"].values[
        official["year"].values <= REVISED_UNTIL])
    assert not inputs["tfr_pool_measurement_error"].sel(pool_region="JPN").any()
    # every official value is unsmoothed (an annual figure), no WPP estimate is
    unsmoothed = inputs["tfr_pool_unsmoothed"].astype(bool)
    np.testing.assert_array_equal(
        pool["year"].values[unsmoothed.sel(pool_region="CHN").values], official["year"].values)
    assert int(unsmoothed.sum()) == official.sizes["year"]
    # the observed years' rates are on the official level, which the forecast continues
    national = inputs["asfr"].sel(region=inputs.nation).sum("age")
    np.testing.assert_allclose(national.sel(year=[2020, 2021, 2022, 2023]),
                               official.sel(year=[2020, 2021, 2022, 2023]), rtol=1e-12)


def test_wpp_series_leaves_the_pool_as_it_was():
    wpp = load_china_census(regions=[], tfr_series="wpp")
    assert "tfr_official" not in wpp
    assert "tfr_pool_measurement_error" not in wpp
    assert "tfr_pool_unsmoothed" not in wpp
    with pytest.raises(ValueError, match="tfr_series"):
        load_china_census(regions=[], tfr_series="smoothed")
