"""The provinces' net migration rates as levels reverting to zero, each on its own scale:
recovery of the pooled dynamics, the scales' shrinkage, the draws' spread and calibration."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from forecast.demography.regional_levels import PARAMETERS
from forecast.models.migration import rate_levels as rl
from forecast.projection import regional_backtest as rb

#: An estimate may miss by this many of its standard errors (two-sided p ~ 6e-5).
Z = 4.0
TRUE = {"rho": 0.85, "sigma": 1.0, "tau": 0.3}
#: The regions' variances are drawn from IG(PRIOR_A, PRIOR_B) (per person per step, squared).
PRIOR_A, PRIOR_B = 3.0, 2.0 * (0.002 ** 2)


def _panel(seed: int, regions: int, steps: int, rho=TRUE["rho"]) -> tuple[xr.DataArray, np.ndarray]:
    """Rates (region, year) of the model: scales λ from the prior, levels started at their
    stationary spread; and the scales."""
    rng = np.random.default_rng(seed)
    scale = np.sqrt(PRIOR_B / rng.gamma(PRIOR_A, 1.0, regions))
    sigma, tau = TRUE["sigma"], TRUE["tau"]
    x = np.empty((regions, steps))
    x[:, 0] = rng.normal(0, sigma / np.sqrt(1 - rho ** 2), regions)
    for t in range(1, steps):
        x[:, t] = rho * x[:, t - 1] + sigma * rng.standard_normal(regions)
    y = (x + tau * rng.standard_normal(x.shape)) * scale[:, None]
    return xr.DataArray(y, dims=("region", "year"),
                        coords={"region": [f"r{i}" for i in range(regions)],
                                "year": np.arange(2011, 2011 + steps)}), scale


@pytest.mark.parametrize("seed", [1, 2])
def test_the_fit_recovers_rho(seed):
    """ρ does not depend on each series' scale: within Z of the fit's own standard errors
    (logit scale) of the truth, 200 regions of 11 steps."""
    rates, _ = _panel(seed, 200, 11)
    fit = rl.fit_rate_levels(rates)
    se = np.sqrt(fit["theta_cov"][0, 0])
    truth = np.log(TRUE["rho"] / (0.999 - TRUE["rho"]))
    assert abs(fit["theta"][0] - truth) < Z * se, (fit["rho"], se)
    assert fit["regions"] == [f"r{i}" for i in range(200)] and len(fit["steps"]) == 11


def test_scales_are_shrunk_towards_the_regions_distribution():
    """The posterior mode of each variance lies between the region's own sample variance and
    the prior's mode b / (a + 1); a region of 3 steps (1 degree of freedom) is pulled further
    than one of 11 with the same sample variance."""
    rates, _ = _panel(3, 60, 11)
    short = rates.copy()
    short[0, :8] = np.nan  # three steps left
    fit = rl.fit_rate_levels(short)
    a, b = fit["prior"]
    prior_mode = b / (a + 1)
    changes = np.diff(short.values, axis=1)
    s2 = np.nanvar(changes, axis=1, ddof=1)
    mode = fit["scale"] ** 2
    assert np.all((mode - s2) * (mode - prior_mode) <= 1e-18)
    twin = rates.copy()
    twin[1] = rates[0] * np.sqrt(s2[0] / np.nanvar(np.diff(rates[0].values), ddof=1))
    full = rl.fit_rate_levels(twin)
    pulled_short = abs(np.log(mode[0] / s2[0]))
    pulled_long = abs(np.log(full["scale"][1] ** 2 / s2[0]))
    assert pulled_short > pulled_long


def test_draws_spread_as_the_model_says():
    """Without parameter uncertainty the rate k steps ahead is N(ρ^k m, λ² (ρ^2k v +
    σ² (1 - ρ^2k) / (1 - ρ²) + τ²)) for the filtered level m with variance v (standardised);
    sample mean and sd of n draws within Z standard errors."""
    lam, m, v = 0.003, 1.5, 0.2
    fit = {"scale": np.array([lam]), "level": np.array([m * lam]),
           "level_sd": np.array([np.sqrt(v) * lam]), **TRUE}
    n = 40000
    paths = rl.level_rate_paths(fit, 6, n, np.random.default_rng(5),
                                parameter_uncertainty=False)
    rho, sigma, tau = (TRUE[k] for k in PARAMETERS)
    for k in (1, 3, 6):
        sd = lam * np.sqrt(rho ** (2 * k) * v + sigma ** 2 * (1 - rho ** (2 * k))
                           / (1 - rho ** 2) + tau ** 2)
        assert abs(paths[0, k - 1].std() - sd) < Z * sd / np.sqrt(2 * n)
        assert abs(paths[0, k - 1].mean() - rho ** k * m * lam) < Z * sd / np.sqrt(n)


def test_the_fitted_model_is_calibrated_on_its_own_data():
    """Regions simulated from the model, each on its own scale: from 4 origins the forecasts
    1-2 steps ahead cover about 80 % and 95 % (within Z binomial standard errors of half the
    forecasts made: regions move independently, horizons overlap), with the scales' and the
    parameters' uncertainty drawn."""
    rates, _ = _panel(21, 60, 12)
    scores = rb.migration_rolling_origin(rates, [2018, 2019, 2020, 2021], 2, 400, seed=3,
                                         methods={"reverting_level":
                                                  rb.MIGRATION_METHODS["reverting_level"]})
    n = len(scores)
    for level, p in (("in_80", 0.8), ("in_95", 0.95)):
        share = scores[level].astype(float).mean()
        assert abs(share - p) < Z * np.sqrt(p * (1 - p) / (n / 2)), (level, share)


def test_a_region_without_any_rate_is_named():
    rates, _ = _panel(4, 5, 6)
    rates[2] = np.nan
    with pytest.raises(ValueError, match="without an observed net migration rate: r2"):
        rl.fit_rate_levels(rates)
