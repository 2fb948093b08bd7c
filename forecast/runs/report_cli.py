"""``forecast-report``: the early-warning report, made on a schedule with nobody watching.

One run: take the lock (``<out_root>/.forecast-report.lock``), run the forecast (or read
``report.forecast_dir``), read the observed figures, evaluate the rules and write, into
``<out_root>/<period>/``, ``report.html``, ``alerts.csv``, ``alerts.json``, ``figures/``,
``run.json`` and (when it ran it) the forecast's own folder ``forecast/``. The folder is
replaced whole and at once (:class:`forecast.runs.run_folder.RunFolder`): a run that fails or is
killed leaves the previous report of that period as it was.

Exit status: 0 when the report was written, whatever its alerts, and also when another run
held the lock (nothing written; a WARNING says so); 2 for bad input or configuration (the
message names the file, column, row or option; nothing written); 3 when the files could
not be written; 128 + the signal number when interrupted. Log lines go to standard error,
one per event, with a timestamp and level.
"""

from __future__ import annotations

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

import forecast.core.quiet  # noqa: F401  (first: silences third-party import notices)
from forecast.core.paths import CONFIG_DIR
from forecast.runs.command import run_command
from forecast.runs.exit_status import exit_for, stop_signals_interrupt
from forecast.runs.report_run import make_report


def main() -> None:
    """The command ``forecast-report``: the Hydra application, its configuration errors
    exit 2 (:mod:`forecast.runs.command`)."""
    run_command(report_app)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="report")
def report_app(cfg: DictConfig) -> None:
    with stop_signals_interrupt():
        try:
            make_report(cfg, overrides=list(HydraConfig.get().overrides.task))
        except BaseException as err:  # noqa: BLE001 - documented exit status, nothing written
            exit_for(err)
            raise


if __name__ == "__main__":
    main()
