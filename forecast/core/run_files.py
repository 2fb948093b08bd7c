"""The run-file contract: the names of the files a run, a sweep and a report write, and the
header every ``run.json`` starts with.

Every writer and reader of a run folder takes its names from here, so a file is renamed in
one place. ``run.json`` (UTF-8 JSON) begins with :func:`run_header`: ``package`` (always
``forecast``, which is how a folder is recognised as a previous run), ``version``, ``kind``
(``project``, ``backtest``, ``sweep`` or ``report``), ``started_at_utc`` (ISO 8601, seconds),
``seed``, ``overrides`` (the command line's Hydra overrides) and ``config`` (the resolved
configuration); each kind adds its own keys after these.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

#: The package's version, written into every run.json and projection.nc.
VERSION = "0.1.0"
PACKAGE = "forecast"

# A projection run (forecast.runs.pipeline).
FORECAST_CSV = "forecast.csv"
DEMAND_CSV = "demand.csv"
SUPPLY_TEMPLATE_CSV = "supply_template.csv"
PROJECTION_NC = "projection.nc"
POSTERIOR_NC = "posterior.nc"
RUN_JSON = "run.json"
FIGURES = "figures"
#: The draws of the key indicators, written by every member of a sweep (and a report's run).
INDICATOR_DRAWS_NC = "indicator_draws.nc"
# A backtest run.
BACKTEST_SCORES = "backtest_scores.csv"
BACKTEST_SUMMARY = "backtest_summary.csv"
# A sweep folder (forecast.runs.sweep).
COMPARISON_CSV = "comparison.csv"
RESULTS = "results"
# A report folder (forecast.runs.report_cli): the forecast it ran is kept in FORECAST_FOLDER.
REPORT_HTML = "report.html"
ALERTS_CSV = "alerts.csv"
ALERTS_JSON = "alerts.json"
FORECAST_FOLDER = "forecast"

#: Names a run or report may write into its folder (files, or folders such as figures/).
RUN_OUTPUTS = frozenset({
    FORECAST_CSV, DEMAND_CSV, PROJECTION_NC, POSTERIOR_NC, RUN_JSON, BACKTEST_SCORES,
    BACKTEST_SUMMARY, FIGURES, INDICATOR_DRAWS_NC, REPORT_HTML, ALERTS_CSV, ALERTS_JSON,
    FORECAST_FOLDER, SUPPLY_TEMPLATE_CSV,
})


def utc_now() -> str:
    """The current time in UTC, ISO 8601 to the second (``run.json``'s ``started_at_utc``)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_header(kind: str, config: Mapping[str, Any] | None, overrides: list[str] | None = None,
               started_at: str | None = None) -> dict:
    """The first keys of every ``run.json`` (see the module docstring); ``config`` is the
    resolved configuration as plain containers."""
    config = dict(config or {})
    return {"package": PACKAGE, "version": VERSION, "kind": kind,
            "started_at_utc": started_at or utc_now(), "wall_time_seconds": None,
            "seed": config.get("seed"), "overrides": list(overrides or []), "config": config}


def is_run_metadata(meta: object) -> bool:
    """Whether ``meta`` (a parsed run.json) was written by this package."""
    return isinstance(meta, Mapping) and meta.get("package") == PACKAGE
