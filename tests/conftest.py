"""Shared factories: arrays small enough to reason about, on the project's dims; and the
session's shared command-line runs, made in the background (tests/cli/shared_runs.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

#: The posteriors the tests' fits cache (forecast/core/cache.py) go to a folder of this
#: session, never to the user's cache, and are gone after it; set before the shared runs
#: take their environment (tests/cli/shared_runs.py).
CACHE_HOME = tempfile.mkdtemp(prefix="forecast-tests-cache-")
os.environ["XDG_CACHE_HOME"] = CACHE_HOME

from forecast.core.paths import DATA_DIR  # noqa: E402
from forecast.testing import make_population, make_rates  # noqa: E402
from tests.cli.shared_runs import SharedRuns, needed_runs  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(CACHE_HOME, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    """The tests that start the command line run last, so that the command-line runs they
    share are made in the background while the other tests run (tests/cli/shared_runs.py)."""
    items.sort(key=lambda item: item.get_closest_marker("cli") is not None)


@pytest.fixture(scope="session", autouse=True)
def shared_runs(request, tmp_path_factory):
    """The session's shared command-line runs; those the selected tests use start now."""
    runs = SharedRuns(tmp_path_factory)
    runs.start(needed_runs(request.session.items))
    yield runs
    runs.stop()


@pytest.fixture
def rates_factory():
    return make_rates


@pytest.fixture
def population_factory():
    return make_population


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A private copy of the project's input CSVs that a test may corrupt."""
    target = tmp_path / "data"
    target.mkdir()
    for src in sorted(DATA_DIR.glob("*.csv")):
        shutil.copy(src, target / src.name)
    return target
