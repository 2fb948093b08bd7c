"""Calibration to observed years, the observed-series input, and the default run against NBS."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.demography.calibration import calibration_factors
from forecast.demography.ccmpp import project
from forecast.data import load_china_census
from forecast.core.errors import InputError
from forecast.models.fertility.baseline import RandomWalkDrift
from forecast.models.fertility.constant import ConstantFertility
from forecast.models.mortality.lee_carter import LeeCarterMortality
from forecast.models.migration.net_migrants import ZeroMigration
from forecast.projection.project import project_inputs
from tests.conftest import make_population, make_rates

STEPS = np.arange(2020, 2026)
CALENDAR = np.append(STEPS, STEPS[-1] + 1)


def _observed(births: dict, deaths: dict) -> xr.Dataset:
    years = sorted(set(births) | set(deaths))
    return xr.Dataset({
        "observed_births": ("observed_year", [births.get(y, np.nan) for y in years]),
        "observed_deaths": ("observed_year", [deaths.get(y, np.nan) for y in years]),
    }, coords={"observed_year": years})


def _synthetic(draws: int = 1):
    rng = np.random.default_rng(11)
    pop = make_population(rng.uniform(5e3, 2e4, (1, 2, 101)))
    rates = make_rates(STEPS, asfr_level=0.05, mx_level=0.01, migration=5.0)
    if draws > 1:  # fertility differs by draw in the later years, as a forecast does
        spread = xr.DataArray(rng.uniform(0.7, 1.3, (len(CALENDAR), draws)),
                              dims=("year", "draw"), coords={"year": CALENDAR,
                                                             "draw": np.arange(draws)})
        rates["asfr"] = rates["asfr"] * spread.where(spread["year"] > 2022, 1.0)
    return pop, rates


def test_calibration_reproduces_hand_made_observed_series_exactly():
    pop, rates = _synthetic()
    births = {2020: 40_000.0, 2021: 36_000.0, 2022: 41_000.0}
    deaths = {2020: 20_000.0, 2021: 25_000.0, 2022: 21_000.0, 2023: 30_000.0}
    factors = calibration_factors(pop, rates, _observed(births, deaths))
    scaled = {**rates, "asfr": rates["asfr"] * factors["fertility"],
              "mx": rates["mx"] * factors["mortality"]}
    result = project(pop, **scaled)
    got_births = result["births_calendar"].sum("sex").isel(region=0, draw=0)
    got_deaths = result["deaths_calendar"].sum("sex").isel(region=0, draw=0)
    for year, value in births.items():
        assert float(got_births.sel(year=year)) == pytest.approx(value, rel=1e-9)
    for year, value in deaths.items():
        assert float(got_deaths.sel(year=year)) == pytest.approx(value, rel=1e-9)
    # later years keep the last fertility factor and the mean of the last three mortality ones
    fert, mort = factors["fertility"].squeeze(), factors["mortality"].squeeze()
    assert np.allclose(fert.sel(year=slice(2023, None)), float(fert.sel(year=2022)))
    assert np.allclose(mort.sel(year=slice(2024, None)),
                       float(mort.sel(year=[2021, 2022, 2023]).mean()))
    # the identity of every step still holds with the calibrated rates
    pops = result["population"].sum(("sex", "age")).isel(region=0, draw=0).values
    flows = (result["births"] - result["deaths"] + result["net_migration"]).sum("sex")
    np.testing.assert_allclose(pops[1:], pops[:-1] + flows.isel(region=0, draw=0)
                               .sel(year=STEPS).values, rtol=1e-12)


def test_each_draw_is_calibrated_to_the_observed_years():
    pop, rates = _synthetic(draws=5)
    births = {2021: 38_000.0, 2023: 37_000.0}  # 2023: the draws' fertility differs
    factors = calibration_factors(pop, rates, _observed(births, {2022: 22_000.0}))
    result = project(pop, **{**rates, "asfr": rates["asfr"] * factors["fertility"],
                             "mx": rates["mx"] * factors["mortality"]})
    got = result["births_calendar"].sum("sex").isel(region=0)
    np.testing.assert_allclose(got.sel(year=2023), 37_000.0, rtol=1e-9)
    assert float(got.sel(year=2025).std()) > 0  # draws still differ after the observed years
    start = result["population"].sum(("sex", "age")).isel(region=0, year=slice(0, -1))
    flows = (result["births"] - result["deaths"] + result["net_migration"]).sum("sex")
    np.testing.assert_allclose(result["population"].sum(("sex", "age")).isel(region=0, year=slice(1, None)).values,
                               (start + flows.isel(region=0).sel(year=STEPS)).values, rtol=1e-12)


def test_an_observed_figure_no_plausible_factor_reproduces_is_named():
    """Observed births of 0, or many times what the population and rates give (counts in
    the wrong unit): an InputError naming the figure and the year, instead of a calibration
    that does not converge. A figure within the plausible range is still reproduced."""
    from forecast.demography.calibration import PLAUSIBLE_FACTOR

    pop, rates = _synthetic()
    source = "data/observed.csv"
    given = project(pop, **rates)["births_calendar"].sum("sex").isel(region=0, draw=0)
    model = {y: float(given.sel(year=y)) for y in (2020, 2021)}
    for births, bad_year, words in (
            ({2020: model[2020], 2021: 0.0}, 2021, "a positive number of births"),
            ({2020: model[2020] * 10_000, 2021: model[2021]}, 2020, "within a factor of 3")):
        observed = _observed(births, {})
        observed["observed_births"].attrs["source_file"] = source
        with pytest.raises(InputError) as info:
            calibration_factors(pop, rates, observed)
        line = str(info.value)
        assert line.startswith(f'{source}, column "births"') and str(bad_year) in line
        assert words in line and len(line.splitlines()) == 1
    inside = {2020: model[2020] * PLAUSIBLE_FACTOR[1] * 0.95}
    factors = calibration_factors(pop, rates, _observed(inside, {}))
    assert float(factors["fertility"].sel(year=2020).squeeze()) == pytest.approx(
        PLAUSIBLE_FACTOR[1] * 0.95, rel=1e-6)


def test_census_counts_in_the_wrong_unit_stop_the_run_naming_the_observed_file(data_dir):
    """The census table divided by 10,000 (counts in 10k persons): the run stops with the
    observed deaths it cannot reproduce, naming their file, before anything is written."""
    from forecast.data.census import CENSUS_POPULATION
    from forecast.data.nbs import OBSERVED_FILE
    from forecast.runs import api

    table = pd.read_csv(data_dir / CENSUS_POPULATION, dtype=str, keep_default_na=False)
    table["value"] = (table["value"].astype(float) / 10_000).map(repr)
    table.to_csv(data_dir / CENSUS_POPULATION, index=False)
    with pytest.raises(InputError) as info:
        api.project([f"data.data_dir={data_dir}", "fertility=constant", "demand=none",
                     "plots=false"])
    line = str(info.value).splitlines()[0]
    assert line.startswith(f'{data_dir / OBSERVED_FILE}, column "deaths"')
    assert "check the units" in line


@pytest.fixture(scope="module")
def census():
    return load_china_census(regions=["440000"])


def test_census_inputs_reproduce_nbs_with_improving_mortality(census):
    result = project_inputs(census, ConstantFertility(), LeeCarterMortality(draws=1),
                            ZeroMigration(), 2030)
    nation = result.sel(region="000000", draw=0)
    for year in (2021, 2022, 2023):
        observed = census.arrays.sel(observed_year=year)
        assert float(nation["births_calendar"].sum("sex").sel(year=year)) == pytest.approx(
            float(observed["observed_births"]), rel=0.005)
        assert float(nation["deaths_calendar"].sum("sex").sel(year=year)) == pytest.approx(
            float(observed["observed_deaths"]), rel=0.02)
        assert float(nation["population_yearend"].sel(year=year)) == pytest.approx(
            float(observed["observed_population_yearend"]), rel=0.003)
    e0 = result["life_expectancy"].sel(draw=0)
    assert bool((e0.sel(year=2030) > e0.sel(year=2024)).all())
    assert result.attrs["jump_off_year"] == 2023


def _with_row(data_dir, **row):
    path = data_dir / "china_nbs_observed.csv"
    table = pd.read_csv(path, dtype=str)
    table = pd.concat([table, pd.DataFrame([{"region": "CHN", "source": "test", **row}])])
    table.to_csv(path, index=False)


def test_an_extra_observed_year_moves_the_jump_off_and_is_reproduced(data_dir):
    _with_row(data_dir, year="2024", indicator="births", value="9540000", unit="persons")
    inputs = load_china_census(regions=["440000"], data_dir=data_dir)
    assert inputs.jump_off_year == 2024 and inputs.last_observed_year == 2023
    model = RandomWalkDrift(draws=20, random_seed=5)
    result = project_inputs(inputs, model, LeeCarterMortality(draws=20), ZeroMigration(), 2028)
    births = result["births_calendar"].sum("sex").sel(region="000000")
    np.testing.assert_allclose(births.sel(year=2024), 9_540_000.0, rtol=1e-9)  # every draw
    assert float(births.sel(year=2026).std()) > 0  # the forecast starts after 2024
    deaths = result["deaths_calendar"].sum("sex").sel(region="000000")
    assert float(deaths.sel(year=2024).std()) == pytest.approx(0.0, abs=1e-6)
    assert float(deaths.sel(year=2026).std()) > 0


def test_observed_rows_in_another_unit_are_refused(data_dir):
    _with_row(data_dir, year="2024", indicator="births", value="954", unit="10k persons")
    with pytest.raises(InputError, match=r'china_nbs_observed.csv, column "unit", row 223.*'
                                         r'"persons" for indicator births'):
        load_china_census(data_dir=data_dir)


def test_until_cuts_the_observed_series(census):
    cut = load_china_census(regions=["440000"], until=2021)
    assert int(cut["observed_year"].max()) == 2021 and cut.jump_off_year == 2021


def test_young_ages_follow_the_rule_and_keep_provinces_adding_up(census):
    """Age 0 (2.9-3.2 % under-counted) is replaced; with max_age=9 ages 5-9 are reshaped by
    births too, at the census level of the group (under-count within 1 %)."""
    report = pd.DataFrame(census.young_ages_report)
    assert set(report.loc[report["age_group"] == "0", "action"]) == {"replaced"}
    assert (report.loc[report["age_group"] == "0", "undercount"] > 0.01).all()
    spline = load_china_census(regions=["440000"], young_ages={"from_births": False})
    nine = load_china_census(regions=["440000"], young_ages={"max_age": 9})
    for ds in (census, nine):
        nation = ds["population"].sel(region="000000")
        provinces = ds["population"].drop_sel(region="000000").sum("region")
        np.testing.assert_allclose(provinces.values, nation.values, rtol=1e-9)
    before = spline["population"].sel(region="000000", age=slice(5, 9))
    after = nine["population"].sel(region="000000", age=slice(5, 9))
    assert not np.allclose(before.values, after.values)
    np.testing.assert_allclose(census["population"].sel(age=slice(5, 9)).values,
                               spline["population"].sel(age=slice(5, 9)).values)
