"""Rates made a year at a time: lazy only where large, and the same numbers as made whole."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import forecast
from forecast.core import by_year
from forecast.core.by_year import LAZY_BYTES, computed, lazily, year_of
from forecast.demography.ccmpp import project
from forecast.demography.graduation import AGES
from tests.conftest import make_population, make_rates


def _levels(regions: int, years: int, draws: int, seed: int) -> xr.DataArray:
    values = np.random.default_rng(seed).uniform(0.5, 1.5, (regions, years, draws))
    return xr.DataArray(values, dims=("region", "year", "draw"),
                        coords={"region": [f"r{k}" for k in range(regions)],
                                "year": 2020 + np.arange(years), "draw": np.arange(draws)})


def test_small_products_are_made_at_once_large_ones_a_year_at_a_time():
    level = _levels(3, 4, 5, 0)
    assert lazily(level, LAZY_BYTES - 1) is level
    lazy = lazily(level, LAZY_BYTES)
    assert lazy.chunks == ((3,), (1, 1, 1, 1), (5,))
    np.testing.assert_array_equal(computed(lazy), level)
    np.testing.assert_array_equal(year_of(lazy.data, 2), level.values[2])
    assert year_of(level.values, 2) is not None and isinstance(year_of(lazy.data, 0), np.ndarray)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_projection_of_lazy_rates_equals_the_one_of_the_same_rates_made_whole(seed):
    """Fertility and migration rates given as Dask arrays (one chunk per year)
    are read a year at a time: every output is the same, bit for bit."""
    regions, draws = ("a", "b", "c"), 20
    years = np.arange(2020, 2027)
    rates = make_rates(years, regions=regions, mx_level=0.01, migration=20.0)
    level = _levels(len(regions), len(years) + 1, draws, seed).assign_coords(
        region=list(regions), year=np.append(years, years[-1] + 1))
    rng = np.random.default_rng(seed)
    rates["asfr"] = rates["asfr"] * level * 0.05
    pattern = xr.DataArray(rng.uniform(-1e-3, 1e-3, len(AGES)), dims="age",
                           coords={"age": AGES})
    rates["net_migration_rate"] = (xr.zeros_like(rates["net_migration"])
                                   + level.sel(year=years) * pattern)
    population = make_population(rng.uniform(0, 5e4, (3, 2, len(AGES))), regions=regions)
    whole = project(population, **rates)
    made = {**rates, "asfr": rates["asfr"].chunk({"year": 1}),
            "net_migration_rate": rates["net_migration_rate"].chunk({"year": 1})}
    lazy = project(population, **made)
    xr.testing.assert_identical(lazy, whole)


def test_a_run_of_rates_made_a_year_at_a_time_equals_one_of_rates_made_whole(monkeypatch):
    """The provinces' fertility and migration rates made lazily (every product, however
    small) give the forecast.csv and demand.csv of the rates made whole."""
    overrides = ["fertility=rw_drift", "fertility.draws=8", "horizon=2023", "plots=false"]
    monkeypatch.setattr(by_year, "LAZY_BYTES", 2**62)
    whole = forecast.project(overrides)
    monkeypatch.setattr(by_year, "LAZY_BYTES", 0)
    lazy = forecast.project(overrides)
    pd.testing.assert_frame_equal(lazy.forecast, whole.forecast)
    pd.testing.assert_frame_equal(lazy.demand, whole.demand)
    np.testing.assert_allclose(lazy.projection["tfr"], whole.projection["tfr"], rtol=1e-14)
