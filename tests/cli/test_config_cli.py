"""A bad option through the command line: refused at once, before any work, nothing written."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.cli.shared_runs import ENVIRONMENT, shared_run

pytestmark = pytest.mark.cli  # starts the command line in a subprocess


# --------------------------------------------------------------------------- the CLI

CLI_PROBES = [
    (["fertility.draws=2.5"], "fertility.draws"),                 # default: Bayesian model
    (["fertility.draws=1e7"], "fertility.draws"),                 # memory
    (["fertility=constant", "demand.kindergarten.class_size.value=0"],
     "demand.kindergarten.class_size.value"),
]


@shared_run
def bad_option_runs(folder):
    """Each probe in a folder of its own: its overrides -> (run folder, finished command,
    seconds it took)."""
    results = {}
    for i, (overrides, _) in enumerate(CLI_PROBES):
        out = folder / str(i) / "run"
        out.parent.mkdir()
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "forecast", f"hydra.run.dir={out}",
                               *overrides], cwd=out.parent, capture_output=True, text=True,
                              timeout=300, env=ENVIRONMENT)
        results[" ".join(overrides)] = (out, done, time.perf_counter() - started)
    return results


@pytest.mark.parametrize("overrides, option", CLI_PROBES, ids=[" ".join(p[0]) for p in CLI_PROBES])
def test_cli_refuses_a_bad_option_at_once_and_writes_nothing(bad_option_runs, overrides, option):
    out, done, seconds = bad_option_runs[" ".join(overrides)]
    assert done.returncode == 2, done.stderr
    assert f"config, {option}: got " in done.stderr
    assert "Traceback" not in done.stderr
    # stopped before any work: no data loaded, no MCMC (which alone takes minutes)
    assert "Loading data" not in done.stderr and "Sampling" not in done.stderr
    assert seconds < 60, seconds
    assert not out.exists() or not any(out.rglob("*"))
