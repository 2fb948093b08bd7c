"""The state-space model of regional fertility levels: recovery of known dynamics and levels
from simulated provinces, the census update, census factors and the draws."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from forecast.demography import regional_levels as rl

REGIONS, YEARS = 31, 15
TRUE = {"rho": 0.95, "sigma": 0.05, "tau": 0.03}
#: Spread of the simulated regions' levels in their first year where ρ = 1 (log scale).
FIRST_SD = 0.25
#: A parameter estimate may miss by this many of its standard errors (two-sided p ~ 6e-5).
Z = 4.0


def _simulate(seed: int, regions: int = REGIONS, years: int = YEARS, rho=TRUE["rho"],
              sigma=TRUE["sigma"], tau=TRUE["tau"]) -> tuple[xr.DataArray, np.ndarray]:
    """Factors (region, year) of the model with Gaussian shocks, and the true log levels;
    ρ = 1 starts the regions at a spread :data:`FIRST_SD`, ρ < 1 at the stationary law."""
    rng = np.random.default_rng(seed)
    x = np.empty((regions, years))
    x[:, 0] = rng.normal(0, FIRST_SD if rho >= 1 else sigma / np.sqrt(1 - rho ** 2), regions)
    for t in range(1, years):
        x[:, t] = rho * x[:, t - 1] + rng.normal(0, sigma, regions)
    y = x + rng.normal(0, tau, x.shape)
    series = xr.DataArray(np.exp(y), dims=("region", "year"),
                          coords={"region": [f"r{i}" for i in range(regions)],
                                  "year": np.arange(2005, 2005 + years)})
    return series, x


def _standardised_sd_within_tolerance(fit: xr.Dataset) -> bool:
    """The one-step errors' sd is 1 within Z standard errors of a sample sd (1 / sqrt(2n),
    n one-step errors: the observations after each region's first)."""
    n = fit.attrs["observations"] - fit.attrs["regions"]
    return abs(fit.attrs["standardised_error_sd"] - 1) < Z / np.sqrt(2 * n)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_ar1_fit_recovers_known_dynamics(seed):
    """Every parameter within Z standard errors (the fit's own, from the sample size) of the
    truth, on the fitting scale (logit rho, log sigma, log tau)."""
    series, _ = _simulate(seed)
    fit = rl.fit_dynamics(series, "ar1")
    assert fit["free"].values.tolist() == list(rl.PARAMETERS)
    se = np.sqrt(np.diag(fit["theta_cov"].values))
    truth = np.array([np.log(TRUE["rho"] / (rl.RHO_RANGE[1] - TRUE["rho"])),
                      np.log(TRUE["sigma"]), np.log(TRUE["tau"])])
    assert np.all(np.abs(fit["theta"].values - truth) < Z * se), (fit["estimate"].values, se)
    # the standard errors shrink with the sample: 465 observations pin sigma within ~15 %
    assert se[1] < 0.3
    assert _standardised_sd_within_tolerance(fit)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_local_level_fit_recovers_known_variances(seed):
    """Random-walk levels (ρ = 1): σ and τ within Z standard errors of the truth on the log
    scale, ρ reported as 1, the one-step errors standardised."""
    series, _ = _simulate(seed, rho=1.0)
    fit = rl.fit_dynamics(series)
    assert fit.attrs["model"] == "local_level"
    assert fit["free"].values.tolist() == ["sigma", "tau"]
    assert float(fit["estimate"].sel(parameter="rho")) == 1.0
    se = np.sqrt(np.diag(fit["theta_cov"].values))
    truth = np.log([TRUE["sigma"], TRUE["tau"]])
    assert np.all(np.abs(fit["theta"].values - truth) < Z * se), (fit["estimate"].values, se)
    assert _standardised_sd_within_tolerance(fit)


