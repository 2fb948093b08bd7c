"""``Result.save`` writes exactly the files the command line writes, byte for byte."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import forecast
from forecast.core.run_files import DEMAND_CSV, FORECAST_CSV, PROJECTION_NC, RUN_JSON

pytestmark = pytest.mark.cli  # starts the command line in a subprocess

OVERRIDES = ["fertility=constant", "horizon=2025"]


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_save_writes_the_files_the_command_line_writes(tmp_path):
    cli = tmp_path / "cli"
    done = subprocess.run([sys.executable, "-m", "forecast", f"hydra.run.dir={cli}", *OVERRIDES],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    api = tmp_path / "api"
    forecast.project(OVERRIDES).save(api)
    assert _files(api) == _files(cli)
    assert any(name.startswith("figures/") for name in _files(api))
    for name in (FORECAST_CSV, DEMAND_CSV, PROJECTION_NC):
        assert (api / name).read_bytes() == (cli / name).read_bytes(), name
    meta = {k: json.loads((d / RUN_JSON).read_text(encoding="utf-8")) for k, d in
            (("api", api), ("cli", cli))}
    timing = {"started_at_utc", "wall_time_seconds", "fertility_diagnostics",
              "mortality_diagnostics"}
    assert meta["api"].keys() == meta["cli"].keys()
    assert {k: v for k, v in meta["api"].items() if k not in timing} == \
        {k: v for k, v in meta["cli"].items() if k not in timing}
