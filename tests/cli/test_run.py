"""The default job end to end: `forecast` writes the three files, as documented."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.planning.indicators import COLUMNS, INDICATORS, check_quantile_order
from tests.cli.shared_runs import ENVIRONMENT, shared_run

pytestmark = pytest.mark.cli  # starts the command line in a subprocess


PROVINCES = 31
DEMAND_INDICATORS = [
    "childcare_places_standard", "childcare_places_standard_affordable",
    "childcare_places_need_realised", "childcare_places_need_willingness",
    "childcare_places_new_residential", "childcare_floor_area_new_residential",
    "childcare_supply", "childcare_gap", "childcare_places_per_1000", "kindergarten_seats_need",
    "kindergarten_supply", "kindergarten_gap", "kindergarten_classes", "kindergarten_teachers",
    "toddler_places_from_idle_seats", "subsidy_budget", "prob_childcare_shortage",
    "prob_kindergarten_surplus", "childcare_caregivers_need", "childcare_caregivers_standard",
    "childcare_gap_standard", "childcare_places_per_1000_meets_standard"]


def _forecast(out, *overrides, cwd):
    cmd = [sys.executable, "-m", "forecast", f"hydra.run.dir={out}", *overrides]
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=ENVIRONMENT)
    assert done.returncode == 0, done.stderr
    return done


@shared_run
def default_run(folder):
    """The default configuration as a user runs it (the MCMC with its default settings);
    only the draws handed to the projection are fewer, and projection.nc keeps every draw.
    Returns the run folder; the run's log is kept beside it (``stderr.log``)."""
    out = folder / "run"
    done = _forecast(out, "fertility.draws=100", "fertility.progressbar=false",
                     "output.projection=draws", cwd=folder)
    (folder / "stderr.log").write_text(done.stderr, encoding="utf-8")
    return out


@shared_run
def deterministic_run(out):
    _forecast(out, "fertility=constant", cwd=out)
    return out


@shared_run
def wpp_japan_backtest_runs(folder):
    """Japan from 2015 with the data after 2015 ignored (in ``folder``), and with all data
    (in ``folder / "full"``)."""
    _forecast(folder, "data=wpp", "data.region=JPN", "data.base_year=2015", "data.until=2015",
              "horizon=2020", "fertility=constant", cwd=folder)
    _forecast(folder / "full", "data=wpp", "data.region=JPN", "data.base_year=2015",
              "horizon=2020", "fertility=constant", cwd=folder)
    return folder


#: A fast stochastic model for runs compared with each other.
RW_DRIFT = ["fertility=rw_drift", "fertility.draws=30", "plots=false"]


@shared_run
def provinces_subset_runs(folder):
    """Two independent runs with the same seed and model: every province (``full``), and
    two of them (``subset``)."""
    _forecast(folder / "full", *RW_DRIFT, cwd=folder)
    _forecast(folder / "subset", *RW_DRIFT, "data.regions=[440000,500000]", cwd=folder)
    return folder


@shared_run
def guangdong_constant_run(folder):
    out = folder / "run"
    _forecast(out, "fertility=constant", "data.regions=[440000]", cwd=folder)
    return out


def test_writes_the_output_files_and_nothing_else(default_run):
    names = sorted(p.name for p in default_run.iterdir())
    assert names == ["demand.csv", "figures", "forecast.csv", "posterior.nc", "projection.nc",
                     "run.json"]


