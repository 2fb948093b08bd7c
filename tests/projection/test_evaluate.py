"""Scores and the backtest harness."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from forecast.projection.evaluate import crps_ensemble, score, summarise


def test_crps_matches_the_pairwise_definition_and_the_normal_closed_form():
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, 4000)
    y = 0.7
    pairwise = np.abs(x - y).mean() - 0.5 * np.abs(x[:, None] - x[None, :]).mean()
    np.testing.assert_allclose(crps_ensemble(x, y), pairwise, rtol=1e-10)
    closed = y * (2 * norm.cdf(y) - 1) + 2 * norm.pdf(y) - 1 / np.sqrt(np.pi)
    # the closed form against an ensemble of the normal's quantiles (no sampling error)
    q = norm.ppf((np.arange(4000) + 0.5) / 4000)
    assert abs(crps_ensemble(q, y) - closed) < 1e-5


def test_crps_of_a_point_forecast_is_the_absolute_error():
    np.testing.assert_allclose(crps_ensemble(np.full((2, 10), 3.0), np.array([1.0, 4.5])),
                               [2.0, 1.5])


def test_coverage_of_a_calibrated_ensemble_is_near_nominal():
    rng = np.random.default_rng(3)
    draws = rng.normal(size=(3000, 400))
    outcomes = rng.normal(size=3000)
    s = score(draws, outcomes)
    assert abs(s["in_80"].mean() - 0.80) < 0.03
    assert abs(s["in_95"].mean() - 0.95) < 0.02
    assert np.all(s["lower_95"] <= s["lower_80"]) and np.all(s["upper_80"] <= s["upper_95"])


def test_summary_pools_and_splits_by_horizon():
    scores = pd.DataFrame({"model": "m", "quantity": "tfr", "h": [1, 1, 2, 2],
                           "ape": [0.1, 0.3, 0.2, 0.2], "crps": [1.0, 2.0, 3.0, 4.0],
                           "crps_relative": [0.1, 0.2, 0.3, 0.4],
                           "in_80": [True, False, True, True], "in_95": True})
    table = summarise(scores).set_index("h")
    assert table.loc["all", "crps"] == 2.5 and table.loc["all", "coverage_80"] == 0.75
    assert table.loc["1", "mape"] == pytest.approx(0.2)
    assert table.loc["2", "forecasts"] == 2
