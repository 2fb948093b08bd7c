"""The backtest experiment through the command line, in a smoke setting."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from tests.cli.shared_runs import ENVIRONMENT, shared_run

pytestmark = pytest.mark.cli  # starts the command line in a subprocess


@shared_run
def smoke_backtest_run(folder):
    """`forecast experiment=tfr_backtest_smoke` into ``folder``; (folder, the finished command)."""
    cmd = [sys.executable, "-m", "forecast", "experiment=tfr_backtest_smoke",
           f"hydra.run.dir={folder}"]
    return folder, subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=600,
                                  env=ENVIRONMENT)


def test_backtest_experiment_runs_in_a_smoke_setting(smoke_backtest_run):
    folder, done = smoke_backtest_run
    assert done.returncode == 0, done.stderr
    summary = pd.read_csv(folder / "backtest_summary.csv", encoding="utf-8-sig")
    pooled = summary[summary["h"] == "all"]
    assert set(pooled["model"]) == {"bayes", "rw_drift", "arima", "ets", "constant_tfr"}
    assert set(pooled["quantity"]) == {"tfr", "births"}
    # 2 origins x 2 regions x 3 horizons
    assert (pooled["forecasts"] == 12).all()
    assert pooled[["crps", "mape"]].ge(0).all().all()
    scores = pd.read_csv(folder / "backtest_scores.csv", encoding="utf-8-sig")
    assert set(scores["origin"]) == {2010, 2011} and scores["h"].max() == 3
    meta = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert meta["config"]["task"] == "backtest"