def test_the_local_level_likelihood_ignores_the_start():
    """Diffuse start: shifting every region's series by a constant leaves the local level's
    log-likelihood unchanged (the first observation only sets the level); under the AR(1)'s
    stationary start it does not. (The diffuse start is a variance of 1e4: the first
    level keeps a share tau^2 / 1e4 ~ 1e-7 of the start, so equal to 1e-4 here.)"""
    series, _ = _simulate(6, rho=1.0)
    y = np.log(series.values)
    same = [rl.kalman_filter(y + shift, 1.0, 0.05, 0.03)[0].sum() for shift in (0.0, 0.7)]
    assert same[0] == pytest.approx(same[1], abs=1e-4)
    moved = [rl.kalman_filter(y + shift, 0.95, 0.05, 0.03)[0].sum() for shift in (0.0, 0.7)]
    assert moved[0] > moved[1] + 10


def test_an_unknown_dynamics_is_refused():
    series, _ = _simulate(1, regions=4, years=5)
    with pytest.raises(ValueError, match="unknown dynamics 'ar2'.*local_level, ar1"):
        rl.fit_dynamics(series, "ar2")


@pytest.mark.parametrize("seed, model, rho", [(4, "ar1", TRUE["rho"]),
                                             (5, "local_level", 1.0)])
def test_filtered_levels_cover_the_true_levels(seed, model, rho):
    """The last year's filtered level lies within its own uncertainty of the truth: about
    95 % of the regions inside +-1.96 sd (binomial tolerance for 31 regions x 4 fits)."""
    inside, total = 0, 0
    for k in range(4):
        series, x = _simulate(seed * 10 + k, rho=rho)
        fit = rl.fit_dynamics(series, model)
        level = rl.level_at(series, fit, int(series["year"][-1]))
        z = (level["mean"].values - x[:, -1]) / level["sd"].values
        inside += int((np.abs(z) < 1.96).sum())
        total += len(z)
    share, se = inside / total, np.sqrt(0.95 * 0.05 / total)
    assert abs(share - 0.95) < Z * se, share


def test_a_short_series_keeps_its_variances_off_zero():
    """Five years of a noiseless random walk: the prior keeps tau positive and its draws
    finite."""
    series, _ = _simulate(8, years=5, tau=0.0, rho=1.0)
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


def test_the_local_level_update_by_hand():
    """ρ = 1: the first observation sets the level (diffuse start: gain 1 up to 1e-7), two
    years ahead its variance grows by 2σ², and the census updates it as above. A region
    with neither a series nor a census value has no level and is named."""
    series = xr.DataArray([[1.2, np.nan], [0.8, np.nan]], dims=("region", "year"),
                          coords={"region": ["a", "b"], "year": [2018, 2019]})
    fit = xr.Dataset({"estimate": ("parameter", [1.0, 0.05, 0.02])},
                     coords={"parameter": list(rl.PARAMETERS)})
    census = xr.DataArray([1.0, np.nan], dims="region", coords={"region": ["a", "b"]})
    out = rl.level_at(series, fit, 2020, census, kappa=0.03, beta=0.04)
    var = 0.02 ** 2 + 2 * 0.05 ** 2 + 0.04 ** 2
    weight = var / (var + 0.03 ** 2)
    np.testing.assert_allclose(out["census_weight"].values, [weight, 0.0], rtol=1e-6)
    np.testing.assert_allclose(out["mean"].values, np.log([1.2, 0.8]) * [1 - weight, 1],
                               rtol=1e-6)
    np.testing.assert_allclose(out["sd"].values, np.sqrt([var * (1 - weight), var]),
                               rtol=1e-6)
    empty = series.copy(data=[[1.2, np.nan], [np.nan, np.nan]])
    with pytest.raises(ValueError, match="regions b have neither"):
        rl.level_at(empty, fit, 2020, census.where(census["region"] == "a"))


def test_change_variance_tends_to_the_random_walk():
    """The AR(1)'s variance of a level against an average of earlier ones tends, as ρ -> 1,
    to the random walk's σ² mean min(l_i, l_j); by hand for one lag of 2 years."""
    lags = np.array([1.0, 2.0, 3.0, 4.0])
    walk = rl.change_variance(1.0, 0.05, lags)
    assert walk == pytest.approx(0.05 ** 2 * np.minimum(lags[:, None], lags[None, :]).mean())
    assert rl.change_variance(0.99999, 0.05, lags) == pytest.approx(walk, rel=1e-4)
    assert rl.change_variance(0.9, 0.05, np.array([2.0])) == pytest.approx(
        2 * 0.05 ** 2 / (1 - 0.81) * (1 - 0.81))


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


