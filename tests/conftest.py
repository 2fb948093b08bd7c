"""Shared factories: arrays small enough to reason about, on the project's dims."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from forecast.core.paths import DATA_DIR
from forecast.testing import make_population, make_rates


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
