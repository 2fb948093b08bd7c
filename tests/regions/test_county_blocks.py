"""County-level units projected in blocks (forecast/regions/county_blocks.py, county_engine.py):
the same numbers as the projection that keeps every draw, adding up to the province in every
draw, in float32 within a stated tolerance, and identical on a Dask cluster."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from forecast.demography.ccmpp import project
from forecast.regions import county_projection
from forecast.regions.county_engine import Compute, county_summaries, province_draws, province_part
from forecast.regions.county_blocks import NAMES
from forecast.planning.indicators import QUANTILES, planner_indicators
from forecast.core.paths import CONFIG_DIR
from forecast.runs.pipeline import level_years
from forecast.projection.project import project_inputs, projection_rates
from forecast.projection.scenario import Scenario
from forecast.demography.subnational import project_with_nation

CHONGQING = "500000"
DRAWS = 12
#: float32 against float64: relative difference of the indicators (population, births:
#: about 1e-6 measured, as in tests/demography/test_ccmpp.py; the net migration of a county is a
#: difference of larger flows)
FLOAT32_RTOL = 2e-5


@pytest.fixture(scope="module")
def setting():
    """Chongqing's inputs, its calibrated rates and the provincial projection."""
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name="config", overrides=[
            "data=china_counties", f"data.province={CHONGQING}", "fertility=rw_drift",
            f"fertility.draws={DRAWS}", "horizon=2026"])
    inputs = instantiate(cfg.data)

    def models():
        return [instantiate(cfg[k]) for k in ("fertility", "mortality", "migration")]

    scenario = Scenario.from_config(cfg.scenario)
    rates, _ = projection_rates(inputs, *models(), cfg.horizon, level_years(cfg), scenario)
    province = project_with_nation(inputs["population"], rates, "000000",
                                   keep_migration_of=[CHONGQING])
    full = project_inputs(inputs, *models(), cfg.horizon, level_years(cfg), scenario,
                          compute=Compute(county_draws=True))
    return inputs, rates, province, full, int(cfg.fertility.random_seed)


@pytest.mark.filterwarnings("ignore:All-NaN slice:RuntimeWarning")
def test_blocks_give_the_quantiles_of_the_projection_with_every_draw(setting):
    inputs, rates, province, full, seed = setting
    blocks = county_summaries(province, rates, inputs, Compute(block_mib=0.1), seed=seed)
    assert blocks.sizes["unit"] == 2 + 38
    indicators = planner_indicators(full)
    for name in NAMES:
        expected = (indicators[name].sel(region=blocks["unit"].values)
                    .quantile(list(QUANTILES.values()), dim="draw")
                    .transpose("region", "year", "quantile"))
        got = blocks.sel(indicator=name).sel(year=expected["year"]).values
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected.values), err_msg=name)
        np.testing.assert_allclose(got, expected.values, rtol=1e-12, atol=1e-9, err_msg=name)


def test_counties_in_blocks_add_up_to_the_province_in_every_draw(setting):
    inputs, rates, province, *_ = setting
    part = province_part(province, rates, inputs, CHONGQING, block_mib=0.1, dtype="float64")
    assert len(part["blocks"]) > 1  # several blocks of draws
    draws = province_draws(part)
    total = province.sel(region=CHONGQING)
    at = {name: i for i, name in enumerate(NAMES)}
    sums = {"births": total["births_calendar"].sum("sex"),
            "population": total["population"].sum(("sex", "age")),
            "population_age_0": total["population"].sel(age=0).sum("sex")}
    for name, expected in sums.items():
        np.testing.assert_allclose(draws[:, at[name]].sum(0),
                                   expected.transpose("year", "draw").values, rtol=1e-10,
                                   err_msg=name)
    net = total["net_migration"].sum("sex").transpose("year", "draw").values[:-1]
    np.testing.assert_allclose(draws[:, at["net_migration"], :-1].sum(0), net, rtol=1e-9,
                               atol=1e-6)


