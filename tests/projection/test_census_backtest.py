"""The census-base backtest (``forecast experiment=census_backtest``): from each origin the
run's data up to it, scored against NBS's later births and the official TFR series."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.data import load_china_census
from forecast.runs.api import backtest


@pytest.fixture(scope="module")
def result():
    return backtest(["experiment=census_backtest", "backtest.models=[rw_drift]",
                     "backtest.draws=60", "backtest.first_origin=2020",
                     "backtest.last_origin=2025"])


def test_every_origin_with_a_published_year_after_it_is_scored(result):
    scores = result.scores
    published = load_china_census(regions=[])
    births = published["observed_births"].rename(observed_year="year").dropna("year")
    last = int(births["year"].max())
    assert sorted(scores["origin"].unique()) == list(range(2020, last))  # later ones skipped
    assert set(scores["quantity"]) == {"births", "tfr"}
    assert (scores["year"] > scores["origin"]).all() and (scores["year"] <= last).all()
    for quantity, truth in (("births", births),
                            ("tfr", published["tfr_official"].rename(observed_year="year"))):
        rows = scores[scores["quantity"] == quantity]
        np.testing.assert_allclose(rows["observed"], truth.sel(year=rows["year"].values))
    assert (scores["region"] == published.nation).all()


def test_the_forecast_sees_only_the_data_up_to_its_origin(result):
    """Origin 2022 has seen 2022's births, which the calibration reproduces: its forecast
    of 2023 starts from them and misses by less than the fall of the year before (-10 %)."""
    row = result.scores.query("quantity == 'births' and origin == 2022").iloc[0]
    assert row["year"] == 2023
    assert abs(row["median"] / row["observed"] - 1) < 0.10
    assert set(result.summary["model"]) == {"rw_drift"}
