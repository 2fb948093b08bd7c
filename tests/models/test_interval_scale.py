"""Interval widths learned from a forecast record (conformal calibration): the widening keeps
the median and scales every quantile's distance from it; the scale learned from a simulated
record recovers how much too narrow its intervals were; the configured scale is the one the
official-series record gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from forecast.core.paths import ROOT
from forecast.models.fertility.interval_scale import (LEVELS, MIN_FORECASTS, covering_scale,
                                                      interval_scale, widened)

SEEDS = [0, 1, 2]


@pytest.mark.parametrize("seed", SEEDS)
def test_widening_keeps_the_median_and_scales_each_quantile_from_it(seed):
    rng = np.random.default_rng(seed)
    paths = np.exp(rng.normal(0.0, 0.1, (4, 201)).cumsum(axis=0))  # odd draws: a middle one
    scale = rng.uniform(0.5, 3.0)
    wide = widened(paths, scale)
    probs = [0.025, 0.1, 0.5, 0.9, 0.975]
    before = np.log(np.quantile(paths, probs, axis=1, method="inverted_cdf"))
    after = np.log(np.quantile(wide, probs, axis=1, method="inverted_cdf"))
    np.testing.assert_allclose(after[2], before[2], rtol=0, atol=1e-12)
    np.testing.assert_allclose(after - after[2], scale * (before - before[2]), atol=1e-12)
    assert widened(paths, 1.0) is paths


@pytest.mark.parametrize("seed", SEEDS)
def test_the_covering_scale_puts_the_observation_on_the_widened_bound(seed):
    rng = np.random.default_rng(seed)
    median = rng.uniform(1.0, 2.0, 50)
    lower, upper = median * rng.uniform(0.8, 0.99, 50), median * rng.uniform(1.01, 1.2, 50)
    observed = median * np.exp(rng.normal(0.0, 0.2, 50))
    k = covering_scale(observed, median, lower, upper)
    bound = np.where(observed >= median, upper, lower)
    np.testing.assert_allclose(np.exp(np.log(median) + k * np.log(bound / median)), observed,
                               rtol=1e-12)
    assert covering_scale(1.5, 1.5, 1.4, 1.6) == 0.0


def _record(rng, n: int, true_scale: float) -> pd.DataFrame:
    """``n`` forecasts whose stated intervals are normal on the log scale with sd s, while
    the outcomes scatter with sd ``true_scale`` x s around the median."""
    sd = rng.uniform(0.02, 0.2, n)
    median = rng.uniform(1.0, 2.0, n)
    frame = {"median": median,
             "observed": median * np.exp(true_scale * sd * rng.standard_normal(n))}
    for level, nominal in LEVELS.items():
        z = stats.norm.ppf(0.5 + nominal / 2)
        frame[f"lower_{level}"] = median * np.exp(-z * sd)
        frame[f"upper_{level}"] = median * np.exp(z * sd)
    return pd.DataFrame(frame)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_scale_recovers_how_much_too_narrow_the_intervals_were(seed):
    """With n forecasts the coverage of the 80 % interval has sampling sd sqrt(0.16 / n);
    near the true scale c the coverage changes by 2 phi(z) z / c per unit of k (z = 1.28),
    so the estimate's sd is about sqrt(0.16 / n) c / (2 phi(z) z); the test allows 5 of it."""
    rng = np.random.default_rng(seed)
    n, true_scale = 4000, rng.uniform(0.6, 2.5)
    z = stats.norm.ppf(0.9)
    tolerance = 5 * np.sqrt(0.16 / n) * true_scale / (2 * stats.norm.pdf(z) * z)
    k = interval_scale(_record(rng, n, true_scale))
    assert abs(k - true_scale) < tolerance
    # the widened record holds its intervals as nominal, within the same sampling error
    record = _record(rng, n, true_scale)
    for level, nominal in LEVELS.items():
        held = (covering_scale(record["observed"], record["median"], record[f"lower_{level}"],
                               record[f"upper_{level}"]) <= k).mean()
        assert abs(held - nominal) < 5 * np.sqrt(nominal * (1 - nominal) / n) + 0.02


def test_a_short_record_teaches_no_scale():
    record = _record(np.random.default_rng(0), MIN_FORECASTS - 1, 3.0)
    assert interval_scale(record) == 1.0


def test_the_configured_scale_is_the_official_series_record_s():
    """``configs/fertility/bayes.yaml``'s ``unsmoothed_interval_scale`` is the scale of the
    default model's rolling-origin record on China's official series (every forecast the
    record scored, ``experiments/official_series/results/scores.csv``), to two decimals."""
    config = yaml.safe_load((ROOT / "configs/fertility/bayes.yaml").read_text("utf-8"))
    scores = pd.read_csv(ROOT / "experiments/official_series/results/scores.csv")
    record = scores[scores["variant"] == "official_damped_lags2"]
    assert len(record) >= 60
    assert config["unsmoothed_interval_scale"] == round(interval_scale(record), 2)


@pytest.mark.parametrize("seed", SEEDS)
def test_beyond_the_record_the_added_spread_is_held(seed):
    """Past ``reach`` years each path keeps the extra distance it had in the last year the
    record covers: the widened paths' changes from that year on are the model's own, up to
    the recentring on each year's median."""
    rng = np.random.default_rng(seed)
    paths = np.exp(rng.normal(-0.01, 0.05, (12, 301)).cumsum(axis=0))
    wide = widened(paths, 1.8, reach=5)
    np.testing.assert_allclose(wide[:5], widened(paths[:5], 1.8, reach=5), rtol=1e-12)
    changes = np.diff(np.log(wide[4:]), axis=0) - np.diff(np.log(paths[4:]), axis=0)
    assert np.ptp(changes, axis=1).max() < 1e-12  # one shift per year, the same in every path
    np.testing.assert_allclose(np.median(wide, axis=1), np.median(paths, axis=1), rtol=1e-12)
    spread = np.log(np.quantile(wide, 0.9, axis=1) / np.quantile(wide, 0.1, axis=1))
    own = np.log(np.quantile(paths, 0.9, axis=1) / np.quantile(paths, 0.1, axis=1))
    # wider than the model's own, but by less than the scale once the model's spread has
    # grown well past the record's (a random walk: sd at 12 years sqrt(3.24 * 5 + 7) / 1.8
    # sqrt(12) = 0.77 of the scaled one; 301 draws move a quantile by a few per cent)
    assert (spread[5:] > own[5:]).all() and spread[-1] < 0.95 * 1.8 * own[-1]