def test_planner_table_columns_regions_and_indicators(default_run):
    table = pd.read_csv(default_run / "forecast.csv", dtype={"region_code": str},
                        encoding="utf-8-sig")
    assert list(table.columns) == COLUMNS
    assert table["region_code"].nunique() == PROVINCES + 1
    assert set(INDICATORS) | set(DEMAND_INDICATORS) <= set(table["indicator"])
    demand = table[table["indicator"].isin(DEMAND_INDICATORS)]
    assert demand["region_code"].nunique() == PROVINCES + 1
    units = demand.drop_duplicates("indicator").set_index("indicator")["unit"]
    assert units["subsidy_budget"] == "CNY per year"
    assert units["childcare_floor_area_new_residential"] == "m2 usable floor area (使用面积)"
    assert units["childcare_caregivers_need"] == "persons"
    assert units["prob_childcare_shortage"] == "probability"
    assert set(table["scenario"]) == {"medium"}
    names = table.drop_duplicates("region_code").set_index("region_code")["region_name"]
    assert names["000000"] == "全国" and names["440000"] == "广东省" and names["500000"] == "重庆市"
    pop = table[table["indicator"] == "population"]
    assert sorted(pop["year"].unique()) == list(range(2020, 2036))
    births = table[table["indicator"] == "births"]
    assert sorted(births["year"].unique()) == list(range(2020, 2036))
    assert set(table.loc[table["indicator"] == "births", "unit"]) == {"persons per year"}
    check_quantile_order(table)
    assert table[["median", "lower_95"]].notna().all().all()
    # probabilistic fertility: births after the last observed year have real intervals
    late = table[(table["indicator"] == "births") & (table["year"] == 2030)]
    assert (late["upper_95"] > late["lower_95"] * 1.05).all()


def test_provinces_sum_to_the_nation_in_every_draw(default_run):
    """Births and population of the 31 provinces within 0.5 % of the nation, every year and
    draw (medians of sums are not sums of medians, so the check is on the draws)."""
    ds = xr.open_dataset(default_run / "projection.nc")
    assert ds.sizes["draw"] == 100
    nation = ds.sel(region="000000")
    provinces = ds.drop_sel(region="000000").sum("region")
    for name in ("births_calendar", "population"):
        total, parts = nation[name].sum("sex"), provinces[name].sum("sex")
        rel = abs(parts / total - 1).max()
        assert float(rel) < 0.005, f"{name}: provinces differ from the nation by {float(rel):.3%}"
    young = ds["population"].sel(age=[0, 1, 2]).sum(("sex", "age"))
    rel = abs(young.drop_sel(region="000000").sum("region") / young.sel(region="000000") - 1)
    assert float(rel.max()) < 0.005


def test_projection_dataset_has_units(default_run):
    ds = xr.open_dataset(default_run / "projection.nc")
    for name in ("population", "births", "deaths", "net_migration", "births_calendar"):
        assert ds[name].attrs["units"].startswith("persons")


def test_deterministic_run_keeps_the_accounting_identity(deterministic_run):
    """fertility=constant is the one-draw case of the same pipeline; its projection.nc holds
    the draw itself, on which P(t+1) - P(t) = B - D + M."""
    assert not (deterministic_run / "posterior.nc").exists()
    ds = xr.open_dataset(deterministic_run / "projection.nc")
    assert ds.sizes["draw"] == 1
    pop = ds["population"].sum("age")
    years = ds["year"].values[:-1]
    change = pop.shift(year=-1).sel(year=years) - pop.sel(year=years)
    flows = (ds["births"] - ds["deaths"] + ds["net_migration"]).sel(year=years)
    np.testing.assert_allclose(change, flows, rtol=1e-9, atol=1e-3)


