"""The state-space model of regional fertility levels: recovery of known dynamics and levels
from simulated provinces, the census update, census factors and the draws."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from forecast.demography import regional_levels as rl

REGIONS, YEARS = 31, 15
TRUE = {"rho": 0.95, "sigma": 0.05, "tau": 0.03}
#: A parameter estimate may miss by this many of its standard errors (two-sided p ~ 6e-5).
Z = 4.0


def _simulate(seed: int, regions: int = REGIONS, years: int = YEARS, rho=TRUE["rho"],
              sigma=TRUE["sigma"], tau=TRUE["tau"]) -> tuple[xr.DataArray, np.ndarray]:
    """Factors (region, year) of the model with Gaussian shocks, and the true log levels."""
    rng = np.random.default_rng(seed)
    x = np.empty((regions, years))
    x[:, 0] = rng.normal(0, sigma / np.sqrt(1 - rho ** 2), regions)
    for t in range(1, years):
        x[:, t] = rho * x[:, t - 1] + rng.normal(0, sigma, regions)
    y = x + rng.normal(0, tau, x.shape)
    series = xr.DataArray(np.exp(y), dims=("region", "year"),
                          coords={"region": [f"r{i}" for i in range(regions)],
                                  "year": np.arange(2005, 2005 + years)})
    return series, x


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_fit_recovers_known_dynamics(seed):
    """Every parameter within Z standard errors (the fit's own, from the sample size) of the
    truth, on the fitting scale (logit rho, log sigma, log tau)."""
    series, _ = _simulate(seed)
    fit = rl.fit_dynamics(series)
    se = np.sqrt(np.diag(fit["theta_cov"].values))
    truth = np.array([np.log(TRUE["rho"] / (rl.RHO_RANGE[1] - TRUE["rho"])),
                      np.log(TRUE["sigma"]), np.log(TRUE["tau"])])
    assert np.all(np.abs(fit["theta"].values - truth) < Z * se), (fit["estimate"].values, se)
    # the standard errors shrink with the sample: 465 observations pin sigma within ~15 %
    assert se[1] < 0.3
    # Gaussian shocks: the fitted tails are close to Gaussian (scale near 1, df large)
    assert 0.8 < float(fit["tail_scale"]) < 1.2 and float(fit["tail_df"]) > 5


@pytest.mark.parametrize("seed", [4, 5])
def test_filtered_levels_cover_the_true_levels(seed):
    """The last year's filtered level lies within its own uncertainty of the truth: about
    95 % of the regions inside +-1.96 sd (binomial tolerance for 31 regions x 4 fits)."""
    inside, total = 0, 0
    for k in range(4):
        series, x = _simulate(seed * 10 + k)
        fit = rl.fit_dynamics(series)
        level = rl.level_at(series, fit, int(series["year"][-1]))
        z = (level["mean"].values - x[:, -1]) / level["sd"].values
        inside += int((np.abs(z) < 1.96).sum())
        total += len(z)
    share, se = inside / total, np.sqrt(0.95 * 0.05 / total)
    assert abs(share - 0.95) < Z * se, share


def test_a_short_series_keeps_its_variances_off_zero():
    """Five years of a noiseless AR(1): the prior keeps tau positive and its draws finite."""
    series, _ = _simulate(8, years=5, tau=0.0)
    fit = rl.fit_dynamics(series)
    assert float(fit["estimate"].sel(parameter="tau")) > 1e-4
    assert np.all(np.isfinite(fit["theta_cov"].values))
    start = rl.level_at(series, fit, 2009)
    paths = rl.level_paths(start, fit, 2009, np.arange(2010, 2015), 500,
                           np.random.default_rng(0))
    assert np.all(np.isfinite(paths.values)) and float(paths.max()) < 10


def test_the_census_update_is_a_precision_weighted_mean():
    """One year of data per region; the census value of the next year moves the level by
    the weight var / (var + kappa^2), as computed by hand."""
    series = xr.DataArray([[1.2], [0.8]], dims=("region", "year"),
                          coords={"region": ["a", "b"], "year": [2019]})
    fit = xr.Dataset({"estimate": ("parameter", [0.9, 0.05, 0.02])},
                     coords={"parameter": list(rl.PARAMETERS)})
    census = xr.DataArray([1.0, np.nan], dims="region", coords={"region": ["a", "b"]})
    out = rl.level_at(series, fit, 2020, census, kappa=0.03, beta=0.04)
    rho, sigma, tau = 0.9, 0.05, 0.02
    prior = sigma ** 2 / (1 - rho ** 2)
    gain = prior / (prior + tau ** 2)
    mean, var = gain * np.log([1.2, 0.8]), np.full(2, prior * (1 - gain))
    mean, var = rho * mean, rho ** 2 * var + sigma ** 2 + 0.04 ** 2
    weight = var / (var + 0.03 ** 2)
    assert out["census_weight"].values.tolist() == pytest.approx([weight[0], 0.0])
    assert out["mean"].values == pytest.approx([mean[0] + weight[0] * (0 - mean[0]), mean[1]])
    assert out["sd"].values == pytest.approx(np.sqrt([var[0] * (1 - weight[0]), var[1]]))


def test_census_birth_factors_by_hand():
    """Two regions, one age, two birth years: children over expected births, relative."""
    women = xr.DataArray([[[100.0, 110.0]], [[300.0, 290.0]]], dims=("region", "age", "year"),
                         coords={"region": ["a", "b"], "age": [28], "year": [2019, 2020]})
    asfr = xr.DataArray([[0.1, 0.08]], dims=("age", "year"),
                        coords={"age": [28], "year": [2019, 2020]})
    children = xr.DataArray([12.0, 20.0], dims="region", coords={"region": ["a", "b"]})
    out = rl.census_birth_factors(children, women, asfr, {2019: 0.25, 2020: 0.75})
    expected = np.array([0.25 * 10 + 0.75 * 8.8, 0.25 * 30 + 0.75 * 23.2])
    ratio = np.array([12.0, 20.0]) / expected
    assert out.values == pytest.approx(ratio / (32.0 / expected.sum()))


def test_draws_spread_as_the_model_says():
    """Without parameter uncertainty and with near-Gaussian tails, the log factor k years
    ahead has sd sqrt(rho^2k sd0^2 + sigma^2 (1 - rho^2k)/(1 - rho^2) + tau^2); its
    sample sd from n draws is within Z standard errors (sd / sqrt(2n))."""
    fit = xr.Dataset({"theta": ("parameter", [np.log(0.9 / (rl.RHO_RANGE[1] - 0.9)),
                                              np.log(0.05), np.log(0.02)]),
                      "theta_cov": (("parameter", "parameter2"), np.zeros((3, 3))),
                      "tail_df": 200.0, "tail_scale": 1.0},
                     coords={"parameter": list(rl.PARAMETERS),
                             "parameter2": list(rl.PARAMETERS)})
    start = xr.Dataset({"mean": ("region", [0.1]), "sd": ("region", [0.03])},
                       coords={"region": ["a"]})
    n = 20000
    paths = rl.level_paths(start, fit, 2020, np.arange(2020, 2026), n,
                           np.random.default_rng(11), parameter_uncertainty=False)
    logs = np.log(paths.sel(region="a").values)
    rho = rl.RHO_RANGE[1] / (1 + (rl.RHO_RANGE[1] - 0.9) / 0.9)
    for k in range(1, 6):
        sd = np.sqrt(rho ** (2 * k) * 0.03 ** 2 + 0.05 ** 2 * (1 - rho ** (2 * k))
                     / (1 - rho ** 2) + 0.02 ** 2 * 200 / 198)
        assert abs(logs[k].std() - sd) < Z * sd / np.sqrt(2 * n)
        assert abs(logs[k].mean() - 0.1 * rho ** k) < Z * sd / np.sqrt(n)


def test_shrinkage_moves_a_small_county_more_than_a_large_one():
    """Same deviation from the group, different sizes: the small area (100 children) is
    pulled further towards the group mean and keeps a larger sd than the large one
    (10,000); weights and variances as the formula says."""
    y = np.log([1.3, 1.3, 1.0, 0.9, 1.1, 0.8, 1.0])
    counted = np.array([100.0, 1e4, 5e3, 5e3, 5e3, 5e3, 5e3])
    out = rl.small_area_levels(y, 1.0 / counted, np.zeros(7), 0.02 ** 2)
    moved = np.abs(out["mean"] - y)
    assert moved[0] > moved[1] and out["sd"][0] > out["sd"][1]
    assert out["weight"][0] < out["weight"][1] <= 1
    omega2 = out["between_sd"][0] ** 2
    v = 1.0 / counted + 0.02 ** 2
    np.testing.assert_allclose(out["weight"], omega2 / (omega2 + v))
    np.testing.assert_allclose(out["sd"], np.sqrt(out["weight"] * v))
