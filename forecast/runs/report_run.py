"""The early-warning report's run: take the lock, run the forecast (or read
``report.forecast_dir``), read the observed figures, evaluate the rules and publish
``<out_root>/<period>/`` whole (:class:`forecast.runs.run_folder.RunFolder`). The command line
``forecast-report`` (:mod:`forecast.runs.report_cli`) and ``forecast.make_report`` call
:func:`make_report`."""

from __future__ import annotations

import fcntl
import logging
import os
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Iterator

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from forecast.core.errors import InputError
from forecast.core.options import (MISSING, Choice, Group, Number, Problems, Text, Where,
                                   Whole, check)
from forecast.core.paths import DATA_DIR
from forecast.core.run_files import (ALERTS_CSV, ALERTS_JSON, FIGURES, FORECAST_CSV,
                                     FORECAST_FOLDER, PACKAGE, REPORT_HTML, RUN_JSON, VERSION,
                                     run_header)
from forecast.core.writers import csv_writer, json_writer
from forecast.data.observed_figures import read_observed
from forecast.planning.warning import (ALERT_COLUMNS, LEVELS, STANDING_SHARE,
                                       check_probability_rule, check_surprise_rule,
                                       check_threshold_rules)
from forecast.report.early_warning import build_report, read_forecast, report_year
from forecast.report.early_warning_html import localized_messages, png_bytes, render
from forecast.runs.pipeline import run as run_forecast
from forecast.runs.run_folder import RunFolder
from forecast.runs.run_options import option

log = logging.getLogger(__name__)

LOCK_NAME = ".forecast-report.lock"


def _alert_rules(node, name: str, problems: Problems, root) -> None:
    """Rule: the alert rules' thresholds are numbers in the order of their levels
    (:mod:`forecast.planning.warning`)."""
    check_threshold_rules(node.get("rules", MISSING), f"{name}.rules", problems)
    check_probability_rule(node.get("births_drop", MISSING), f"{name}.births_drop", problems)
    check_surprise_rule(node.get("surprise", MISSING), f"{name}.surprise", problems)


_alert_rules.keys = ("rules", "births_drop", "surprise")

#: The report's own options (``report`` in ``configs/report.yaml``, its alert rules in
#: ``configs/report/``).
REPORT_OPTIONS = Group({
    "forecast_dir": Text(nullable=True, default=None, hint=" (a forecast run folder)"),
    "observed_dir": Text(nullable=True, default=None),
    "previous_forecast": Text(nullable=True, default="auto",
                              hint=" (a forecast run folder, or auto)"),
    "out_root": Text(required=True),
    "period": Where(lambda p: bool(str(p).strip()) and "/" not in str(p), required=True,
                    what="a folder name such as 2026-12"),
    "year": Whole(what="null or a whole-number year", nullable=True, default=None),
    "lang": Choice(("zh", "en"), required=True),
    "lock_wait_seconds": Number(0, required=True, what="a number of seconds >= 0"),
    "standing_share": STANDING_SHARE,
}, rules=(_alert_rules,))


def make_report(cfg: DictConfig, overrides: list[str] | None = None) -> Path | None:
    """Write the report of ``cfg.report.period``; returns its folder (None when another run
    held the lock)."""
    node = cfg.report
    _check(node)
    root = Path(str(node.out_root)).absolute()
    root.mkdir(parents=True, exist_ok=True)
    out_dir = root / str(node.period)
    with _lock(root / LOCK_NAME, float(node.lock_wait_seconds)) as held:
        if not held:
            log.warning("Another forecast-report holds %s: this run exits without writing",
                        root / LOCK_NAME)
            return None
        with RunFolder(out_dir, option="report.out_root") as folder:
            forecast_dir = _forecast_folder(cfg, folder.staging, overrides)
            writers = _report_writers(cfg, forecast_dir, root, overrides)
            written = folder.publish(writers)
    log.info("Report written: %s", ", ".join(str(p) for p in written))
    return out_dir


def _report_writers(cfg: DictConfig, forecast_dir: Path, root: Path,
                    overrides: list[str] | None) -> dict:
    node = cfg.report
    shown = None if node.forecast_dir is not None else f"{node.period}/{FORECAST_FOLDER}"
    forecast_run = read_forecast(forecast_dir, shown_as=shown)
    regions = list(dict.fromkeys(forecast_run["table"]["region_code"]))
    observed_dir = _observed_folder(node.observed_dir, cfg.data.get("data_dir"))
    observed = read_observed(observed_dir, regions)
    log.info("Observed figures: %d rows from %s", len(observed),
             observed_dir if observed_dir is not None else "none")
    previous_dir = _previous_forecast(node.previous_forecast, root, str(node.period))
    previous = _read_previous(node.previous_forecast, previous_dir)
    year = report_year(forecast_run, node.year, date.today().year)
    rules = OmegaConf.to_container(cfg.report, resolve=True)
    report = build_report(forecast_run, observed, rules, year, previous,
                          plots_wanted=bool(option(cfg, "plots")),
                          previous_alerts=_previous_alerts(node.previous_forecast, root,
                                                           str(node.period), previous_dir))
    log.info("Report year %d: %s", year, _level_counts(report.alerts))
    report.alerts["message"] = localized_messages(report.alerts, rules, str(node.lang),
                                                  report.previous)
    figures = {name: png_bytes(fig) for name, fig in report.figures.items()}
    files = sorted({str(f) for f in observed.get("file", [])})
    page = render(report, lang=str(node.lang), period=str(node.period), figures=figures,
                  observed_files=files)
    alerts = report.alerts[ALERT_COLUMNS]
    summary = {"package": PACKAGE, "version": VERSION, "kind": "report",
               "period": str(node.period), "year": year, "forecast": report.forecast["name"],
               "previous_forecast": report.previous, "observed_files": files,
               "levels": {lv: int((alerts["level"] == lv).sum()) for lv in LEVELS},
               "regions": report.regions.to_dict("records"),
               "alerts": alerts.to_dict("records"),
               "previous_report": report.previous_report,
               "changes": report.changes.to_dict("records"),
               "standing_conditions": report.standing.to_dict("records")}
    writers = {REPORT_HTML: _text_writer(page), ALERTS_CSV: csv_writer(alerts, decimals=4),
               ALERTS_JSON: json_writer(summary), FIGURES: _png_folder_writer(figures)}
    writers[RUN_JSON] = json_writer({
        **run_header("report", OmegaConf.to_container(cfg, resolve=True), overrides),
        "forecast_folder": str(forecast_dir), "outputs": [*writers, RUN_JSON]})
    return writers


