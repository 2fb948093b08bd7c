"""The command line's life cycle: interrupted runs fail and write nothing, MCMC worker
processes never outlive the run, folders are checked before the work and a failed run
removes only the folders it created."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.shared_runs import ENVIRONMENT, shared_run

#: A fit long enough to be interrupted while its chains run in worker processes.
LONG_FIT = ["fertility.draws=50", "fertility.samples=50000", "fertility.tune=100",
            "fertility.chains=2", "fertility.cores=2", "fertility.progressbar=false"]
FAST = ["fertility=constant"]


def _cli(*args, cwd, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "forecast", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=env)


def _processes_with(marker: str) -> list[int]:
    """Processes whose command line contains ``marker`` (forked workers keep the parent's)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            pids.append(int(entry.name))
    return pids


def _sampling_run(tmp_path: Path) -> tuple[subprocess.Popen, Path, list[str]]:
    """Start a run and return once its chains are sampling in worker processes."""
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "forecast", f"hydra.run.dir={out}",
                             *LONG_FIT], cwd=tmp_path, stderr=subprocess.PIPE, text=True,
                            env=ENVIRONMENT)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "Multiprocess sampling" in line:
            break
    else:
        pytest.fail("the run ended before sampling:\n" + "".join(lines))
    deadline = time.monotonic() + 30
    while len(_processes_with(f"hydra.run.dir={out}")) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_processes_with(f"hydra.run.dir={out}")) >= 3, "no worker processes seen"
    time.sleep(1.0)
    return proc, out, lines


def _gone(marker: str, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _processes_with(marker):
            return True
        time.sleep(0.2)
    return False


pytestmark = [pytest.mark.cli,  # starts the command line in a subprocess
              pytest.mark.skipif(not Path("/proc/self/cmdline").exists(),
                                 reason="needs /proc to find worker processes")]


@shared_run
def stopped_runs(folder):
    """Three runs stopped while their chains sample in worker processes, each in a folder of
    its own: by SIGINT, by SIGTERM, and killed (SIGKILL). Name -> what the tests check."""
    results = {}
    for name in ("SIGINT", "SIGTERM", "SIGKILL"):
        case = folder / name
        case.mkdir()
        proc, out, _ = _sampling_run(case)
        err = ""
        if name == "SIGKILL":
            proc.kill()
            proc.wait()
        else:
            proc.send_signal(getattr(signal, name))
            _, err = proc.communicate(timeout=60)
        results[name] = {"returncode": proc.returncode, "stderr": err, "out": out,
                         "left": sorted(p.name for p in case.iterdir()),
                         "workers_gone": _gone(f"hydra.run.dir={out}")}
    return results


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_an_interrupted_run_fails_writes_nothing_and_stops_its_workers(stopped_runs, name):
    run = stopped_runs[name]
    assert run["returncode"] == 128 + getattr(signal, name), run["stderr"]
    assert "nothing was written" in run["stderr"]
    assert not run["out"].exists() and run["left"] == []
    assert run["workers_gone"], "worker processes outlived the run"


def test_workers_die_with_a_killed_run(stopped_runs):
    assert stopped_runs["SIGKILL"]["workers_gone"], "worker processes outlived the killed run"


@shared_run
def rerun_without_demand(folder):
    """A run into ``folder / "run"``, then a run with demand=none into the same folder (both
    started in ``folder``): (folder, the first command, whether it wrote demand.csv, the
    second command)."""
    out = folder / "run"
    first = _cli(f"hydra.run.dir={out}", *FAST, cwd=folder, env=ENVIRONMENT)
    wrote_demand = (out / "demand.csv").is_file()
    second = _cli(f"hydra.run.dir={out}", *FAST, "demand=none", cwd=folder, env=ENVIRONMENT)
    return folder, first, wrote_demand, second


def test_a_rerun_without_demand_leaves_no_demand_table(rerun_without_demand):
    folder, first, wrote_demand, second = rerun_without_demand
    out = folder / "run"
    assert first.returncode == 0, first.stderr
    assert wrote_demand
    assert second.returncode == 0, second.stderr
    assert sorted(p.name for p in out.iterdir()) == ["figures", "forecast.csv", "projection.nc",
                                                     "run.json"]
    assert sorted(p.name for p in folder.iterdir()) == ["run"]


def test_a_failed_run_keeps_the_users_empty_folder_and_removes_its_own(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    done = _cli(f"hydra.run.dir={mine}", "horizon=2019", cwd=tmp_path)
    assert done.returncode == 2 and "horizon" in done.stderr and "2020" in done.stderr
    assert mine.is_dir() and not any(mine.iterdir())
    # the default folder outputs/<date>/<time>/ is created by the run: all of it goes
    done = _cli("horizon=2019", cwd=tmp_path)
    assert done.returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_an_unusable_run_folder_stops_the_run_before_any_work(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    own = tmp_path / "own"
    own.mkdir()
    (own / "notes.txt").write_text("mine")
    for target, message in ((a_file, "is a file"), (a_file / "below", "is a file"),
                            (own, "not a forecast run")):
        started = time.monotonic()
        done = _cli(f"hydra.run.dir={target}", cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert message in done.stderr and "hydra.run.dir" in done.stderr
        assert "Loading data" not in done.stderr and time.monotonic() - started < 60
    assert a_file.read_text() == "x" and (own / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "own"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_a_read_only_parent_stops_the_run_before_any_work(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        done = _cli(f"hydra.run.dir={locked / 'run'}", cwd=tmp_path)
    finally:
        locked.chmod(0o755)
    assert done.returncode == 2 and "hydra.run.dir" in done.stderr
