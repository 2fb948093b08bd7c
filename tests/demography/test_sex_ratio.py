"""The sex ratio at birth of regions from a census count of infants."""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.demography.sex_ratio import census_sex_ratio


def test_ratio_relative_and_binomial_sd():
    regions = {"region": ["n", "a", "b"]}
    boys = xr.DataArray([1110.0, 600.0, 510.0], dims="region", coords=regions)
    girls = xr.DataArray([1000.0, 500.0, 500.0], dims="region", coords=regions)
    out = census_sex_ratio(boys, girls)
    np.testing.assert_allclose(out["ratio"], [111.0, 120.0, 102.0])
    np.testing.assert_allclose(out["relative"], [1.0, 120 / 111, 102 / 111])
    np.testing.assert_allclose(out["sd"][1], 120 * np.sqrt(1 / 600 + 1 / 500))


def test_sd_matches_simulated_binomial_counts():
    """The delta-method sd of the ratio against simulated infants (any seed): 4,000
    replicates of 20,000 births with a boy share of 0.53; the sd of the simulated ratios
    agrees within 3 standard errors of an sd from 4,000 draws (sd / sqrt(2 x 4,000))."""
    rng = np.random.default_rng()
    n, p, reps = 20_000, 0.53, 4_000
    boys = rng.binomial(n, p, size=reps).astype(float)
    ratios = 100 * boys / (n - boys)
    expected = census_sex_ratio(xr.DataArray([n * p], dims="region"),
                                xr.DataArray([n * (1 - p)], dims="region"))["sd"].item()
    assert abs(ratios.std() - expected) < 3 * expected / np.sqrt(2 * reps)
