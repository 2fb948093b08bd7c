"""The Python API: ``forecast.project`` composes the configuration as the command line does,
checks it before any work and returns the run as objects; the example script runs."""

from __future__ import annotations

import json
import runpy

import pandas as pd
import pytest
import xarray as xr

import forecast
from forecast.core.errors import InputError
from forecast.core.paths import ROOT
from forecast.core.registry import QUANTILES
from forecast.core.run_files import DEMAND_CSV, FORECAST_CSV, PROJECTION_NC, RUN_JSON
from forecast.planning.indicators import COLUMNS
from forecast.runs.result import over_draws


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """examples/from_python.py run as a script would be, into a temporary folder."""
    out = tmp_path_factory.mktemp("example") / "run"
    module = runpy.run_path(str(ROOT / "examples" / "from_python.py"))
    return module["main"](out), out


def test_project_returns_the_projection_and_the_tables(example):
    result, _ = example
    assert isinstance(result, forecast.Result)
    projection = result.projection
    assert isinstance(projection, xr.Dataset)
    assert {"births", "population"} <= set(projection.data_vars)
    assert projection["population"].dims == ("region", "sex", "age", "year", "draw")
    assert int(projection["year"].max()) == 2025 == result.config["horizon"]
    assert list(result.forecast.columns) == COLUMNS
    assert set(QUANTILES) <= set(result.forecast.columns)
    assert result.demand is not None and "childcare_gap" in set(result.demand.columns)
    assert result.posterior is None  # constant fertility: no MCMC
    assert result.metadata["overrides"] == ["fertility=constant", "horizon=2025",
                                            "plots=false"]


def test_the_example_saves_the_files_of_a_run(example):
    result, out = example
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [FORECAST_CSV, DEMAND_CSV, PROJECTION_NC, RUN_JSON])
    meta = json.loads((out / RUN_JSON).read_text(encoding="utf-8"))
    assert meta["package"] == "forecast" and meta["kind"] == "project"
    assert meta["outputs"] == [FORECAST_CSV, DEMAND_CSV, PROJECTION_NC, RUN_JSON]


def test_a_bad_option_is_refused_before_any_work():
    with pytest.raises(InputError, match=r"config, horizon: got 1999; expected a year after"):
        forecast.project(["fertility=constant", "horizon=1999"])


def test_a_backtest_is_not_a_projection():
    with pytest.raises(InputError, match="config, task: got 'backtest'; expected project"):
        forecast.project(["task=backtest"])


def test_unknown_options_are_named_by_hydra():
    with pytest.raises(Exception, match="horizn"):
        forecast.project(["horizn=2030"])


def test_backtest_returns_the_scores_of_each_model():
    result = forecast.backtest(["experiment=tfr_backtest_smoke", "backtest.models=[rw_drift]",
                                "backtest.regions=[JPN]"])
    assert isinstance(result, forecast.BacktestResult)
    assert set(result.scores["model"]) == {"rw_drift"}
    assert set(result.scores["origin"]) == {2010, 2011}
    assert {"model", "quantity", "h"} <= set(result.summary.columns)
    assert result.metadata["kind"] == "backtest"


def test_a_streamed_population_gives_the_tables_and_file_of_every_draw_kept():
    """The default (projection.nc keeps quantiles) streams the population; a run keeping
    every draw gives the same forecast.csv and demand.csv and, summarised, the same
    projection.nc (the year-end population, summed in another order, within 1e-14)."""
    overrides = ["fertility=rw_drift", "fertility.draws=16", "horizon=2024", "plots=false"]
    streamed = forecast.project(overrides)
    kept = forecast.project([*overrides, "output.projection=draws"])
    assert streamed.projection["population"].dims == ("quantile", "region", "sex", "age", "year")
    assert "draw" in kept.projection["population"].dims
    assert streamed.metadata["projection"]["population_streamed"]
    assert not kept.metadata["projection"]["population_streamed"]
    pd.testing.assert_frame_equal(streamed.forecast, kept.forecast)
    pd.testing.assert_frame_equal(streamed.demand, kept.demand)
    stored, summarised = streamed.stored_projection, over_draws(kept.projection)
    assert list(stored.data_vars) == list(summarised.data_vars)
    xr.testing.assert_allclose(stored["population_yearend"], summarised["population_yearend"],
                               rtol=1e-14)
    xr.testing.assert_identical(stored.drop_vars("population_yearend"),
                                summarised.drop_vars("population_yearend"))
