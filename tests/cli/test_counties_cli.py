"""County runs through the command line: the planner table of the county-level units."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from forecast.core.paths import DATA_DIR
from forecast.data.county_census import county_units, read_regions
from tests.cli.shared_runs import ENVIRONMENT, shared_run
from tests.regions.test_counties import CHONGQING, SMOKE

pytestmark = pytest.mark.cli  # starts the command line in a subprocess


@shared_run
def chongqing_counties_run(folder):
    """Chongqing's counties in ``folder / "out"``; (folder, the finished command)."""
    return folder, subprocess.run([sys.executable, "-m", "forecast", "data=china_counties",
                                   f"data.province={CHONGQING}", *SMOKE, "plots=false",
                                   f"hydra.run.dir={folder / 'out'}"], cwd=folder,
                                  capture_output=True, text=True, timeout=300, env=ENVIRONMENT)


@shared_run
def all_counties_run(folder):
    """Every county-level unit of China in ``folder / "out"``; (folder, the finished command).
    Without the demand stage (its county path is the blocks' per province, tested on
    Chongqing in tests/runs/test_supply_template.py), which would add about 8 s."""
    return folder, subprocess.run([sys.executable, "-m", "forecast", "data=china_counties",
                                   "fertility=rw_drift", "fertility.draws=8", "horizon=2022",
                                   "plots=false", "demand.enabled=false",
                                   f"hydra.run.dir={folder / 'out'}"], cwd=folder,
                                  capture_output=True, text=True, timeout=300, env=ENVIRONMENT)


def test_cli_writes_the_planner_table_of_chongqings_counties(chongqing_counties_run):
    folder, done = chongqing_counties_run
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(folder / "out" / "forecast.csv", dtype={"region_code": str},
                        encoding="utf-8-sig")
    counties = table[~table["region_code"].isin(["000000", CHONGQING, "500100", "500200"])]
    assert counties["region_code"].nunique() == 38
    assert counties["region_name"].str.match(r"^[\u4e00-\u9fff]+$").all()
    assert {"births", "population_0_2", "population_3_5"} <= set(counties["indicator"])


def test_cli_projects_every_county_of_china_in_blocks(all_counties_run):
    """data=china_counties without a province: all 2,989 units with their names, 334
    prefectures; the base year's county births add up to their province's in the CSV
    (their medians, within the difference of a median of a sum and a sum of medians)."""
    folder, done = all_counties_run
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(folder / "out" / "forecast.csv", dtype={"region_code": str},
                        encoding="utf-8-sig")
    codes = set(table["region_code"])
    units = county_units(read_regions(DATA_DIR / "china_census2020_regions.csv"))
    assert set(units["region_code"]) <= codes and len(codes) == 1 + 31 + 334 + 2989
    assert table["region_name"].str.match(r"^[\u4e00-\u9fff]+$").all()
    births = table[(table["indicator"] == "births") & (table["year"] == 2020)]
    births = births.set_index("region_code")["median"]
    summed = births[units["region_code"]].groupby(units["province_code"].to_numpy()).sum()
    # each county's level varies by draw, so the medians add up only nearly: of 8 draws a
    # median misses by about 1.25 sd / sqrt(8), and a province's 2020 births have a relative
    # sd near 0.025 (its level's): 4 such errors are 4.4 % (every draw adds up exactly:
    # tests/regions/test_county_blocks.py)
    np.testing.assert_allclose(summed, births[summed.index], rtol=0.044)
