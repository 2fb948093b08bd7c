"""What a run returns before anything is written: the projection, the planner tables and the
posterior as objects (:class:`Result`), or a backtest's scores (:class:`BacktestResult`).

``files()`` gives the writer of every file the run's folder holds, by name
(:mod:`forecast.core.run_files`); ``save(path)`` publishes them into a run folder whole
(:class:`forecast.runs.run_folder.RunFolder`), exactly the files the command line writes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import xarray as xr

from forecast.core.draw_quantiles import dataset_quantiles
from forecast.demography.population_stream import STREAMED_BY_DRAW
from forecast.core.inputs import Inputs
from forecast.core.registry import QUANTILES
from forecast.core.run_files import (BACKTEST_SCORES, BACKTEST_SUMMARY, DEMAND_CSV, FIGURES,
                                     FORECAST_CSV, INDICATOR_DRAWS_NC, POSTERIOR_NC,
                                     PROJECTION_NC, RUN_JSON)
from forecast.core.writers import csv_writer, idata_writer, json_writer, netcdf_writer
from forecast.planning.comparison import key_draws
from forecast.report.figure_sets import run_figures_writer
from forecast.runs.run_folder import RunFolder

#: Writes one output file (or folder) to the path it is given.
Writer = Callable[[Path], None]


@dataclass
class Result:
    """A projection run, in memory.

    - ``projection`` — the projection Dataset with every draw (region, sex, age, year, draw;
      persons, persons per year, rates; see the variables' ``units`` attributes); where
      projection.nc keeps quantiles, the population by sex and age is streamed: its
      quantiles (dim ``quantile``), with each draw's ``population_total`` and
      ``population_young`` (:func:`forecast.demography.ccmpp.project`);
    - ``forecast`` — the planner table, as in ``forecast.csv`` (one row per region, year and
      indicator; quantile columns ``median``, ``lower_80``, ... in the indicator's unit);
    - ``demand`` — the wide demand table of ``demand.csv``, or None without the demand stage;
    - ``posterior`` — the Bayesian fertility model's ArviZ InferenceData, or None;
    - ``config`` — the resolved configuration (plain dict);
    - ``metadata`` — the content of ``run.json`` (without ``outputs`` and the wall time,
      which :meth:`files` adds);
    - ``indicators`` — the planner indicators (name -> DataArray (region, year, draw));
    - ``inputs`` — the input Dataset the projection started from.
    """

    projection: xr.Dataset
    forecast: pd.DataFrame
    demand: pd.DataFrame | None
    posterior: Any
    config: dict
    metadata: dict
    indicators: dict[str, xr.DataArray] = field(repr=False)
    inputs: Inputs = field(repr=False)
    sweep_member: bool = False
    started: float = field(default_factory=time.perf_counter, repr=False)

    @property
    def stored_projection(self) -> xr.Dataset:
        """``projection.nc``'s content: every draw (``output.projection=draws``) or the
        quantiles over draws (dim ``quantile``, the default)."""
        if self.config["output"]["projection"] == "draws":
            return self.projection
        return over_draws(self.projection)

    def files(self) -> dict[str, Writer]:
        """The writer of every file of the run folder, by name, ``run.json`` last."""
        writers: dict[str, Writer] = {FORECAST_CSV: csv_writer(self.forecast, decimals=None)}
        if self.demand is not None:
            writers[DEMAND_CSV] = csv_writer(self.demand, decimals=None)
        writers[PROJECTION_NC] = netcdf_writer(self.stored_projection)
        if self.posterior is not None:
            writers[POSTERIOR_NC] = idata_writer(self.posterior)
        if self.sweep_member:
            writers[INDICATOR_DRAWS_NC] = netcdf_writer(key_draws(self.indicators,
                                                                  self.projection))
        if self.config["plots"]:
            writers[FIGURES] = run_figures_writer(self.projection, self.indicators, self.inputs,
                                                  self.forecast, self.config.get("plot_units"))
        return _with_run_json(writers, self.metadata, self.started)

    def save(self, path: str | Path) -> list[Path]:
        """Write the run folder ``path`` as the command line does (replaced whole; see
        :class:`forecast.runs.run_folder.RunFolder`); returns the written paths."""
        with RunFolder(Path(path), option="path") as folder:
            return folder.publish(self.files())


@dataclass
class BacktestResult:
    """A rolling-origin backtest (``task=backtest``): ``scores`` (one row per model, quantity,
    region, origin and horizon), ``summary`` (scores averaged by model, quantity and
    horizon), ``config`` and ``metadata`` (``run.json``)."""

    scores: pd.DataFrame
    summary: pd.DataFrame
    config: dict
    metadata: dict
    started: float = field(default_factory=time.perf_counter, repr=False)

    def files(self) -> dict[str, Writer]:
        """The writers of the backtest's files, by name."""
        return _with_run_json({BACKTEST_SCORES: csv_writer(self.scores, decimals=6),
                               BACKTEST_SUMMARY: csv_writer(self.summary, decimals=4)},
                              self.metadata, self.started)

    def save(self, path: str | Path) -> list[Path]:
        """Write the backtest's folder ``path`` (replaced whole); returns the written paths."""
        with RunFolder(Path(path), option="path") as folder:
            return folder.publish(self.files())


@dataclass
class TableResult:
    """A run that writes tables (e.g. ``task=supply_template``): ``tables`` (file name ->
    DataFrame) and ``metadata`` (``run.json``)."""

    tables: dict[str, pd.DataFrame]
    metadata: dict
    started: float = field(default_factory=time.perf_counter, repr=False)

    def files(self) -> dict[str, Writer]:
        """The writers of the run's files, by name."""
        return _with_run_json({name: csv_writer(table, decimals=None)
                               for name, table in self.tables.items()},
                              self.metadata, self.started)


def _with_run_json(writers: dict[str, Writer], metadata: dict, started: float
                   ) -> dict[str, Writer]:
    """``writers`` plus ``run.json``: ``metadata`` with the list of outputs and the seconds
    since ``started``."""
    meta = {**metadata, "outputs": [*writers, RUN_JSON],
            "wall_time_seconds": round(time.perf_counter() - started, 3)}
    return {**writers, RUN_JSON: json_writer(meta)}


def over_draws(projection: xr.Dataset) -> xr.Dataset:
    """The projection summarised over ``draw``: dim ``quantile`` (median, 80 % and 95 %
    bounds, as in forecast.csv) instead of every draw."""
    if projection.sizes["draw"] == 1:
        return projection
    # a streamed population is summarised already; what it keeps by draw is not stored
    projection = projection.drop_vars(STREAMED_BY_DRAW, errors="ignore")
    q = dataset_quantiles(projection, list(QUANTILES.values()))  # NaN flows stay NaN
    return q.assign_coords(quantile_name=("quantile", list(QUANTILES)))
