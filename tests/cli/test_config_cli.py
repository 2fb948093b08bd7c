"""A bad option through the command line: refused at once, before any work, nothing written."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.cli  # starts the command line in a subprocess


# --------------------------------------------------------------------------- the CLI

CLI_PROBES = [
    (["fertility.draws=2.5"], "fertility.draws"),                 # default: Bayesian model
    (["fertility.draws=1e7"], "fertility.draws"),                 # memory
    (["fertility=constant", "demand.kindergarten.class_size.value=0"],
     "demand.kindergarten.class_size.value"),
]


@pytest.mark.parametrize("overrides, option", CLI_PROBES, ids=[" ".join(p[0]) for p in CLI_PROBES])
def test_cli_refuses_a_bad_option_at_once_and_writes_nothing(tmp_path, overrides, option):
    out = tmp_path / "run"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "forecast", f"hydra.run.dir={out}", *overrides],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - started
    assert done.returncode == 2, done.stderr
    assert f"config, {option}: got " in done.stderr
    assert "Traceback" not in done.stderr
    # stopped before any work: no data loaded, no MCMC (which alone takes minutes)
    assert "Loading data" not in done.stderr and "Sampling" not in done.stderr
    assert seconds < 60, seconds
    assert not out.exists() or not any(out.rglob("*"))
