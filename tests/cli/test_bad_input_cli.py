"""Bad input through the command line: exit status 2, the problem named, nothing written."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.data.test_bad_inputs import CENSUS, CENSUS_ROW, OUTPUTS, problem_line, set_cell

pytestmark = pytest.mark.cli  # starts the command line in a subprocess


@pytest.mark.parametrize("bad", ["abc", "1e308"], ids=["text", "implausible"])
def test_cli_bad_input_exits_2_and_writes_nothing(data_dir, tmp_path, bad):
    row = set_cell(data_dir / CENSUS, CENSUS_ROW, "value", bad)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "forecast", f"data.data_dir={data_dir}", f"hydra.run.dir={out}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    left = [p.name for p in out.rglob("*")] if out.exists() else []
    assert not [name for name in left if name in OUTPUTS or name.endswith(".tmp")], left
    problem_line(proc.stderr, CENSUS, column="value", row=row, got=bad)
    assert "InputError: " in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, proc.stderr


@pytest.mark.parametrize("option,value", [("horizon", "abc"), ("data.until", "abc"),
                                          ("data.base_year", "2020.5")])
def test_non_integer_config_values_exit_2(tmp_path, option, value):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "forecast", f"hydra.run.dir={out}", f"{option}={value}"]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert option in done.stderr and value in done.stderr
    assert not out.exists()
