"""Migration between a province's areas from their census migrant stocks."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.demography import regional_migration as rm

Z = 4.0


def _prefectures(seed: int, n: int = 300, slope: float = 0.08, sigma: float = 0.006):
    """Simulated prefectures in 30 provinces: excess shares, populations, growth."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(30), n // 30)
    population = rng.uniform(1e6, 1e7, n)
    stock = population * rng.uniform(0.02, 0.4, n)
    excess = rm.excess_share(stock, population, groups)
    growth = slope * excess + sigma * rng.standard_normal(n)
    return excess, growth, population, groups


@pytest.mark.parametrize("seed", [1, 2])
def test_the_fit_recovers_the_slope_and_the_residual_sd(seed):
    """b within Z of its standard error; σ within Z of its sampling error sqrt(1/(2n))
    relative (the simulated residuals have equal variance, so the weights do not bias it)."""
    excess, growth, population, _ = _prefectures(seed)
    fit = rm.fit_differential(excess, growth, population)
    assert abs(fit["slope"] - 0.08) < Z * fit["slope_se"]
    assert abs(fit["sigma"] / 0.006 - 1) < Z / np.sqrt(2 * fit["n"])


def test_excess_shares_are_differences_from_the_group():
    stock, people = np.array([10.0, 30.0, 5.0]), np.array([100.0, 100.0, 50.0])
    out = rm.excess_share(stock, people, np.array(["a", "a", "b"]))
    assert out.tolist() == pytest.approx([-0.1, 0.1, 0.0])


def test_held_out_predictions_cover_as_stated():
    """Leave-one-province-out predictions of simulated prefectures: about 80 % inside
    +-1.28 sd (binomial tolerance for 300 prefectures)."""
    excess, growth, population, groups = _prefectures(3)
    held = rm.leave_one_group_out(excess, growth, population, groups)
    inside = np.mean(np.abs(growth - held["predicted"]) / held["sd"] < 1.2816)
    assert abs(inside - 0.8) < Z * np.sqrt(0.8 * 0.2 / len(growth))


def test_draws_move_people_between_counties_only():
    """Each draw sums to zero over the province's counties; counties of one prefecture share
    its rate; a prefecture with more migrants than its province gains on average."""
    rng = np.random.default_rng(4)
    excess = np.array([0.2, 0.2, -0.1, -0.1, 0.0])
    population = np.array([1e5, 3e5, 2e5, 2e5, 1e5])
    members = np.array(["p1", "p1", "p2", "p2", "p3"])
    fit = {"slope": 0.08, "slope_se": 0.003, "sigma": 0.006}
    flows = rm.differential_draws(excess, population, members, fit, 4000, rng)
    np.testing.assert_allclose(flows.sum(0), 0.0, atol=1e-6)
    np.testing.assert_allclose(flows[0] / population[0], flows[1] / population[1])
    assert flows[:2].mean(1).min() > 0 > flows[2:4].mean(1).max()
