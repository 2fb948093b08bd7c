"""County level (data=china_counties): one province's districts and counties projected within
the provincial projection add up to it in every draw, with official codes and Chinese names."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from forecast.data.county_census import (NOISE_POWER, NOISE_SCALE, county_units,
                                         read_regions)
from forecast.demography.small_area_noise import noise_variance
from forecast.core.errors import InputError
from forecast.core.paths import CONFIG_DIR, DATA_DIR
from forecast.runs.pipeline import level_years
from forecast.projection.project import project_inputs
from forecast.projection.scenario import Scenario

CHONGQING = "500000"
SMOKE = ["fertility=rw_drift", "fertility.draws=12", "horizon=2026"]


def _compose(*overrides):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name="config", overrides=["data=china_counties", *SMOKE,
                                                        *overrides])


@pytest.fixture(scope="module")
def run():
    cfg = _compose(f"data.province={CHONGQING}")
    inputs = instantiate(cfg.data)
    models = (instantiate(cfg[k]) for k in ("fertility", "mortality", "migration"))
    projection = project_inputs(inputs, *models, cfg.horizon, level_years=level_years(cfg),
                                scenario=Scenario.from_config(cfg.scenario))
    return inputs, projection


def _counties(inputs):
    return [str(c) for c in inputs["county"].values]


def test_chongqing_has_38_named_counties_in_two_prefectures(run):
    inputs, projection = run
    assert len(_counties(inputs)) == 38
    assert inputs.prefectures == {"500100": "重庆市市辖区", "500200": "重庆市县"}
    names = dict(zip(projection["region"].values, projection["region_name"].values))
    assert names["500101"] == "万州区" and names["500103"] == "渝中区"
    assert all(names[c] and names[c] != c for c in _counties(inputs))


def test_base_population_adds_up_to_the_province_at_every_sex_and_age(run):
    inputs, _ = run
    np.testing.assert_allclose(inputs["county_population"].sum("county"),
                               inputs["population"].sel(region=CHONGQING), rtol=1e-12)


def test_counties_add_up_to_the_province_in_every_draw(run):
    inputs, projection = run
    counties = projection.sel(region=_counties(inputs))
    province = projection.sel(region=CHONGQING)
    for name in ("population", "births_calendar", "deaths_calendar", "net_migration"):
        np.testing.assert_allclose(counties[name].sum("region", skipna=False), province[name],
                                   rtol=1e-9, atol=1e-6, err_msg=name)
    assert projection.sizes["draw"] == 12


def test_prefectures_are_the_sums_of_their_counties(run):
    inputs, projection = run
    members = pd.Series(inputs["county_prefecture"].values, index=_counties(inputs))
    for prefecture in ("500100", "500200"):
        chosen = list(members.index[members == prefecture])
        np.testing.assert_allclose(projection["population"].sel(region=chosen).sum("region"),
                                   projection["population"].sel(region=prefecture), rtol=1e-12)
        assert bool(projection["tfr"].sel(region=prefecture).isnull().all())


def test_county_fertility_levels_from_the_census_age_0_count(run):
    """Each county's level is its census age-0 factor shrunk towards its prefecture: the
    large counties keep nearly their own value, every level lies between the census value
    and the others', and a central district has the lowest; its sd holds the small areas'
    excess variance."""
    inputs, _ = run
    factor = inputs["county_fertility_factor"]
    census = inputs["county_census_factors"].sel(census_group="0")
    weight = inputs["county_fertility_weight"]
    assert bool(((weight > 0) & (weight <= 1)).all())
    assert float(weight.min()) > 0.85  # every Chongqing county counted > 1,000 infants
    np.testing.assert_allclose(np.log(factor), np.log(census), atol=0.1)
    assert bool((inputs["county_fertility_sd"] > 0).all())
    # the interval adds the small areas' excess variance of the census value (none shrinks)
    children = inputs["county_census_children"].sel(census_group="0").values
    excess = noise_variance(children, NOISE_SCALE, NOISE_POWER)
    assert bool((inputs["county_fertility_sd"].values ** 2 > excess).all())
    low = str(factor.idxmin().values)
    assert low in {"500103", "500104", "500105", "500106", "500107", "500108", "500109"}


def test_county_levels_vary_by_draw_and_year(run):
    """Each county's fertility relative to its province differs between draws and moves
    over the years (its own uncertainty), while the counties still add up (above)."""
    inputs, projection = run
    counties = _counties(inputs)
    relative = projection["tfr"].sel(region=counties) / projection["tfr"].sel(region=CHONGQING)
    assert float(relative.std("draw").min()) > 0.005
    spread = relative.sel(year=2026).std("draw") / relative.sel(year=2020).std("draw")
    assert float(spread.median()) > 1.2  # the paths fan out from the census level


@pytest.mark.parametrize("overrides,match", [
    (["data.province=990000"], "990000"),
    (["data.province=5000"], "6-digit province code"),
    (["data.province=500000", "data.prefecture=440300"], "a prefecture of province 500000"),
])
def test_bad_county_selection_is_refused(overrides, match):
    with pytest.raises(Exception) as caught:
        instantiate(_compose(*overrides).data)
    error = caught.value
    while error is not None and not isinstance(error, InputError):
        error = error.__cause__
    assert error is not None and match in str(error)


def test_memory_estimate_counts_the_provinces_county_units():
    from forecast.runs.memory import MAX_COUNTY_UNITS, _regions

    data = _compose(f"data.province={CHONGQING}").data
    assert _regions(data, {}) == 32 + 38 + 2  # nation and provinces, counties, prefectures
    # in blocks, counties add their largest province's indicator draws, not their population
    assert _regions(_compose().data, {}) == 32 + -(-MAX_COUNTY_UNITS * 14 // 202)


def test_county_units_add_up_to_their_provinces_census_totals():
    """Independent of the raking: the raw census counts of the units (no subtotal row, no
    prefecture left out) add up to each province's count in the provincial census file."""
    units = county_units(read_regions(DATA_DIR / "china_census2020_regions.csv"))
    counts = pd.read_csv(DATA_DIR / "china_census2020_pop_age_sex_prefecture_county.csv",
                         dtype={"region_code": str})
    by_unit = counts.groupby("region_code")["value"].sum()
    summed = by_unit[units["region_code"]].groupby(units["province_code"].to_numpy()).sum()
    province = pd.read_csv(DATA_DIR / "china_census2020_pop_age_sex_province.csv",
                           dtype={"region_code": str}).groupby("region_code")["value"].sum()
    assert len(summed) == 31
    np.testing.assert_allclose(summed, province[summed.index], rtol=1e-6)
    assert not units["county"].str.endswith("直辖县级行政区划").any()
    assert {"441900", "442000", "460400", "620200"} <= set(units["region_code"])


