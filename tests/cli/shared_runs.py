"""Command-line runs that tests read, each run once per session and prepared in the background.

A test module declares a run with :func:`shared_run`: a function that gets a fresh empty
folder of its own, runs its command there (``python -m forecast ...`` in a subprocess) and
returns what the tests read. The decorator makes it a session fixture of the same name; a
test asks for it like any fixture, and must not write into the run's folder (copy it first).

At the start of the session (``tests/conftest.py``) the runs that the selected tests use are
queued in the order the tests will need them, and a background thread starts them one at a
time while the tests that need none of them go on; the tests that start the command line run
last, so that most runs are ready by then. A test that needs a run makes it at once itself
if the background has not got to it yet; if the background is making it, the test makes the
next queued runs meanwhile, then waits for it. The background runs have the tests' CPU
priority (:data:`BACKGROUND_NICENESS`). Only when a command runs changes: the commands and
what the tests check of them are the same (their environment is the session's,
:data:`ENVIRONMENT`).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

#: Run name (= fixture name) -> the function that makes the run in a folder.
RUNS: dict[str, Callable[[Path], Any]] = {}

#: The environment of the commands of shared runs: the process's at the session's start. A
#: run made in the background must not take up a test's passing change of os.environ
#: (monkeypatch.setenv), so its commands are given this one (``env=ENVIRONMENT``).
ENVIRONMENT: dict[str, str] = dict(os.environ)

#: Added to the nice value of the background runs (Linux: a thread's own, inherited by the
#: processes it starts); 0 = the tests' priority. A lower priority (10) kept the pace of the
#: tests that time a command, but on two cores busy with other work too it starved a
#: background run past its command's timeout.
BACKGROUND_NICENESS = 0


def shared_run(work: Callable[[Path], Any]):
    """Declare ``work(folder)`` a shared run; returns the session fixture of the same name,
    whose value is what ``work`` returned."""
    name = work.__name__
    known = RUNS.get(name)
    if known is not None and (known.__module__, known.__qualname__) != (work.__module__,
                                                                        work.__qualname__):
        raise ValueError(f"two shared runs named {name}: {known.__module__}, {work.__module__}")
    RUNS[name] = work

    def fixture(shared_runs):
        return shared_runs.get(name)

    fixture.__doc__ = work.__doc__
    return pytest.fixture(fixture, scope="session", name=name)


class _Job:
    def __init__(self, name: str, folder: Path):
        self.name, self.folder = name, folder
        self.state = "queued"  # -> running -> done
        self.value: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self.value = RUNS[self.name](self.folder)
        except BaseException as error:  # noqa: BLE001 - re-raised in the test that asks
            self.error = error
        finally:
            self.state = "done"
            self.done.set()


class SharedRuns:
    """The session's shared runs: queued, made in a background thread, handed to the tests."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory):
        self._tmp = tmp_path_factory
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def _job(self, name: str) -> _Job:
        """The job of ``name``; a new one (with its folder) when not queued before. Called in
        the tests' thread only."""
        if name not in self._jobs:
            if name not in RUNS:
                raise KeyError(f"no shared run named {name}")
            job = _Job(name, self._tmp.mktemp(name))
            with self._lock:
                self._jobs[name] = job
        return self._jobs[name]

    def start(self, names: list[str]) -> None:
        """Queue ``names`` in this order and start making them in the background."""
        for name in names:
            self._job(name)
        if names and self._thread is None:
            self._thread = threading.Thread(target=self._background, name="shared-runs",
                                            daemon=True)
            self._thread.start()

    def _take(self) -> _Job | None:
        """The first queued job, now marked running (None if none or stopping); with the
        lock held."""
        if not self._stopping:
            for job in self._jobs.values():
                if job.state == "queued":
                    job.state = "running"
                    return job
        return None

    def _next(self) -> _Job | None:
        with self._lock:
            return self._take()

    def _background(self) -> None:
        if BACKGROUND_NICENESS and sys.platform.startswith("linux"):
            try:  # the nice value is a thread's own on Linux, and its processes inherit it
                thread = threading.get_native_id()
                os.setpriority(os.PRIO_PROCESS, thread,
                               os.getpriority(os.PRIO_PROCESS, thread) + BACKGROUND_NICENESS)
            except OSError:
                pass
        while (job := self._next()) is not None:
            job.run()

    def get(self, name: str) -> Any:
        """The value of run ``name``: made now if nobody has started it; while the background
        makes it, the next queued runs are made here (rather than wait idle), then it is
        waited for."""
        job = self._job(name)
        while not job.done.is_set():
            with self._lock:
                if job.state == "queued":
                    job.state = "running"
                    work = job
                else:
                    work = self._take()
            if work is None:
                break
            work.run()
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.value

    def stop(self) -> None:
        """Start nothing more; wait for a run the background has started."""
        with self._lock:
            self._stopping = True
        if self._thread is not None:
            self._thread.join()


def needed_runs(items: list[pytest.Item]) -> list[str]:
    """The shared runs that ``items`` use, in the order they first need them."""
    names: list[str] = []
    for item in items:
        for name in getattr(item, "fixturenames", ()):
            if name in RUNS and name not in names:
                names.append(name)
    return names
