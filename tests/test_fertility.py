"""Fertility models: the contract they share, the age schedule, sub-national factors, and the
Bayesian model's parameter recovery."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from forecast.cli import CONFIG_DIR
from forecast.fertility.bayes import HierarchicalTFR, simulate_paths
from forecast.fertility.baseline import ConstantTFR
from forecast.fertility.schedule import AgeSchedule, mean_age_at_childbearing
from forecast.graduation import AGES
from forecast.inputs import load_wpp
from forecast.subnational import scale_factor_paths

FERTILITY_OPTIONS = sorted(p.stem for p in (Path(CONFIG_DIR) / "fertility").glob("*.yaml"))
SHORT_MCMC = ["fertility.samples=40", "fertility.tune=40", "fertility.chains=1",
              "fertility.cores=1", "fertility.progressbar=false"]


@pytest.fixture(scope="module")
def japan():
    return load_wpp("JPN", 2015, until=2019)


def _model(option, draws=40):
    overrides = [f"fertility={option}"]
    if option != "constant":
        overrides.append(f"fertility.draws={draws}")
    if option == "bayes":
        overrides += SHORT_MCMC
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides)
    return instantiate(cfg.fertility)


@pytest.mark.parametrize("option", FERTILITY_OPTIONS)
def test_every_fertility_model_keeps_the_contract(option, japan):
    """ASFR (region, age, year[, draw]) >= 0 for every step, SRB per step, draws as asked."""
    steps = np.arange(2015, 2026)
    rates = _model(option).rates(japan, steps)
    asfr = rates["asfr"]
    assert set(asfr.dims) <= {"region", "age", "year", "draw"}
    assert list(asfr["year"].values) == list(steps)
    assert float(asfr.min()) >= 0 and bool(asfr.notnull().all())
    if option != "constant":
        assert asfr.sizes["draw"] == 40
    # observed years are reproduced: step 2015 is the mean of calendar 2015 and 2016
    observed = japan["asfr"].sel(region="JPN", year=[2015, 2016]).mean("year").sum("age")
    first = asfr.sel(year=2015).sum("age")
    np.testing.assert_allclose(first.values, float(observed), rtol=1e-9)
    assert float(rates["srb"].min()) > 1.0


def test_bayes_same_seed_same_draws(japan):
    years = np.arange(2020, 2026)
    first = _model("bayes", draws=20).forecast_tfr(japan["tfr_pool"], years, ["JPN", "KOR"])
    second = _model("bayes", draws=20).forecast_tfr(japan["tfr_pool"], years, ["JPN", "KOR"])
    xr.testing.assert_equal(first, second)
    assert float(first.min()) > 0


def test_simulated_paths_follow_the_equations():
    """No shocks, no momentum: log TFR moves by the drift each year."""
    n = 3
    paths = simulate_paths(np.log(1.5), 0.0, np.full(n, -0.02), np.zeros(n), np.zeros(n),
                           np.full(n, 10.0), 4, np.random.default_rng(0))
    np.testing.assert_allclose(paths[:, 0], 1.5 * np.exp(-0.02 * np.arange(1, 5)))


def test_constant_tfr_baseline_repeats_the_last_value(japan):
    tfr = ConstantTFR(draws=5).forecast_tfr(japan["tfr_pool"], np.arange(2020, 2023), ["JPN"])
    np.testing.assert_allclose(tfr.values, float(japan["tfr_pool"].sel(pool_region="JPN",
                                                                          year=2019)))


def test_age_schedule_keeps_shape_sums_and_bounds_the_shift(japan):
    asfr = japan["asfr"].sel(region="JPN")
    years = np.arange(2020, 2060)
    frozen = AgeSchedule(damping=0.0).pattern(asfr, years)
    last = asfr.sel(year=2019) / asfr.sel(year=2019).sum()
    np.testing.assert_allclose(frozen.isel(year=-1).values, last.values, atol=1e-12)
    moving = AgeSchedule(damping=1.0, max_shift=1.5).pattern(asfr, years)
    np.testing.assert_allclose(moving.sum("age").values, 1.0)
    outside = xr.DataArray((AGES < 10) | (AGES > 54), dims="age", coords={"age": AGES})
    assert float(moving.where(outside, 0).sum()) == 0
    mac = mean_age_at_childbearing(moving)
    mac_last = float(mean_age_at_childbearing(asfr.sel(year=2019)))
    assert float(abs(mac - mac_last).max()) <= 1.5 + 0.05
    assert float(mac.isel(year=-1)) > mac_last  # Japan's MAC has been rising


def test_scale_factors_revert_towards_one_and_fix_the_nation():
    start = xr.DataArray([1.0, 1.4, 0.6], dims="region", coords={"region": ["N", "a", "b"]})
    years = np.arange(2020, 2041)
    quiet = scale_factor_paths(start, 2020, years, 3, np.random.default_rng(1), rho=0.9,
                               sigma=0.0, fixed=["N"])
    np.testing.assert_allclose(quiet.sel(region="a", year=2030).values, 1 + 0.4 * 0.9 ** 10)
    np.testing.assert_allclose(quiet.sel(region="N").values, 1.0)
    noisy = scale_factor_paths(start, 2020, years, 4000, np.random.default_rng(2),
                               fixed=["N"])
    # stationary spread of the published annual AR(1): sigma / sqrt(1 - rho^2) after long runs
    spread = float(noisy.sel(region="b", year=2040).std())
    expected = 0.02086 * np.sqrt((1 - 0.98445 ** 40) / (1 - 0.98445 ** 2))
    assert abs(spread - expected) / expected < 0.1


@pytest.mark.slow
def test_bayes_recovers_known_parameters():
    """Data simulated from the model itself (12 populations x 40 years); the posterior covers
    the true pooled drift, shock size and each population's drift."""
    rng = np.random.default_rng(11)
    n, years = 12, 40
    truth = {"drift_mean": -0.012, "drift_sd": 0.008, "sigma": 0.03, "ar": 0.4, "nu": 30.0}
    drift = truth["drift_mean"] + truth["drift_sd"] * rng.standard_normal(n)
    y = np.empty((n, years))
    y[:, 0] = np.log(rng.uniform(1.2, 2.2, n))
    change = drift.copy()
    for t in range(1, years):
        change = drift + truth["ar"] * (change - drift) + truth["sigma"] * rng.standard_t(truth["nu"], n)
        y[:, t] = y[:, t - 1] + change
    regions = [f"r{i}" for i in range(n)]
    pool = xr.DataArray(np.exp(y), dims=("pool_region", "year"),
                        coords={"pool_region": regions, "year": np.arange(1980, 1980 + years)})
    model = HierarchicalTFR(draws=400, samples=400, tune=400, chains=2, cores=2,
                            window=years, progressbar=False, random_seed=5)
    post = model.fit(pool).posterior
    def covers(values, true, q=(0.025, 0.975)):
        lo, hi = np.quantile(values, q)
        return lo <= true <= hi
    assert covers(post["drift_mean"].values.ravel(), truth["drift_mean"])
    assert covers(np.exp(post["log_sigma_mean"].values.ravel()), truth["sigma"])
    drift_post = post["drift"].stack(s=("chain", "draw")).values
    inside = [covers(drift_post[i], drift[i]) for i in range(n)]
    assert np.mean(inside) >= 0.8
    assert model.diagnostics["rhat_max"] < 1.05
