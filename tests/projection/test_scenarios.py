"""Scenarios (configs/scenario/, forecast/projection/scenario.py): each composes and runs, and each
does to the projection what its config says, on the real China data in a smoke setting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from forecast.core.errors import InputError
from forecast.core.paths import CONFIG_DIR
from forecast.runs.pipeline import level_years
from forecast.projection.project import project_inputs
from forecast.projection.scenario import TFR_FLOOR, Scenario, crossing_time, phase_weights, scenario_tfr

SCENARIOS = sorted(p.stem for p in (Path(CONFIG_DIR) / "scenario").glob("*.yaml"))
#: A smoke setting: a statistical TFR model with few draws, a short horizon.
SMOKE = ["fertility=rw_drift", "fertility.draws=24", "horizon=2031"]
NATION, LAST_OBSERVED = "000000", 2023


def _compose(*overrides):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name="config", overrides=[*SMOKE, *overrides])


@pytest.fixture(scope="module")
def inputs():
    return instantiate(_compose().data)


@pytest.fixture(scope="module")
def runs(inputs):
    """Every scenario config projected with the same seed (scenario name -> projection)."""
    return {name: _project(inputs, f"scenario={name}") for name in SCENARIOS}


def _project(inputs, *overrides):
    cfg = _compose(*overrides)
    models = (instantiate(cfg[k]) for k in ("fertility", "mortality", "migration"))
    return project_inputs(inputs, *models, cfg.horizon, level_years=level_years(cfg),
                          scenario=Scenario.from_config(cfg.scenario))


def _births(ds):
    return ds["births_calendar"].sum("sex").sel(year=slice(LAST_OBSERVED - 3, None))


def test_every_scenario_runs_and_keeps_the_observed_years(runs):
    medium = runs["medium"]
    for name, ds in runs.items():
        assert bool(ds["population"].notnull().all()), name
        observed = slice(2021, LAST_OBSERVED)
        xr.testing.assert_allclose(_births(ds).sel(year=observed),
                                   _births(medium).sel(year=observed), rtol=1e-12)
        assert Scenario.from_config(_compose(f"scenario={name}").scenario).name.startswith(name)


def test_low_medium_high_births_ordered_in_every_region_year_and_draw(runs):
    low, medium, high = (_births(runs[n]) for n in ("low", "medium", "high"))
    slack = 1e-9 * medium
    assert bool((low <= medium + slack).all()) and bool((medium <= high + slack).all())
    future = slice(LAST_OBSERVED + 1, None)
    assert bool((low.sel(year=future) < medium.sel(year=future)).all())
    assert bool((high.sel(year=future) > medium.sel(year=future)).all())


def test_low_and_high_shift_the_national_tfr_as_the_un_variants(runs):
    """WPP 2024's phase-in: 0.25 in each of the first five projection years, 0.4 after."""
    medium = runs["medium"]["tfr"].sel(region=NATION)
    for name, sign in (("low", -1), ("high", 1)):
        diff = runs[name]["tfr"].sel(region=NATION) - medium
        floor = (runs[name]["tfr"].sel(region=NATION) <= TFR_FLOOR + 1e-12)
        for year, size in ((2024, 0.25), (2028, 0.25), (2029, 0.4), (2031, 0.4)):
            d = diff.sel(year=year).where(~floor.sel(year=year))
            np.testing.assert_allclose(d.dropna("draw"), sign * size, atol=1e-12)
        np.testing.assert_allclose(diff.sel(year=slice(None, LAST_OBSERVED)), 0, atol=0)


def test_policy_effect_of_size_zero_equals_medium_exactly(inputs, runs):
    zero = _project(inputs, "scenario=policy_effect", "scenario.shift=0")
    for name in ("population", "births_calendar", "deaths_calendar", "net_migration", "tfr"):
        xr.testing.assert_identical(zero[name], runs["medium"][name])


def test_policy_effect_starts_in_its_year_and_ramps(runs):
    cfg = _compose("scenario=policy_effect").scenario
    diff = (runs["policy_effect"]["tfr"] - runs["medium"]["tfr"]).sel(region=NATION)
    start, shift = int(cfg.start), float(cfg.shift)
    np.testing.assert_allclose(diff.sel(year=slice(None, start - 1)), 0, atol=0)
    np.testing.assert_allclose(diff.sel(year=start), shift / cfg.ramp_years, atol=1e-12)
    np.testing.assert_allclose(diff.sel(year=slice(start + cfg.ramp_years - 1, None)), shift,
                               atol=1e-12)


def test_constant_holds_the_last_observed_tfr_in_every_draw(runs):
    tfr = runs["constant"]["tfr"].sel(region=NATION)
    last = tfr.sel(year=LAST_OBSERVED)
    np.testing.assert_allclose(tfr.sel(year=slice(LAST_OBSERVED, None)),
                               last.broadcast_like(tfr.sel(year=slice(LAST_OBSERVED, None))),
                               rtol=1e-12)


