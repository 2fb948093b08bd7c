"""Graduation to single ages keeps every group total and stays non-negative."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from forecast.demography.graduation import graduate_counts, graduate_mx, graduate_rates

FIVE_YEAR = np.arange(0, 101, 5)                       # 0-4, ..., 95-99, 100+
CENSUS_LIKE = np.r_[0, 1, np.arange(5, 101, 5)]         # 0, 1-4, 5-9, ..., 100+
ABRIDGED = np.r_[0, 1, np.arange(5, 101, 5)]


@settings(max_examples=60, deadline=None)
@given(arrays(float, (3, len(FIVE_YEAR)), elements=st.floats(0, 1e7)))
def test_counts_keep_every_group_total(counts):
    single = graduate_counts(counts, FIVE_YEAR)
    assert single.shape == (3, 101)
    assert single.min() >= 0
    grouped = np.add.reduceat(single, FIVE_YEAR, axis=-1)
    np.testing.assert_allclose(grouped, counts, rtol=1e-9, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(arrays(float, (2, len(CENSUS_LIKE)), elements=st.floats(1, 1e6)))
def test_unequal_groups_keep_totals(counts):
    single = graduate_counts(counts, CENSUS_LIKE)
    np.testing.assert_allclose(np.add.reduceat(single, CENSUS_LIKE, axis=-1), counts, rtol=1e-9,
                               atol=1e-6)


def test_shifting_the_reference_date_removes_only_the_newborn():
    """Moving a flat population back a third of a year drops a third of age 0, keeps the rest."""
    counts = np.full(len(FIVE_YEAR), 500.0)            # 100 per single year of age
    shifted = graduate_counts(counts, FIVE_YEAR, shift=1 / 3)
    np.testing.assert_allclose(shifted[:90], 100.0, rtol=1e-9)
    np.testing.assert_allclose(shifted.sum(), counts.sum() - 100.0 / 3, rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(arrays(float, (4, 9), elements=st.floats(0, 0.3)))
def test_asfr_keeps_tfr(asfr):
    single = graduate_rates(asfr, np.arange(10, 55, 5))
    np.testing.assert_allclose(single.sum(-1), 5 * asfr.sum(-1), rtol=1e-9, atol=1e-12)
    assert single[..., :10].sum() == 0 and single[..., 55:].sum() == 0
    assert single.min() >= 0


@settings(max_examples=40, deadline=None)
@given(arrays(float, (2, len(ABRIDGED)), elements=st.floats(1e-5, 0.8)))
def test_mx_keeps_each_interval_survival(mx):
    """exp(-sum of single-year mx over an interval) = exp(-n * nmx): same probability of surviving."""
    single = graduate_mx(mx, ABRIDGED)
    widths = np.diff(np.append(ABRIDGED, 101))
    sums = np.add.reduceat(single, ABRIDGED, axis=-1)
    np.testing.assert_allclose(sums[..., :-1], (mx * widths)[..., :-1], rtol=1e-9)
    np.testing.assert_allclose(single[..., 100], mx[..., -1])
    assert single.min() > 0
