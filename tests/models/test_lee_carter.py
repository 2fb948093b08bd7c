"""Lee-Carter mortality: the fit reproduces its data, draws are random walks with drift."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from forecast.core.inputs import Inputs
from forecast.demography.graduation import AGES
from forecast.models.mortality.lee_carter import LeeCarterMortality, central_k, drift_sigma, fit_svd
from forecast.demography.lifetable import life_table_arrays
from forecast.core.variables import SEXES

try:
    from forecast.data import load_wpp
except ImportError:  # before the inputs module moved
    from forecast.inputs import load_wpp

YEARS = np.arange(2020, 2037)


@pytest.fixture(scope="module")
def china():
    """WPP 2024 inputs for China: mx (region, sex, age, period), periods 1950...2015, J = 2023."""
    return load_wpp(region="CHN", base_year=2020)


def rank_one_inputs(periods=(1980, 1985, 1990, 1995, 2000), last_observed_year=2023):
    """Inputs whose log mx is exactly a + b k by sex (b sums to 1, k to 0)."""
    periods = np.asarray(periods)
    a = np.log(1e-4) + 0.085 * AGES                      # Gompertz-like level
    a[0] = np.log(5e-3)
    b = np.exp(-AGES / 40.0)
    b /= b.sum()
    k = -4.0 * (periods - periods.mean())
    slope = np.array([1.0, 0.8])                         # female, male
    log_mx = a[None, :, None] + b[None, :, None] * slope[:, None, None] * k[None, None, :]
    mx = xr.DataArray(np.exp(log_mx)[None], dims=("region", "sex", "age", "period"),
                      coords={"region": ["x"], "sex": list(SEXES), "age": AGES, "period": periods})
    inputs = Inputs(arrays=xr.Dataset({"mx": mx}), base_year=int(periods[0]),
                    last_observed_year=last_observed_year)
    return inputs, a, b, k


def test_fit_svd_recovers_a_rank_one_surface():
    _, a, b, k = rank_one_inputs()
    fa, fb, fk = fit_svd((a[:, None] + b[:, None] * k[None, :])[None])
    np.testing.assert_allclose(fa[0], a, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fb[0], b, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fk[0], k, rtol=0, atol=1e-10)


def test_second_stage_leaves_an_exact_fit_unchanged():
    inputs, a, b, k = rank_one_inputs()
    fit = LeeCarterMortality(draws=2, fit_from=1980).fit(inputs)
    np.testing.assert_allclose(fit["a"][0, 0], a, atol=1e-9)
    np.testing.assert_allclose(fit["b"][0, 1], b, atol=1e-12)
    np.testing.assert_allclose(fit["k"][0], np.stack([k, 0.8 * k]), atol=1e-8)


def test_fitted_periods_reproduce_the_data_e0(china):
    model = LeeCarterMortality(draws=2)
    fit = model.fit(china)
    periods = china["mx"]["period"].values
    for s, sex in enumerate(SEXES):
        data = china["mx"].sel(region="CHN", sex=sex, period=periods[periods >= 1980])
        e0_data = life_table_arrays(data.transpose("period", "age").values, sex)["ex"][:, 0]
        mx_fit = np.exp(fit["a"][0, s][None] + fit["b"][0, s][None] * fit["k"][0, s][:, None])
        e0_fit = life_table_arrays(mx_fit, sex)["ex"][:, 0]
        np.testing.assert_allclose(e0_fit, e0_data, rtol=0, atol=1e-6)
    assert model.diagnostics["fit_periods"] == list(range(1980, 2016, 5))
    assert all(f["e0_max_abs_diff"] < 1e-6 for f in model.diagnostics["fits"])
    assert np.allclose(fit["k"].sum(-1), 0) and np.allclose(fit["b"].sum(-1), 1)


def test_drift_and_sigma_by_hand():
    # 5-year changes -5, -7, -3: drift -1/yr; residuals 0, -2, 2 -> sigma^2 = 8 / 5 / 2
    drift, sigma, drift_sd = drift_sigma(np.array([0.0, -5.0, -12.0, -15.0]),
                                         np.array([3.0, 8.0, 13.0, 18.0]))
    assert drift == pytest.approx(-1.0)
    assert sigma == pytest.approx(np.sqrt(0.8))
    assert drift_sd == pytest.approx(np.sqrt(0.8 / 15.0))


def test_central_path_interpolates_holds_and_extrapolates():
    k = np.array([[1.0, 0.0, -1.0]])
    got = central_k(k, np.array([3.0, 8.0, 13.0]), np.array([-0.3]),
                    np.array([0.5, 5.5, 10.5, 14.5]))
    np.testing.assert_allclose(got[0], [1.0, 0.5, -0.5, -1.0 - 0.3 * 1.5])


def test_draws_equal_up_to_jump_off_and_spread_after(china):
    mx = LeeCarterMortality(draws=50).rates(china, YEARS)
    jump = china.last_observed_year
    before = mx.sel(year=slice(None, jump))
    assert float((before - before.isel(draw=0)).max()) == 0.0
    spread = mx.sel(region="CHN", age=70).std("draw")
    assert np.all(spread.sel(year=slice(jump + 1, None)) > 0)
    assert np.all(spread.sel(year=jump + 12) > 2 * spread.sel(year=jump + 1))


def test_jump_off_year_attribute_moves_the_start_of_noise(china):
    inputs = china.replace(jump_off_year=2021)
    mx = LeeCarterMortality(draws=20).rates(inputs, YEARS)
    same = mx.sel(year=slice(None, 2021))
    assert float(abs(same - same.isel(draw=0)).max()) == 0.0
    assert float(mx.sel(year=2022).std("draw").min()) > 0.0


@pytest.mark.parametrize("seed", [20240601, 7])
@pytest.mark.parametrize("drift_uncertainty", [False, True])
def test_variance_of_k_grows_like_a_random_walk(china, drift_uncertainty, seed):
    n = 4000
    model = LeeCarterMortality(draws=n, random_seed=seed, drift_uncertainty=drift_uncertainty)
    jump = china.last_observed_year
    horizons = np.array([1, 4, 12])
    k = model.k_draws(china, np.concatenate([[jump], jump + horizons]))
    fit = model.fit_
    # sample variance of n normal draws: relative sd sqrt(2 / (n - 1)); allow 4 of them
    tolerance = 4 * np.sqrt(2.0 / (n - 1))
    for s in range(len(SEXES)):
        expected = horizons * fit["sigma"][0, s] ** 2
        if drift_uncertainty:
            expected = expected + (horizons * fit["drift_sd"][0, s]) ** 2
        got = k[0, s, 1:].var(axis=-1, ddof=1)
        np.testing.assert_allclose(got / expected, 1.0, rtol=0, atol=tolerance)
        change = k[0, s, 1:] - k[0, s, :1]
        mean_tolerance = 4 * np.sqrt(expected / n)
        assert np.all(np.abs(change.mean(-1) - fit["drift"][0, s] * horizons) < mean_tolerance)


def test_mortality_improves_in_china(china):
    model = LeeCarterMortality(draws=200)
    mx = model.rates(china, YEARS).sel(region="CHN")
    median = mx.median("draw")
    assert float((median.sel(year=2035) < median.sel(year=2023)).mean()) > 0.95
    for sex in SEXES:
        e0 = life_table_arrays(median.sel(sex=sex).transpose("year", "age").values, sex)["ex"][:, 0]
        assert np.all(np.diff(e0) > 0)
    assert all(f["drift_per_year"] < 0 for f in model.diagnostics["fits"])


def test_same_seed_same_draws_other_seed_differs_after_jump_off(china):
    jump = china.last_observed_year
    one = LeeCarterMortality(draws=30, random_seed=1).rates(china, YEARS)
    again = LeeCarterMortality(draws=30, random_seed=1).rates(china, YEARS)
    other = LeeCarterMortality(draws=30, random_seed=2).rates(china, YEARS)
    np.testing.assert_array_equal(one.values, again.values)
    np.testing.assert_array_equal(one.sel(year=slice(None, jump)).values,
                                  other.sel(year=slice(None, jump)).values)
    assert np.all(one.sel(year=slice(jump + 1, None)).values
                  != other.sel(year=slice(jump + 1, None)).values)


def test_shape_coords_and_values_for_several_regions(china):
    mx = china["mx"]
    three = xr.concat([mx, mx.assign_coords(region=["B"]), (mx * 1.1).assign_coords(region=["C"])],
                      dim="region")
    inputs = china.replace(arrays=xr.Dataset({"mx": three}))
    model = LeeCarterMortality(draws=7)
    out = model.rates(inputs, YEARS)
    assert out.dims == ("region", "sex", "age", "year", "draw")
    assert list(out["region"].values) == ["CHN", "B", "C"]
    assert list(out["sex"].values) == list(SEXES)
    np.testing.assert_array_equal(out["draw"].values, np.arange(7))
    np.testing.assert_array_equal(out["year"].values, YEARS)
    np.testing.assert_array_equal(out["age"].values, AGES)
    assert np.all(np.isfinite(out.values)) and np.all(out.values > 0)
    assert out.attrs["units"] == "deaths per person-year"
    np.testing.assert_array_equal(out.sel(region="CHN").values, out.sel(region="B").values)
    assert not np.allclose(out.sel(region="CHN").values, out.sel(region="C").values)
    assert [f["regions"] for f in model.diagnostics["fits"]].count(["CHN", "B"]) == 2


@pytest.mark.parametrize("bad", [0.0, -1e-3, np.nan, np.inf])
def test_non_positive_or_non_finite_mx_is_an_error(china, bad):
    mx = china["mx"].copy()
    mx.loc[dict(sex="male", age=40, period=2000)] = bad
    with pytest.raises(ValueError, match="age=40.*period=2000"):
        LeeCarterMortality(draws=2).rates(china.replace(arrays=china.arrays.assign(mx=mx)), YEARS)


def test_too_short_a_fit_window_is_an_error(china):
    with pytest.raises(ValueError, match="need >= 3 periods"):
        LeeCarterMortality(fit_from=2010).rates(china, YEARS)