@pytest.mark.parametrize("rho", [0.9, 1.0])
def test_draws_spread_as_the_model_says(rho):
    """Without parameter uncertainty the log factor k years ahead has sd sqrt(rho^2k sd0^2
    + sigma^2 (1 - rho^2k)/(1 - rho^2) + tau^2) (sigma^2 k for rho = 1, the local level);
    its sample sd from n draws is within Z standard errors (sd / sqrt(2n))."""
    free = list(rl.PARAMETERS) if rho < 1 else ["sigma", "tau"]
    theta = ([np.log(rho / (rl.RHO_RANGE[1] - rho))] if rho < 1 else []) + list(
        np.log([0.05, 0.02]))
    fit = xr.Dataset({"theta": ("free", theta),
                      "theta_cov": (("free", "free2"), np.zeros((len(free), len(free))))},
                     coords={"free": free, "free2": free})
    start = xr.Dataset({"mean": ("region", [0.1]), "sd": ("region", [0.03])},
                       coords={"region": ["a"]})
    n = 20000
    paths = rl.level_paths(start, fit, 2020, np.arange(2020, 2026), n,
                           np.random.default_rng(11), parameter_uncertainty=False)
    logs = np.log(paths.sel(region="a").values)
    for k in range(1, 6):
        walked = 0.05 ** 2 * (k if rho == 1 else (1 - rho ** (2 * k)) / (1 - rho ** 2))
        sd = np.sqrt(rho ** (2 * k) * 0.03 ** 2 + walked + 0.02 ** 2)
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


@pytest.mark.parametrize("seed", [3, 4])
def test_regions_of_a_group_share_their_shocks(seed):
    """With groups and a shared share q of each year's shock: every region's log factor
    keeps the spread of independent regions, two regions of a group move together (the
    correlation of their level's change after k years is q: walked variance q σ² k over
    σ² k + τ² each, with the start and τ apart), regions of different groups or without a
    group do not; each within Z standard errors of a correlation over n draws
    ((1 - r²) / sqrt(n)). ``shared`` 0 gives the numbers of independent regions exactly."""
    fit = xr.Dataset({"theta": ("free", np.log([0.05, 0.02])),
                      "theta_cov": (("free", "free2"), np.zeros((2, 2)))},
                     coords={"free": ["sigma", "tau"], "free2": ["sigma", "tau"]})
    regions = ["a", "b", "c", "d"]
    start = xr.Dataset({"mean": ("region", np.zeros(4)), "sd": ("region", np.full(4, 0.03))},
                       coords={"region": regions})
    groups = np.array(["g1", "g1", "g2", ""])
    n, q, years = 20000, 0.3, np.arange(2020, 2026)
    paths = rl.level_paths(start, fit, 2020, years, n, np.random.default_rng(seed),
                           parameter_uncertainty=False, groups=groups, shared=q)
    change = np.log(paths.isel(year=-1).values) - np.log(paths.isel(year=0).values)
    k = len(years) - 1
    walked = 0.05 ** 2 * k
    # the change of each region: the walk (σ² k), τ at the end and at the start (τ² each,
    # the start's τ is not drawn: year 0 is the start itself) -> σ² k + τ²
    expected = q * walked / (walked + 0.02 ** 2)
    corr = np.corrcoef(change)
    for (i, j), r in (((0, 1), expected), ((0, 2), 0.0), ((2, 3), 0.0), ((1, 3), 0.0)):
        assert abs(corr[i, j] - r) < Z * (1 - r ** 2) / np.sqrt(n)
    logs = np.log(paths.isel(year=-1).values)
    sd = np.sqrt(0.03 ** 2 + walked + 0.02 ** 2)
    assert np.all(np.abs(logs.std(axis=1) - sd) < Z * sd / np.sqrt(2 * n))
    alone = rl.level_paths(start, fit, 2020, years, n, np.random.default_rng(seed),
                           parameter_uncertainty=False)
    same = rl.level_paths(start, fit, 2020, years, n, np.random.default_rng(seed),
                          parameter_uncertainty=False, groups=groups, shared=0.0)
    np.testing.assert_array_equal(alone.values, same.values)
