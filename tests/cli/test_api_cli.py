"""``Result.save`` writes exactly the files the command line writes, byte for byte."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import forecast
from forecast.core.run_files import DEMAND_CSV, FORECAST_CSV, PROJECTION_NC, RUN_JSON
from tests.cli.shared_runs import ENVIRONMENT, shared_run

pytestmark = pytest.mark.cli  # starts the command line in a subprocess

OVERRIDES = ["fertility=constant", "horizon=2025"]


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@shared_run
def command_line_run(folder):
    """`forecast` with OVERRIDES into ``folder / "cli"``; (that folder, the finished command)."""
    cli = folder / "cli"
    done = subprocess.run([sys.executable, "-m", "forecast", f"hydra.run.dir={cli}", *OVERRIDES],
                          cwd=folder, capture_output=True, text=True, timeout=300,
                          env=ENVIRONMENT)
    return cli, done


def test_save_writes_the_files_the_command_line_writes(command_line_run, tmp_path):
    cli, done = command_line_run
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
