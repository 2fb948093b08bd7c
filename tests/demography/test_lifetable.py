"""Life tables: internal consistency and agreement with WPP's published life expectancy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.data import DATA_DIR, load_wpp
from forecast.demography import lifetable
from forecast.demography.lifetable import (andreev_kingkade_a0, life_expectancy_at_birth,
                                          life_table, survivorship)
from forecast.demography.graduation import AGES


def _flat_mx(level):
    return xr.DataArray(np.full((2, len(AGES)), level), dims=("sex", "age"),
                        coords={"sex": ["female", "male"], "age": AGES})


def test_constant_hazard_table_is_consistent():
    lt = life_table(_flat_mx(0.02))
    for s in ("female", "male"):
        t = lt.sel(sex=s)
        np.testing.assert_allclose(t["lx"].values[1:], (t["lx"] - t["dx"]).values[:-1])
        np.testing.assert_allclose(t["Tx"].values, t["Lx"].values[::-1].cumsum()[::-1])
        # above infancy a constant hazard m gives ex = 1/m exactly (open group L = l/m)
        np.testing.assert_allclose(t["ex"].sel(age=slice(1, 100)).values, 1 / 0.02, rtol=1e-9)
        assert np.all(np.diff(t["lx"].values) <= 0)


def test_andreev_kingkade_a0_pieces():
    # HMD protocol table: male low-mortality piece and female plateau
    np.testing.assert_allclose(andreev_kingkade_a0(0.005, "male"), 0.14929 - 1.99545 * 0.005)
    np.testing.assert_allclose(andreev_kingkade_a0(0.1, "female"), 0.31411)


def test_zero_mortality_survives_everyone():
    sx, sb = survivorship(_flat_mx(0.0))
    np.testing.assert_allclose(sx.values, 1.0)
    np.testing.assert_allclose(sb.values, 1.0)


WPP_REGIONS = ["CHN", "HKG", "MAC", "TWN", "JPN", "KOR", "DEU", "ITA", "FRA", "USA", "IND",
               "THA", "GBR"]


@pytest.mark.parametrize("region", WPP_REGIONS)
def test_life_expectancy_matches_wpp(region):
    """e0 of each 5-year period vs the period mean of WPP 2024's annual e0, both sexes apart.

    UN WPP 2024 life expectancy at birth (calendar years; the period 1 July t to 1 July t+5
    weighs t and t+5 by one half); tolerance 0.25 years.
    """
    vital = pd.read_csv(DATA_DIR / "wpp2024_vital_annual.csv")
    e0 = vital[(vital["region"] == region) & (vital["indicator"] == "life_expectancy_at_birth")]
    mx = load_wpp(region, 2015)["mx"].sel(region=region)
    ours = life_table(mx)["ex"].sel(age=0)
    for start in (2005, 2010, 2015):
        for sex in ("female", "male"):
            annual = e0[e0["sex"] == sex].set_index("year")["value"]
            ref = (annual.loc[start + 1:start + 4].sum() + 0.5 * (annual[start] + annual[start + 5])) / 5
            got = float(ours.sel(period=start, sex=sex))
            assert abs(got - ref) < 0.25, f"{region} {sex} {start}: e0 {got:.2f} vs WPP {ref:.2f}"


@pytest.mark.parametrize("rows_at_once", [1, 7, 4096])
def test_e0_in_pieces_equals_the_life_tables_e0(monkeypatch, rows_at_once):
    """e0 made a few schedules at a time is the life table's ex at age 0, bit for bit, for
    any piece size (schedules of both sexes, draws and years, one with m100 = 0)."""
    rng = np.random.default_rng(rows_at_once)
    base = 1e-4 * np.exp(0.09 * np.arange(len(AGES)))
    values = np.minimum(base, 0.7) * rng.uniform(0.5, 1.5, (3, 5, 2, 1))  # draw, year, sex
    values[0, 0, 0, -1] = 0.0
    mx = xr.DataArray(values, dims=("draw", "year", "sex", "age"),
                      coords={"draw": np.arange(3), "year": 2020 + np.arange(5),
                              "sex": ["female", "male"], "age": AGES})
    monkeypatch.setattr(lifetable, "ROWS_AT_ONCE", rows_at_once)
    e0 = life_expectancy_at_birth(mx)
    xr.testing.assert_identical(e0, life_table(mx)["ex"].sel(age=0, drop=True).rename(None))
