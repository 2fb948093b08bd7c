"""Rolling-origin scoring of regional fertility levels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.projection import regional_backtest as rb
from tests.demography.test_regional_levels import Z, _simulate


def test_pit_bins_follow_the_interval_bounds():
    bounds = {"lower_95": 1.0, "lower_80": 2.0, "median": 3.0, "upper_80": 4.0,
              "upper_95": 5.0}
    got = [rb.pit_bin(bounds, y) for y in (0.5, 1.5, 2.5, 3.5, 4.5, 5.5)]
    assert got == list(rb.PIT_BINS)
    assert sum(rb.PIT_EXPECTED) == 100


def test_summary_by_hand():
    scores = pd.DataFrame({"method": ["m"] * 4, "h": [1, 1, 2, 2],
                           "in_80": [True, False, True, True],
                           "in_95": [True, True, True, False],
                           "crps": [0.02, 0.04, 0.01, 0.03], "ape": [0.1, 0.3, 0.2, 0.2]})
    out = rb.summarise(scores).set_index("h")
    assert out.loc[1, "coverage_80"] == 50 and out.loc[2, "coverage_95"] == 50
    assert out.loc[1, "crps_percent"] == pytest.approx(3.0)
    assert out.loc[2, "mape_percent"] == pytest.approx(20.0)


@pytest.mark.parametrize("method, rho", [("state_space", 1.0), ("state_space_ar1", 0.95)])
def test_the_fitted_model_is_calibrated_on_its_own_data(method, rho):
    """Provinces simulated from the model (a random walk for the local level, an AR(1) for
    the AR(1)): from 4 origins its forecasts one and two years ahead cover about 80 % and
    95 %, within Z binomial standard errors of the forecasts made (regions move
    independently); the point forecast beats the naive rule on average (the filter removes
    the noise; the AR(1) also pulls towards the nation)."""
    series, _ = _simulate(21, regions=40, years=16, rho=rho)
    methods = {name: rb.METHODS[name] for name in (method, "naive")}
    scores = rb.rolling_origin(series, [2014, 2015, 2016, 2017], 2, 400, seed=3,
                               methods=methods)
    state = scores[scores["method"] == method]
    n = len(state)
    for level, p in (("in_80", 0.8), ("in_95", 0.95)):
        share = state[level].mean()
        assert abs(share - p) < Z * np.sqrt(p * (1 - p) / (n / 2)), (level, share)
    naive = scores[scores["method"] == "naive"]
    assert state["crps"].mean() < naive["crps"].mean()
    assert naive["in_80"].isna().all()  # a point forecast has no intervals