def test_korea_path_ends_at_koreas_relative_decline(inputs, runs):
    """Korea's TFR kept falling after it passed China's 2023 level, so the path falls from
    China's last level to China's level × Korea's last / Korea's at the crossing, which is
    Korea's last observed TFR (the level at the crossing is China's own)."""
    tfr = runs["korea_path"]["tfr"].sel(region=NATION)
    korea = inputs["tfr_pool"].sel(pool_region="KOR").dropna("year")
    last = tfr.sel(year=LAST_OBSERVED)
    assert float(last.std()) < 1e-9 * float(last.mean())  # an observed year: one value
    future = tfr.sel(year=slice(LAST_OBSERVED, None)).median("draw")
    assert bool((future.diff("year") <= 1e-12).all())
    np.testing.assert_allclose(tfr.sel(year=2031), float(korea[-1]), rtol=1e-9)


def test_migration_variants_scale_net_migration_from_the_first_forecast_step(runs):
    medium = runs["medium"]["net_migration"].sum("sex")
    zero = runs["migration_zero"]["net_migration"].sum("sex")
    half = runs["migration_half"]["net_migration"].sum("sex")
    steps = slice(LAST_OBSERVED + 1, 2030)
    assert float(abs(zero.sel(year=steps)).max()) == 0.0
    xr.testing.assert_allclose(zero.sel(year=slice(None, LAST_OBSERVED)),
                               medium.sel(year=slice(None, LAST_OBSERVED)))
    # the first scaled step starts from the same population: exactly half
    xr.testing.assert_allclose(half.sel(year=LAST_OBSERVED + 1),
                               0.5 * medium.sel(year=LAST_OBSERVED + 1), rtol=1e-9)
    xr.testing.assert_identical(runs["migration_trend"]["net_migration"],
                                runs["medium"]["net_migration"])


def test_same_scenario_and_seed_give_identical_numbers(inputs, runs):
    again = _project(inputs, "scenario=korea_path")
    xr.testing.assert_identical(again["population"], runs["korea_path"]["population"])


# ------------------------------------------------------------------ the functions alone

def _tfr(values, years=range(2021, 2031)):
    return xr.DataArray(np.asarray(values, float), dims=("year", "draw"),
                        coords={"year": list(years), "draw": range(np.shape(values)[1])})


def test_phase_weights_linear_and_tabled():
    offsets = np.arange(-2, 7)
    linear = phase_weights(Scenario(kind="shift", ramp_years=4), offsets)
    np.testing.assert_allclose(linear, [0, 0, 0.25, 0.5, 0.75, 1, 1, 1, 1])
    tabled = phase_weights(Scenario(kind="shift", phase_in=(0.5, 0.5, 0.8)), offsets)
    np.testing.assert_allclose(tabled, [0, 0, 0.5, 0.5, 0.8, 1, 1, 1, 1])


def test_a_shift_never_goes_below_the_floor_nor_raises_a_lower_rate():
    tfr = _tfr(np.tile([[1.0, 0.5, 0.2]], (10, 1)))
    low = scenario_tfr(tfr, xr.Dataset(), Scenario(kind="shift", shift=-0.5), 2025)
    np.testing.assert_allclose(low.sel(year=2030), [0.5, TFR_FLOOR, 0.2])
    np.testing.assert_allclose(low.sel(year=2024), [1.0, 0.5, 0.2])


def test_crossing_time_is_the_last_downward_crossing():
    years = np.array([2000, 2001, 2002, 2003, 2004.0])
    values = np.array([1.2, 1.0, 1.1, 0.9, 0.8])
    assert crossing_time(years, values, 1.05) == pytest.approx(2002.25)
    assert crossing_time(years, values, 0.5) is None


def test_follow_needs_a_known_reference_that_was_as_low(inputs):
    tfr = _tfr(np.ones((10, 2)))
    with pytest.raises(InputError, match="scenario.reference: got 'XXX'"):
        scenario_tfr(tfr, inputs, Scenario(kind="follow", reference="XXX"), 2025)
    with pytest.raises(InputError, match="never fell to 0.10"):
        scenario_tfr(tfr * 0.1, inputs, Scenario(kind="follow", reference="KOR"), 2025)


@pytest.mark.parametrize("kind", ["follow", "constant", "shift"])
def test_a_scenario_on_rates_made_a_year_at_a_time_equals_it_in_memory(inputs, kind):
    """Where the provinces' ASFR is large it is a recipe computed a year at a time
    (forecast/core/by_year.py); a scenario reads the national TFR from it (the follow
    scenario takes its median) and scales the ASFR alike, lazily or not."""
    from forecast.projection.scenario import apply_scenario
    asfr = inputs["asfr"].sel(region=[NATION, "110000"]).sel(year=slice(2020, LAST_OBSERVED))
    years = np.arange(2020, 2032)
    asfr = (asfr.reindex(year=years, method="ffill")
            * xr.DataArray(np.linspace(0.9, 1.1, 5), dims="draw")).transpose(
                "region", "age", "year", "draw")
    scenario = Scenario(kind=kind, reference="KOR", shift=-0.2)
    eager = apply_scenario({"asfr": asfr}, inputs, scenario, NATION)["asfr"]
    lazy = apply_scenario({"asfr": asfr.chunk({"year": 1})}, inputs, scenario, NATION)["asfr"]
    assert lazy.chunks is not None  # the provinces' ASFR stays a recipe
    xr.testing.assert_allclose(lazy.compute(), eager, rtol=1e-14, atol=0)
