"""Shared factories: arrays small enough to reason about, on the project's dims."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from forecast.graduation import AGES
from forecast.paths import DATA_DIR
from forecast.variables import SEXES


def make_rates(years, regions=("a",), asfr_level=0.0, mx_level=0.0, srb=1.06, migration=0.0):
    """Flat rates on single ages for the given step years (no draw dim): net migration by
    step, and the calendar-year rates for those years and the year after the last step."""
    steps = np.asarray(years)
    years = np.append(steps, steps[-1] + 1)
    f = np.zeros(len(AGES))
    f[15:50] = asfr_level
    coords = {"region": list(regions), "sex": list(SEXES), "age": AGES, "year": years}
    asfr = xr.DataArray(np.broadcast_to(f[None, :, None], (len(regions), len(AGES), len(years))),
                        dims=("region", "age", "year"),
                        coords={k: coords[k] for k in ("region", "age", "year")})
    shape = (len(regions), len(SEXES), len(AGES), len(years))
    mx = xr.DataArray(np.full(shape, float(mx_level)), dims=("region", "sex", "age", "year"),
                      coords=coords)
    mig = xr.DataArray(np.full(shape[:-1] + (len(steps),), float(migration)),
                       dims=("region", "sex", "age", "year"), coords=coords | {"year": steps})
    srb_da = xr.DataArray(np.full((len(regions), len(years)), srb), dims=("region", "year"),
                          coords={"region": list(regions), "year": years})
    return {"asfr": asfr, "mx": mx, "srb": srb_da, "net_migration": mig}


def make_population(values, regions=("a",)):
    """Population (region, sex, age) from an array broadcastable to that shape."""
    shape = (len(regions), len(SEXES), len(AGES))
    return xr.DataArray(np.broadcast_to(np.asarray(values, dtype=float), shape).copy(),
                        dims=("region", "sex", "age"),
                        coords={"region": list(regions), "sex": list(SEXES), "age": AGES})


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
