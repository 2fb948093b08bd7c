"""Quantiles over draws: numpy.quantile's numbers, bit for bit, at every shape the runs use."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.core import draw_quantiles
from forecast.core.draw_quantiles import quantiles
from forecast.core.registry import QUANTILES

PROBS = list(QUANTILES.values())


@pytest.mark.parametrize("draws", [1, 2, 3, 40, 1000])
def test_equals_numpy_quantile_bit_for_bit(draws):
    rng = np.random.default_rng(draws)
    values = rng.lognormal(10, 1, size=(7, 5, draws))
    values[0, :, :] = 3.0  # constant rows
    values[1, 0, 0] = np.nan  # a row with a NaN is NaN
    values[1, 1, :] = np.nan
    values[2] = np.round(values[2], -4)  # ties
    expected = np.moveaxis(np.quantile(values, PROBS, axis=-1), 0, -1)
    got = quantiles(values, PROBS)
    np.testing.assert_array_equal(got, expected)
    assert np.isnan(got[1, 0]).all() and not np.isnan(got[1, 2]).any()


def test_probabilities_outside_zero_one_are_refused():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        quantiles(np.ones((2, 3)), [0.5, 1.5])


@pytest.mark.parametrize("chunk", [1, 1000, draw_quantiles.CHUNK_VALUES])
def test_an_array_with_draws_not_last_in_memory_gives_the_same_numbers(chunk, monkeypatch):
    """A transposed view (draws not contiguous) is gathered chunk by chunk, not copied;
    chunks of one row, of a few rows, or all at once."""
    monkeypatch.setattr(draw_quantiles, "CHUNK_VALUES", chunk)
    values = np.random.default_rng(4).normal(size=(300, 3, 50, 4)).transpose(1, 3, 2, 0)
    expected = np.moveaxis(np.quantile(values, PROBS, axis=-1), 0, -1)
    np.testing.assert_array_equal(quantiles(values, PROBS), expected)


#: Functions applied draw by draw, NaN to NaN, with whether they never increase: scaling,
#: rounding up, a threshold met or not, a difference from a constant, a ratio to the value.
MONOTONE = {"scaled": (lambda x: x * 4.5 / 1000, False),
            "ceiled": (lambda x: np.ceil(x / 30), False),
            "met": (lambda x: np.where(np.isnan(x), np.nan, x >= 1e4), False),
            "gap": (lambda x: np.clip(x - 2e4, 0.0, None), False),
            "ratio": (lambda x: 3e3 / x * 1000, True),
            "ratio_met": (lambda x: np.where(np.isnan(x), np.nan, 3e3 / x * 1000 >= 150), True)}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("draws", [1, 2, 5, 1000])
@pytest.mark.parametrize("name", MONOTONE)
def test_order_statistics_give_the_quantiles_of_a_monotone_function(name, draws, seed):
    """Quantiles of f(x) from f of x's order statistics equal quantiles of f(x) computed
    from every draw, bit for bit, for f that never decreases or never increases, with
    ties and NaN rows."""
    f, decreasing = MONOTONE[name]
    rng = np.random.default_rng(seed)
    x = rng.lognormal(9.5, 0.6, size=(4, 6, draws))
    x[0] = np.round(x[0], -3)  # ties
    x[1, 2, -1] = np.nan  # a row with a NaN is NaN
    order = draw_quantiles.OrderStatistics(PROBS, draws)
    at = order.of(x)
    assert at.shape == (4, 6, len(order.positions)) and len(order.positions) <= 4 * len(PROBS)
    with np.errstate(invalid="ignore"):
        got = order.quantiles(f(at), decreasing)
        expected = quantiles(f(x), PROBS)
    np.testing.assert_array_equal(got, expected)
    assert np.isnan(got[1, 2]).all()