def test_figures_of_the_nation_and_the_provinces_gaps(default_run):
    figures = sorted(p.name for p in (default_run / "figures").iterdir())
    assert figures == ["births_tfr_000000.png", "childcare_gap_2030.png",
                       "kindergarten_gap_2030.png", "map_childcare_gap_per_1000_children_2030.png",
                       "map_childcare_places_per_1000_2030.png",
                       "map_population_0_2_change_2030.png",
                       "map_prob_childcare_shortage_2030.png", "pyramid_000000.png"]
    for name in figures:
        assert (default_run / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_metadata(default_run):
    meta = json.loads((default_run / "run.json").read_text(encoding="utf-8"))
    assert meta["version"] and meta["seed"] == 20240601
    diag = meta["fertility_diagnostics"]
    assert {"rhat_max", "ess_bulk_min", "ess_tail_min", "divergences"} <= set(diag)
    assert meta["outputs"] == ["forecast.csv", "demand.csv", "projection.nc", "posterior.nc",
                               "figures", "run.json"]
    assert len(meta["data"]["sha256"]) == 64
    assert meta["config"]["horizon"] == 2035
    assert meta["wall_time_seconds"] > 0


def test_wpp_region_backtest_from_any_origin(wpp_japan_backtest_runs):
    """`forecast data=wpp data.region=JPN data.base_year=2015 data.until=2015` ignores later data."""
    folder = wpp_japan_backtest_runs
    table = pd.read_csv(folder / "forecast.csv", encoding="utf-8-sig")
    assert set(table["region_code"]) == {"JPN"} and set(table["region_name"]) == {"Japan"}
    meta = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert meta["data"]["last_observed_year"] == 2015
    births = table[table["indicator"] == "births"].set_index("year")["median"]
    # Japan's TFR fell from 1.43 (2015) to 1.26 (2020); with rates frozen at 2015 the
    # projected 2020 births must exceed WPP's estimate (about 0.83 million), while the
    # full-data run follows it.
    full = pd.read_csv(folder / "full" / "forecast.csv", encoding="utf-8-sig")
    full_births = full[full["indicator"] == "births"].set_index("year")["median"]
    assert births.loc[2020] > 1.05 * full_births.loc[2020]


def test_a_subset_of_provinces_gets_the_same_numbers_as_the_full_run(provinces_subset_runs):
    """Provinces are always projected together (births raked to the nation); asking for two
    of them only filters the table. The two runs are independent processes with the same
    seed and model settings: every number they share is identical, to the last digit
    written (same config and seed, same numbers)."""
    subset = pd.read_csv(provinces_subset_runs / "subset" / "forecast.csv",
                         dtype={"region_code": str}, encoding="utf-8-sig")
    full = pd.read_csv(provinces_subset_runs / "full" / "forecast.csv",
                       dtype={"region_code": str}, encoding="utf-8-sig")
    assert set(subset["region_code"]) == {"000000", "440000", "500000"}
    stored = xr.open_dataset(provinces_subset_runs / "subset" / "projection.nc")
    assert list(stored["quantile_name"].values) == ["median", "lower_80", "upper_80",
                                                    "lower_95", "upper_95"]
    expected = full[full["region_code"].isin(["000000", "440000", "500000"])]
    pd.testing.assert_frame_equal(subset.reset_index(drop=True), expected.reset_index(drop=True),
                                  check_exact=True)


def test_demand_table_is_wide_with_chinese_names(default_run):
    wide = pd.read_csv(default_run / "demand.csv", dtype={"region_code": str},
                       encoding="utf-8-sig")
    assert list(wide.columns[:3]) == ["region_code", "region_name", "year"]
    assert {"childcare_gap", "childcare_gap_lower_80", "kindergarten_gap_upper_80",
            "subsidy_budget"} <= set(wide.columns)
    assert wide["region_code"].nunique() == PROVINCES + 1
    assert wide.loc[wide["region_code"] == "440000", "region_name"].iloc[0] == "广东省"
    assert not wide.duplicated(["region_code", "year"]).any()


def test_default_run_reports_the_observed_years_within_tolerance(guangdong_constant_run):
    meta = json.loads((guangdong_constant_run / "run.json").read_text())
    years = meta["observed_years"]["years"]
    assert sorted(years) == ["2020", "2021", "2022", "2023"]
    for year, row in years.items():
        for name in ("births", "deaths", "population_yearend"):
            assert row[name]["within_tolerance"], (year, name, row[name])
    assert meta["data"]["jump_off_year"] == 2023
    assert {r["age_group"] for r in meta["young_ages"]} == {"0", "1-4", "5-9"}
    assert set(meta["life_expectancy_at_birth"]["2035"]) == {"female", "male"}