def test_migration_between_counties_follows_the_migrant_stocks(run):
    """Chongqing's districts (500100) hold more residents registered elsewhere than its
    counties (500200): relative to the province's rate they gain, the counties lose, in
    most draws; the migration between them still nets to zero (the sums above)."""
    inputs, projection = run
    rate = (projection["net_migration"].sum("sex")
            / projection["population"].sum(("sex", "age"))).sel(year=2024)
    districts = rate.sel(region="500100") - rate.sel(region=CHONGQING)
    counties = rate.sel(region="500200") - rate.sel(region=CHONGQING)
    assert float((districts > counties).mean("draw")) > 0.75


#: Demand indicators that are sums over people: a prefecture's is its counties' sum.
ADDITIVE = ("childcare_places_standard", "childcare_places_need_realised",
            "childcare_places_need_willingness", "kindergarten_seats_need", "subsidy_budget",
            "childcare_caregivers_need")


def _demand_standards():
    from omegaconf import OmegaConf
    return OmegaConf.to_container(_compose(f"data.province={CHONGQING}").demand, resolve=True)


def test_county_demand_adds_up_to_prefecture_and_province_in_every_draw(run):
    from forecast.planning.demand import demand_indicators
    inputs, projection = run
    demand = demand_indicators(projection["population"].sum("sex"), _demand_standards())
    members = pd.Series(inputs["county_prefecture"].values, index=_counties(inputs))
    for name in ADDITIVE:
        da = demand[name]
        np.testing.assert_allclose(da.sel(region=_counties(inputs)).sum("region", skipna=False),
                                   da.sel(region=CHONGQING), rtol=1e-9, err_msg=name)
        for prefecture in ("500100", "500200"):
            chosen = list(members.index[members == prefecture])
            np.testing.assert_allclose(da.sel(region=chosen).sum("region", skipna=False),
                                       da.sel(region=prefecture), rtol=1e-9, err_msg=name)


@pytest.mark.filterwarnings("ignore:All-NaN slice:RuntimeWarning")
def test_block_demand_matches_the_demand_of_the_kept_draws(run):
    """The demand the county blocks compute from their indicator draws (ages 0-5 and
    total) is the demand stage's on the full population, quantile by quantile."""
    from forecast.core.registry import INDICATORS, QUANTILES
    from forecast.planning.county_demand import CountyDemand
    from forecast.planning.demand import demand_indicators
    from forecast.planning.indicators import planner_indicators
    inputs, projection = run
    units = _counties(inputs)[:5]
    found = planner_indicators(projection.sel(region=units))
    draws = np.stack([found[name].transpose("region", "year", "draw").values
                      if name in found else np.zeros((len(units), projection.sizes["year"],
                                                      projection.sizes["draw"]))
                      for name in INDICATORS], axis=1)
    standards = _demand_standards()
    blocks = CountyDemand(standards, None, projection["year"].values)
    got = blocks(draws, units)
    full = demand_indicators(projection["population"].sum("sex").sel(region=units), standards)
    for i, name in enumerate(blocks.names):
        expected = full[name].transpose("region", "year", ...)
        if "draw" in expected.dims:
            expected = expected.quantile(list(QUANTILES.values()), dim="draw").transpose(
                "region", "year", "quantile")
            np.testing.assert_allclose(got[:, i], expected.values, rtol=1e-9, err_msg=name)
        else:
            np.testing.assert_allclose(got[:, i, :, 0], expected.values, err_msg=name)
