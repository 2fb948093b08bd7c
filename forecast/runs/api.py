"""The Python API: the runs of the command lines as calls that return objects.

:func:`project` composes the configuration exactly as ``forecast`` does (``configs/``, the
same defaults and overrides), checks all of it before any work, and returns the run as a
:class:`forecast.runs.result.Result` without writing anything; ``Result.save(path)`` writes
the files the command line writes. :func:`backtest` does the same for ``task=backtest``;
:func:`make_report` makes the early-warning report as ``forecast-report`` does.
"""

from __future__ import annotations

from pathlib import Path

from forecast.core.errors import InputError
from forecast.runs.config_check import check_config
from forecast.runs.config_groups import compose_config
from forecast.runs.run_options import option
from forecast.runs.pipeline import run_backtest, run_projection
from forecast.runs.result import BacktestResult, Result


def project(overrides: list[str] | None = None) -> Result:
    """Run the projection of ``forecast <overrides>`` in memory; raises
    :class:`forecast.core.errors.InputError` (option, value, expected) before any work when
    the configuration is not valid."""
    cfg = compose_config(overrides)
    if option(cfg, "task") != "project":
        raise InputError(f"config, task: got {cfg.task!r}; expected project "
                         "(forecast.backtest() runs a backtest).")
    check_config(cfg)
    return run_projection(cfg, overrides)


def backtest(overrides: list[str] | None = None) -> BacktestResult:
    """Run the rolling-origin backtest of ``forecast task=backtest <overrides>`` (e.g.
    ``["experiment=tfr_backtest_smoke"]``) in memory."""
    cfg = compose_config(["task=backtest", *(overrides or [])])
    check_config(cfg)
    return run_backtest(cfg, overrides)


def make_report(overrides: list[str] | None = None) -> Path | None:
    """Make the early-warning report of ``forecast-report <overrides>``; returns its folder
    (None when another run held the lock)."""
    from forecast.runs.report_run import make_report as run_report

    return run_report(compose_config(overrides, config_name="report"), overrides)