def test_death_rates_without_draws_give_the_same_draws_in_many_blocks_as_in_one(setting):
    inputs, rates, province, *_ = setting
    fixed = {**rates, "mx": rates["mx"].isel(draw=0, drop=True)}  # one schedule for all
    many, one = (province_part(province, fixed, inputs, CHONGQING, mib, "float64")
                 for mib in (0.1, 1000.0))
    assert len(many["blocks"]) > 1 and len(one["blocks"]) == 1
    assert many["arrays"]["survival"][0].shape[-1] == 1  # its survivorship has no draws
    # blocks of other sizes sum the base year's births in another order: equal to 1e-12
    np.testing.assert_allclose(province_draws(many), province_draws(one), rtol=1e-12)


def test_float32_blocks_stay_within_the_stated_tolerance(setting):
    inputs, rates, province, *_ = setting
    parts = [province_part(province, rates, inputs, CHONGQING, 0.1, dtype)
             for dtype in ("float64", "float32")]
    double, single = (province_draws(p) for p in parts)
    rows = [i for i, n in enumerate(NAMES) if n != "net_migration"]
    np.testing.assert_allclose(single[:, rows], double[:, rows], rtol=FLOAT32_RTOL)
    scale = np.nanmax(np.abs(double[:, NAMES.index("population")]))
    assert np.nanmax(np.abs(single - double)[:, NAMES.index("net_migration")]) < 1e-5 * scale


def test_dask_cluster_gives_identical_numbers(setting):
    inputs, rates, province, *_ = setting
    memory = county_summaries(province, rates, inputs, Compute(block_mib=0.1))
    dask = county_summaries(province, rates, inputs,
                            Compute(engine="dask", block_mib=0.1, workers=1))
    np.testing.assert_array_equal(dask.values, memory.values)
    assert list(dask["unit"].values) == list(memory["unit"].values)


def test_an_existing_cluster_is_used_by_its_address(setting):
    from distributed import LocalCluster

    inputs, rates, province, *_ = setting
    memory = county_summaries(province, rates, inputs, Compute(block_mib=0.1))
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None) as cluster:
        remote = county_summaries(province, rates, inputs, Compute(
            engine="dask", block_mib=0.1, address=cluster.scheduler_address))
        assert cluster.scheduler.task_prefixes  # the graph ran on that cluster
    np.testing.assert_array_equal(remote.values, memory.values)


def test_counties_kept_draw_by_draw_equal_the_reference_step(setting, monkeypatch):
    """The compiled step of the counties' projection (every draw kept) equals the
    whole-array NumPy reference step to 1e-12."""
    inputs, rates, province, full, seed = setting
    monkeypatch.setattr(county_projection, "project", partial(project, reference=True))
    reference = county_projection.project_counties(province, rates, inputs, seed=seed)
    for name in ("population", "births_calendar", "deaths_calendar", "net_migration"):
        expected = reference[name]
        got = full[name].sel(region=expected["region"].values, year=expected["year"].values)
        np.testing.assert_allclose(got.transpose(*expected.dims), expected, rtol=1e-12,
                                   atol=1e-9, err_msg=name)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_migration_between_counties_in_the_steps_layout_is_the_same_numbers(seed):
    """The counties' exchange made in one compiled pass, draws last, equals the whole-array
    form bit for bit, and moves people between counties only (sums to zero over them)."""
    from forecast.regions.county_exchange import exchange_counts
    rng = np.random.default_rng(seed)
    counties, draws = 7, 13
    base = rng.gamma(2.0, 1e3, (counties, 2, 101))
    flows = rng.normal(0.0, 500.0, (counties, draws))
    parts = {"flows": flows - flows.mean(0), "spread": base / base.sum((1, 2), keepdims=True),
             "share": base / base.sum(0, keepdims=True)}
    by_draw = exchange_counts(parts)  # (county, draw, sex, age)
    np.testing.assert_array_equal(exchange_counts(parts, draws_last=True),
                                  by_draw.transpose(0, 2, 3, 1))
    np.testing.assert_allclose(by_draw.sum(0), 0.0, atol=1e-9 * np.abs(by_draw).max())
