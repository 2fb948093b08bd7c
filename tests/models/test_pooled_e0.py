"""Pooled e0 mortality: the fits recover simulated parameters, men follow women, the rates
reproduce the data's e0 and spread only after the jump-off."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.core.variables import SEXES
from forecast.data import load_wpp
from forecast.demography.lifetable import life_table_arrays
from forecast.models.mortality.e0_trajectories import (GAIN_PIVOT, fit_gains, fit_gap,
                                                       gap_design, simulate)
from forecast.models.mortality.lee_carter import LeeCarterMortality, e0
from forecast.models.mortality.pooled_e0 import PooledE0Mortality, k_of_e0

TRUE_GAIN = dict(alpha=0.2, beta=-0.03, tau=0.08, sigma=0.3)
TRUE_GAP = dict(coef=np.array([0.6, 0.9, -0.02]), sigma=0.2)


def simulated_pool(seed: int, regions: int = 40, years: int = 31):
    """Women's and men's e0 (region, year) from the two models with TRUE_GAIN, TRUE_GAP."""
    rng = np.random.default_rng(seed)
    female, gap = np.empty((regions, years)), np.empty((regions, years))
    female[:, 0], gap[:, 0] = rng.uniform(65, 85, regions), rng.uniform(3, 8, regions)
    offset = TRUE_GAIN["tau"] * rng.standard_normal(regions)
    for t in range(1, years):
        female[:, t] = (female[:, t - 1] + TRUE_GAIN["alpha"] + offset + TRUE_GAIN["beta"]
                        * (female[:, t - 1] - GAIN_PIVOT)
                        + TRUE_GAIN["sigma"] * rng.standard_normal(regions))
        gap[:, t] = ((gap_design(gap[:, t - 1], female[:, t]) * TRUE_GAP["coef"]).sum(-1)
                     + TRUE_GAP["sigma"] * rng.standard_normal(regions))
    return female, female - gap, np.arange(1990, 1990 + years), np.array(
        [f"R{i}" for i in range(regions)])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fits_recover_the_simulated_parameters(seed):
    female, male, years, regions = simulated_pool(seed)
    gains = fit_gains(female, years, regions, window=30)
    gap = fit_gap(female, male, years, window=30)
    n = female.shape[0] * 30
    # 4.5 standard errors: a false alarm once in about 150,000 checks
    theta = np.array([TRUE_GAIN["alpha"], TRUE_GAIN["beta"]])
    assert np.all(np.abs(gains.theta - theta) < 4.5 * np.sqrt(np.diag(gains.theta_cov)))
    assert abs(gains.sigma - TRUE_GAIN["sigma"]) < 4.5 * TRUE_GAIN["sigma"] / np.sqrt(2 * n)
    assert np.all(np.abs(gap.coef - TRUE_GAP["coef"]) < 4.5 * np.sqrt(np.diag(gap.cov)))
    assert abs(gap.sigma - TRUE_GAP["sigma"]) < 4.5 * TRUE_GAP["sigma"] / np.sqrt(2 * n)
    # offsets shrink towards 0 and their sd is below the between-population sd
    assert np.all(gains.offset_sd <= gains.tau + 1e-12)


def test_no_offsets_without_between_population_variance():
    rng = np.random.default_rng(5)
    female = 70 + np.cumsum(0.2 + 0.3 * rng.standard_normal((10, 26)), axis=1)
    female[:, 0] = 70
    gains = fit_gains(female, np.arange(26), np.arange(10).astype(str), window=25)
    if gains.tau == 0:
        assert np.all(gains.offset == 0) and np.all(gains.offset_sd == 0)
    assert gains.tau < 3 * 0.3 / np.sqrt(25)  # no true offsets: tau within sampling noise


def test_draws_spread_around_the_central_path_and_men_follow_women():
    female, male, years, regions = simulated_pool(7)
    gains, gap = fit_gains(female, years, regions, 30), fit_gap(female, male, years, 30)
    args = (gains, gap, "R0", female[0, -1], female[0, -1] - male[0, -1], 15, 4000)
    central = simulate(*args, rng=None)
    draws = simulate(*args, rng=np.random.default_rng(0))
    assert np.all(central == central[..., :1])
    # the model is linear in the women's e0: the draws' mean is the central path
    sd = draws.std(-1)
    assert np.all(np.abs(draws.mean(-1) - central[..., 0]) < 5 * sd / np.sqrt(4000))
    # shocks accumulate: the spread grows with the horizon, at least as a random walk's
    assert np.all(np.diff(sd[0]) > 0)
    assert sd[0, -1] > gains.sigma * np.sqrt(15) * 0.9
    # the gap is autoregressive: men move with women, their gap spreads less than either
    gaps = draws[0] - draws[1]
    assert gaps.std(-1)[-1] < 0.6 * sd[0, -1]
    assert np.corrcoef(draws[0, -1], draws[1, -1])[0, 1] > 0.8


def test_k_of_e0_inverts_the_life_table():
    fit = LeeCarterMortality(draws=1).fit(load_wpp(region="CHN", base_year=2020))
    targets = np.random.default_rng(3).uniform(60, 92, (40, 30))
    for s, sex in enumerate(SEXES):
        a, b = fit["a"][0, s], fit["b"][0, s]
        k = k_of_e0(a, b, targets, sex)
        assert k.shape == targets.shape
        assert np.abs(e0(a, b, k.ravel(), sex) - targets.ravel()).max() < 1e-4


@pytest.fixture(scope="module")
def china():
    return load_wpp(region="CHN", base_year=2020)


def _e0_of(mx, sex):
    """e0 (year, draw) of the rates mx (region, sex, age, year, draw) of one sex."""
    one = mx.sel(sex=sex).isel(region=0).transpose("year", "draw", "age").values
    return life_table_arrays(one, sex)["ex"][..., 0]


def test_rates_reproduce_the_data_and_spread_after_the_jump_off(china):
    years = np.arange(2020, 2036)
    model = PooledE0Mortality(draws=50, random_seed=11)
    mx = model.rates(china, years)
    assert mx.dims == ("region", "sex", "age", "year", "draw") and np.all(mx.values > 0)
    pool = china["e0_pool"].sel(pool_region="CHN")
    last = int(pool["year"].max())
    for sex in SEXES:
        life = _e0_of(mx, sex)
        observed = years <= last
        want = pool.sel(sex=sex, year=years[observed]).values
        assert np.abs(life[observed] - want[:, None]).max() < 1e-3
        assert np.all(life[~observed].std(-1) > 0)
    assert model.diagnostics["target"] == "CHN" and model.diagnostics["last_data_year"] == last


def test_a_later_jump_off_keeps_the_draws_together_until_it(china):
    years = np.arange(2020, 2036)
    pool = china["e0_pool"].sel(pool_region="CHN")
    last = int(pool["year"].max())
    later = china.replace(jump_off_year=last + 2)
    model = PooledE0Mortality(draws=50, random_seed=11)
    life = model.e0_draws(later, years).values  # sex, year, draw
    together = (years > last) & (years <= last + 2)
    assert np.all(life[:, together].std(-1) < 1e-9)
    assert np.all(life[:, years > last + 2].std(-1) > 0)
    same_seed = PooledE0Mortality(draws=50, random_seed=11).e0_draws(later, years).values
    assert np.array_equal(life, same_seed)


def test_missing_pool_is_a_clear_error(china):
    with pytest.raises(ValueError, match="e0_pool.*mortality=lee_carter"):
        PooledE0Mortality(draws=5).rates(china.replace(tfr_target="XXX"), np.arange(2020, 2025))