def _forecast_folder(cfg: DictConfig, staging: Path, overrides: list[str] | None) -> Path:
    """The forecast the report reads: ``report.forecast_dir``, or one run now into the
    report's staging folder (kept as ``forecast/``)."""
    given = cfg.report.forecast_dir
    if given is not None:
        return Path(str(given)).absolute()
    plain = OmegaConf.create({k: v for k, v in OmegaConf.to_container(cfg, resolve=False)
                              .items() if k not in ("report", "hydra")})
    target = staging / FORECAST_FOLDER
    log.info("Running the forecast into %s", target)
    run_forecast(plain, target, overrides=overrides, sweep_member=True)
    return target


def _observed_folder(option, data_dir) -> Path | None:
    """``report.observed_dir``: absolute as given, relative to the data folder."""
    if option is None:
        return None
    path = Path(str(option))
    return path if path.is_absolute() else (Path(data_dir) if data_dir else DATA_DIR) / path


def _previous_alerts(option, root: Path, period: str, previous_dir: Path | None
                     ) -> tuple[str, pd.DataFrame] | None:
    """(name, alerts) of the previous report: with ``report.previous_forecast`` "auto" the
    newest report under ``root`` whose period sorts before ``period``; with a forecast
    folder, the report holding it (its parent's ``alerts.csv``); else None."""
    if option is None:
        return None
    if str(option) == "auto":
        earlier = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                         and p.name < period and (p / ALERTS_CSV).is_file())
        folder = earlier[-1] if earlier else None
    else:
        folder = previous_dir.parent if previous_dir is not None else None
    if folder is None or not (folder / ALERTS_CSV).is_file():
        return None
    try:
        alerts = pd.read_csv(folder / ALERTS_CSV, dtype={"region_code": str},
                             encoding="utf-8-sig", keep_default_na=False, na_values=[""])
        lacking = [c for c in ("region_code", "region_name", "rule", "indicator", "level")
                   if c not in alerts.columns]
        if lacking:
            raise ValueError(f"no column {', '.join(lacking)}")
    except (OSError, ValueError, pd.errors.ParserError) as err:
        log.warning("Previous report's %s skipped, no list of changes this time: cannot be "
                    "read (%s: %s)", folder / ALERTS_CSV, type(err).__name__, str(err)[:200])
        return None
    return folder.name, alerts


def _read_previous(option, folder: Path | None) -> dict | None:
    """The previous forecast's table and metadata. One that cannot be read is skipped with a
    WARNING naming it under "auto" (a broken folder of last month must not stop every later
    report); a folder the user named stops the run (exit status 2)."""
    if folder is None:
        log.info("Previous forecast: none (report.previous_forecast = %s)", option)
        return None
    try:
        previous = read_forecast(folder, option="report.previous_forecast", whole=False)
    except InputError as err:
        if str(option) != "auto":
            raise
        log.warning("Previous forecast skipped, no surprise checks this time: %s", err)
        return None
    log.info("Previous forecast: %s", folder)
    return previous


def _previous_forecast(option, root: Path, period: str) -> Path | None:
    """The previous forecast folder: the option's path, or with "auto" the forecast of the
    newest report under ``root`` whose period sorts before ``period``."""
    if option is None:
        return None
    if str(option) != "auto":
        return Path(str(option)).absolute()
    earlier = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                     and p.name < period and (p / FORECAST_FOLDER / FORECAST_CSV).is_file())
    return earlier[-1] / FORECAST_FOLDER if earlier else None


@contextmanager
def _lock(path: Path, wait_seconds: float) -> Iterator[bool]:
    """An exclusive lock on ``path`` (advisory, released when the process ends), waiting up
    to ``wait_seconds``; yields whether it was taken."""
    handle = open(path, "a+")
    deadline = time.monotonic() + max(wait_seconds, 0.0)
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.5)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield True
    finally:
        handle.close()


def _check(node: DictConfig) -> None:
    """Raise one InputError naming every bad option of ``report``."""
    problems = check({"report": OmegaConf.to_container(node, resolve=True)},
                     Group({"report": REPORT_OPTIONS}))
    if problems:
        raise InputError("\n".join(problems))


def _level_counts(alerts) -> str:
    counts = alerts["level"].value_counts()
    return ", ".join(f"{level} {int(counts.get(level, 0))}" for level in reversed(list(LEVELS)))


def _text_writer(text: str):
    return lambda path: Path(path).write_text(text, encoding="utf-8")


def _png_folder_writer(figures: dict[str, bytes]):
    def write(folder: Path) -> None:
        folder.mkdir()
        for name, data in figures.items():
            (folder / name).write_bytes(data)
    return write

