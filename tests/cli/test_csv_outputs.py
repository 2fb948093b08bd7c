"""What a planner opens: every CSV row names its region, text from inputs or config cannot
become a spreadsheet formula, and the default run logs no warnings of its own."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from forecast.data import CENSUS_POPULATION, DATA_DIR
from forecast.core.writers import FORMULA_STARTS
from tests.cli.shared_runs import ENVIRONMENT, shared_run
from tests.cli.test_run import default_run  # noqa: F401 (the shared run of the default job)
from tests.core.test_writers import INJECTIONS

pytestmark = pytest.mark.cli  # starts the command line in a subprocess


#: Province code -> injected name in the census table.
INJECTED = dict(zip(["110000", "440000", "500000", "650000"], INJECTIONS))


def _forecast(out: Path, *overrides: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "forecast", f"hydra.run.dir={out}", *overrides],
                          cwd=out.parent, capture_output=True, text=True, timeout=600,
                          env=ENVIRONMENT)
    assert done.returncode == 0, done.stderr
    return done


def _csv_cells(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@shared_run
def injected_run(root):
    """A deterministic run on a census table whose province names are formulas, with a
    formula as the scenario name."""
    data = root / "data"
    shutil.copytree(DATA_DIR, data)
    census = pd.read_csv(data / CENSUS_POPULATION, dtype=str, keep_default_na=False)
    for code, name in INJECTED.items():
        census.loc[census["region_code"] == code, "province"] = name
    census.to_csv(data / CENSUS_POPULATION, index=False)
    out = root / "run"
    _forecast(out, "fertility=constant", f"data.data_dir={data}", "scenario.name='=1+1'")
    return out


@pytest.mark.parametrize("name", ["forecast.csv", "demand.csv"])
def test_no_csv_cell_starts_a_formula(injected_run, name):
    cells = _csv_cells(injected_run / name)
    header, rows = cells[0], cells[1:]
    risky = [(i + 2, header[j], cell) for i, row in enumerate(rows) for j, cell in enumerate(row)
             if cell.startswith(FORMULA_STARTS) and not _is_number(cell)]
    assert not risky, f"{name}: cells that start a formula, e.g. {risky[:3]}"
    table = pd.read_csv(injected_run / name, dtype={"region_code": str}, encoding="utf-8-sig")
    names = table.drop_duplicates("region_code").set_index("region_code")["region_name"]
    for code, text in INJECTED.items():
        assert names[code] == "'" + text
    if "scenario" in table:
        assert set(table["scenario"]) == {"'=1+1"}
    numeric = table.columns[table.columns.get_loc("year"):]
    assert all(pd.api.types.is_numeric_dtype(table[c]) for c in numeric if c not in
               ("indicator", "unit") and not c.endswith("_basis")), "numbers must stay numbers"


def _is_number(cell: str) -> bool:
    return re.fullmatch(r"[-+]?\d+(\.\d*)?([eE][-+]?\d+)?", cell) is not None


def test_the_default_run_logs_no_warnings(default_run):
    log = (default_run.parent / "stderr.log").read_text(encoding="utf-8")
    flagged = [line for line in log.splitlines()
               if re.search(r"\b(WARNING|ERROR|CRITICAL)\b|Warning:", line)]
    assert not flagged, "the default run logged:\n" + "\n".join(flagged)
    assert "TFR model: R-hat max" in log  # the diagnostics were computed and logged


@pytest.mark.parametrize("name", ["forecast.csv", "demand.csv"])
def test_every_csv_row_names_its_region(default_run, name):
    table = pd.read_csv(default_run / name, dtype={"region_code": str, "region_name": str},
                        keep_default_na=False, encoding="utf-8-sig")
    assert len(table) > 0
    blank = table[table["region_name"].str.strip() == ""]
    assert blank.empty, f"{name}: {len(blank)} rows without a region name, e.g. " \
                        f"{blank[['region_code', 'indicator' if 'indicator' in blank else 'year']].head(3).to_dict('records')}"
    assert table.groupby("region_code")["region_name"].nunique().max() == 1
