"""The backtest experiment through the command line, in a smoke setting."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

pytestmark = pytest.mark.cli  # starts the command line in a subprocess


def test_backtest_experiment_runs_in_a_smoke_setting(tmp_path):
    cmd = [sys.executable, "-m", "forecast", "experiment=tfr_backtest_smoke",
           f"hydra.run.dir={tmp_path}"]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    summary = pd.read_csv(tmp_path / "backtest_summary.csv", encoding="utf-8-sig")
    pooled = summary[summary["h"] == "all"]
    assert set(pooled["model"]) == {"bayes", "rw_drift", "arima", "ets", "constant_tfr"}
    assert set(pooled["quantity"]) == {"tfr", "births"}
    # 2 origins x 2 regions x 3 horizons
    assert (pooled["forecasts"] == 12).all()
    assert pooled[["crps", "mape"]].ge(0).all().all()
    scores = pd.read_csv(tmp_path / "backtest_scores.csv", encoding="utf-8-sig")
    assert set(scores["origin"]) == {2010, 2011} and scores["h"].max() == 3
    meta = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert meta["config"]["task"] == "backtest"
