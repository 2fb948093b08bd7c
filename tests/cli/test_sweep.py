"""Sweeps: `forecast -m ...` runs the members and combines them in the sweep folder; the
comparison's differences are paired by draw; a failed member fails the sweep and leaves the
others' outputs; the experiments' summaries come out of the members' draws."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
import xarray as xr

from forecast.planning.comparison import COLUMNS, comparison_table
from forecast.planning.indicators import QUANTILES
from forecast.core.run_files import INDICATOR_DRAWS_NC
from forecast.runs.sweep import sweep_members
from forecast.report.sweep_summaries import REPORTS
from tests.cli.shared_runs import ENVIRONMENT, shared_run

pytestmark = pytest.mark.cli  # starts the command line in a subprocess


SMOKE = ["fertility=rw_drift", "fertility.draws=20", "horizon=2026"]
REGIONS = 32


def _forecast(*args, cwd):
    cmd = [sys.executable, "-m", "forecast", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=400,
                          env=ENVIRONMENT)


@shared_run
def sweep(folder):
    done = _forecast("-m", "scenario=low,medium", *SMOKE, f"hydra.sweep.dir={folder / 'out'}",
                     cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / "out"


@shared_run
def number_sweep(folder):
    """A sweep over scenario.shift, without figures; (folder, the finished command)."""
    done = _forecast("-m", "scenario=policy_effect", "scenario.shift=0,0.1", "plots=false",
                     "sweep.reference=policy_effect_0", *SMOKE,
                     f"hydra.sweep.dir={folder / 'out'}", cwd=folder)
    return folder, done


@shared_run
def sweep_with_a_failing_member(folder):
    """A sweep whose second member (horizon=2019) fails; (folder, the finished command)."""
    done = _forecast("-m", "horizon=2026,2019", "fertility=constant", "plots=false",
                     f"hydra.sweep.dir={folder / 'out'}", cwd=folder)
    return folder, done


def _csv(path):
    return pd.read_csv(path, dtype={"region_code": str}, encoding="utf-8-sig")


def test_sweep_folder_holds_members_and_combined_files(sweep):
    names = {p.name for p in sweep.iterdir()}
    assert {"0", "1", "comparison.csv", "forecast.csv", "figures", "run.json"} <= names
    meta = json.loads((sweep / "run.json").read_text(encoding="utf-8"))
    assert [m["label"] for m in meta["members"]] == ["low", "medium"]
    assert meta["reference"] == "medium" and meta["config"]["horizon"] == 2026
    for member in ("0", "1"):
        assert (sweep / member / INDICATOR_DRAWS_NC).is_file()
        assert json.loads((sweep / member / "run.json").read_text())["config"]["scenario"]
    assert sorted(p.name for p in (sweep / "figures").iterdir()) == [
        f"scenarios_{k}_000000.png" for k in ("births", "population_0_2", "population_3_5",
                                               "tfr")]


def test_comparison_has_a_row_per_scenario_region_year_indicator(sweep):
    table = _csv(sweep / "comparison.csv")
    assert list(table.columns) == COLUMNS
    assert set(table["scenario"]) == {"low", "medium"} and set(table["reference"]) == {"medium"}
    counts = table.groupby(["scenario", "indicator", "year"])["region_code"].nunique()
    assert set(counts) == {REGIONS}
    births = table[table["indicator"] == "births"]
    assert sorted(births["year"].unique()) == list(range(2020, 2027))
    assert {"births", "population_0_2", "population_3_5", "childcare_gap", "kindergarten_gap",
            "subsidy_budget"} <= set(table["indicator"])
    medium = table[table["scenario"] == "medium"]
    assert (medium[[c for c in COLUMNS if c.startswith("diff_")]] == 0).all().all()
    low = births[(births["scenario"] == "low") & (births["year"] >= 2024)]
    assert (low["diff_upper_95"] < 0).all()


def test_combined_forecast_is_the_members_tables(sweep):
    combined = _csv(sweep / "forecast.csv")
    for member, label in (("0", "low"), ("1", "medium")):
        own = _csv(sweep / member / "forecast.csv")
        rows = combined[combined["scenario"] == label].reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, own.assign(scenario=label))


def test_comparison_differences_are_paired_by_draw(sweep):
    """Recomputed from the members' draws: the difference's quantiles are those of the
    draw-by-draw differences, not differences of quantiles."""
    members = {m["label"]: xr.load_dataset(f"{m['path']}/{INDICATOR_DRAWS_NC}")
               for m in sweep_members(sweep)}
    table = comparison_table(members, "medium")
    row = table[(table["scenario"] == "low") & (table["indicator"] == "births")
                & (table["region_code"] == "440000") & (table["year"] == 2026)].iloc[0]
    diff = (members["low"]["births"] - members["medium"]["births"]).sel(region="440000",
                                                                       year=2026)
    for name, q in QUANTILES.items():
        assert row[f"diff_{name}"] == pytest.approx(float(diff.quantile(q)), rel=1e-12)


def test_experiment_reports_from_the_members(sweep):
    members = {m["label"]: xr.load_dataset(f"{m['path']}/{INDICATOR_DRAWS_NC}")
               for m in sweep_members(sweep)}
    subsidy = REPORTS["subsidy_effect"](members, "medium", first=2024, last=2026,
                                        shown_year=2026)
    table = subsidy["subsidy_effect.csv"]
    births = table[(table["measure"] == "extra_births_2024_2026")
                   & (table["region_code"] == "000000")]
    expected = (members["low"]["births"] - members["medium"]["births"]).sel(
        region="000000", year=slice(2024, 2026)).sum("year").median()
    assert float(births["median"].iloc[0]) == pytest.approx(float(expected), rel=1e-12)
    assert float(expected) < 0
    kindergarten = REPORTS["kindergarten_surplus"](members, "medium", year=2026)
    rows = kindergarten["kindergarten_surplus_2026.csv"]
    assert len(rows) == 2 * REGIONS and rows["probability_idle"].between(0, 1).all()
    wpp = REPORTS["wpp_variants"](members, "medium")["wpp_comparison.csv"]
    assert set(wpp["variant"]) == {"low", "medium"}
    assert set(wpp["year"]) == set(range(2024, 2027))
    tfr = wpp[(wpp["indicator"] == "tfr") & (wpp["variant"] == "medium")]
    assert (tfr["wpp"].between(0.8, 1.3)).all()  # WPP 2024's medium TFR of China 2024-26


def test_a_sweep_over_a_number_labels_members_by_it(number_sweep):
    folder, done = number_sweep
    assert done.returncode == 0, done.stderr
    table = _csv(folder / "out" / "comparison.csv")
    assert set(table["scenario"]) == {"policy_effect_0", "policy_effect_0.1"}
    extra = table[(table["scenario"] == "policy_effect_0.1") & (table["indicator"] == "tfr")
                  & (table["region_code"] == "000000") & (table["year"] == 2026)]
    # 2026 is the effect's first year, half-way up its two-year ramp
    assert float(extra["diff_median"].iloc[0]) == pytest.approx(0.1 / 2, abs=1e-3)
    assert not (folder / "out" / "figures").exists()
    assert not (folder / "out" / "0" / "figures").exists()


def test_a_failed_member_fails_the_sweep_and_keeps_the_others(sweep_with_a_failing_member):
    folder, done = sweep_with_a_failing_member
    assert done.returncode == 1
    assert "sweep member 1 (horizon=2019" in done.stderr and "config, horizon" in done.stderr
    assert (folder / "out" / "0" / "forecast.csv").is_file()
    assert not (folder / "out" / "1").exists()
    assert not (folder / "out" / "comparison.csv").exists()
