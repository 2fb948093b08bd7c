"""Draws of the provinces' net migration rates: the AR(1) fit and its paths."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from forecast.models.migration.net_migrants import fit_rate_deviations, rate_paths

#: An estimate may miss by this many standard errors.
Z = 4.0


def _panel(seed: int, rho: float, regions: int, steps: int):
    """AR(1) deviations around region means, sigma per region (per person per step)."""
    rng = np.random.default_rng(seed)
    sigma = rng.uniform(0.001, 0.004, regions)
    x = np.empty((regions, steps))
    x[:, 0] = rng.standard_normal(regions) * sigma / np.sqrt(1 - rho ** 2)
    for t in range(1, steps):
        x[:, t] = rho * x[:, t - 1] + sigma * rng.standard_normal(regions)
    mean = rng.normal(0.0, 0.005, regions)
    rates = xr.DataArray(x + mean[:, None], dims=("region", "year"),
                         coords={"region": np.arange(regions), "year": np.arange(steps)})
    return rates, sigma


@pytest.mark.parametrize("seed,rho", [(1, 0.3), (2, 0.6), (3, 0.9)])
def test_the_fit_recovers_rho_and_each_sigma(seed, rho):
    """11 steps as in the provinces' series, 200 regions: the uncorrected estimate is biased
    low (Nickell) and the corrected one is nearer the truth; up to ρ = 0.6 it is within Z
    standard errors (sqrt(3 (1 - ρ²) / pairs): the least-squares error, widened for
    demeaning short series; nearer 1 the first-order correction leaves some bias); the σ of
    each region within its sampling error on average."""
    regions, steps = 200, 11
    rates, sigma = _panel(seed, rho, regions, steps)
    fit = fit_rate_deviations(rates)
    se = np.sqrt(3 * (1 - rho ** 2) / (regions * (steps - 1)))
    assert abs(fit["rho"] - rho) < abs(fit["rho_uncorrected"] - rho)
    if rho <= 0.6:
        assert abs(fit["rho"] - rho) < Z * se, fit["rho"]
    ratio = fit["sigma"] / sigma  # each from 9 residuals: relative sd about 1 / sqrt(18)
    assert abs(ratio.mean() - 1) < Z / np.sqrt(2 * (steps - 2) * regions) + 0.05


def test_paths_spread_as_the_ar1_says():
    """The deviation k steps after the recent mean of n rates has the variance of
    x_{n+k} - mean(x_1..x_n) of the stationary AR(1); sample sd of many draws within Z
    standard errors of it."""
    fit = {"rho": 0.6, "sigma": np.array([0.002])}
    n, draws = 5, 40000
    paths = rate_paths(fit, 8, draws, n, np.random.default_rng(4))
    rho, sigma = 0.6, 0.002
    gamma = lambda k: sigma ** 2 / (1 - rho ** 2) * rho ** np.abs(k)  # noqa: E731
    for k in (1, 4, 8):
        lags = np.arange(k, k + n)
        var = gamma(0) - 2 * gamma(lags).mean() + gamma(lags[:, None] - lags[None, :]).mean()
        sd = np.sqrt(var)
        assert abs(paths[0, k - 1].std() - sd) < Z * sd / np.sqrt(2 * draws)
        assert abs(paths[0, k - 1].mean()) < Z * sd / np.sqrt(draws)


def test_trends_widen_the_draws():
    """Rates that trend (as Beijing's and Guangdong's did) are forecast worse by their recent
    mean than the AR(1) says: the fit widens σ by the ratio it measures; rates without a
    trend keep σ within sampling error (inflation near 1)."""
    rates, _ = _panel(5, 0.6, 100, 11)
    plain = fit_rate_deviations(rates)
    assert plain["inflation"] < 1.0 + Z / np.sqrt(100 * 5)
    trend = 0.002 * np.linspace(-5, 5, 11) * np.random.default_rng(6).choice([-1, 1], 100)[:, None]
    trending = fit_rate_deviations(rates + trend)
    assert trending["inflation"] > plain["inflation"] + 0.2
