"""Bad input through the command line: exit status 2, the problem named, nothing written."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from forecast.core.paths import DATA_DIR
from tests.cli.shared_runs import ENVIRONMENT, shared_run
from tests.data.test_bad_inputs import CENSUS, CENSUS_ROW, OUTPUTS, problem_line, set_cell

pytestmark = pytest.mark.cli  # starts the command line in a subprocess

#: Census cells that stop the run: text, and a value outside the plausible range.
BAD_CELLS = {"text": "abc", "implausible": "1e308"}
#: Options that must be whole numbers.
NON_INTEGER = [("horizon", "abc"), ("data.until", "abc"), ("data.base_year", "2020.5")]


def _forecast(out, *overrides, cwd):
    return subprocess.run([sys.executable, "-m", "forecast", f"hydra.run.dir={out}",
                           *overrides], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=ENVIRONMENT)


@shared_run
def bad_input_runs(folder):
    """Each bad census cell on a copy of the data (name -> the edited row, the run folder,
    the finished command), and each non-integer option (option -> run folder, command)."""
    cells = {}
    for name, bad in BAD_CELLS.items():
        data = folder / name / "data"
        data.mkdir(parents=True)
        for src in sorted(DATA_DIR.glob("*.csv")):
            shutil.copy(src, data / src.name)
        row = set_cell(data / CENSUS, CENSUS_ROW, "value", bad)
        out = folder / name / "out"
        cells[name] = (row, out, _forecast(out, f"data.data_dir={data}", cwd=folder / name))
    options = {}
    for option, value in NON_INTEGER:
        out = folder / option / "out"
        out.parent.mkdir()
        options[option] = (out, _forecast(out, f"{option}={value}", cwd=out.parent))
    return cells, options


@pytest.mark.parametrize("name", list(BAD_CELLS))
def test_cli_bad_input_exits_2_and_writes_nothing(bad_input_runs, name):
    row, out, proc = bad_input_runs[0][name]
    left = [p.name for p in out.rglob("*")] if out.exists() else []
    assert not [n for n in left if n in OUTPUTS or n.endswith(".tmp")], left
    problem_line(proc.stderr, CENSUS, column="value", row=row, got=BAD_CELLS[name])
    assert "InputError: " in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, proc.stderr


@pytest.mark.parametrize("option,value", NON_INTEGER)
def test_non_integer_config_values_exit_2(bad_input_runs, option, value):
    out, done = bad_input_runs[1][option]
    assert done.returncode == 2, done.stderr
    assert option in done.stderr and value in done.stderr
    assert not out.exists()
