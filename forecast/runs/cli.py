"""Command line: ``forecast [hydra overrides]`` (also ``python -m forecast``).

Exit status: 0 when the run wrote its files; 2 for bad input or configuration (the message
names the file or option; also an override Hydra cannot apply or parse); 3 when the files could not be written; 128 + the signal number
when the run was interrupted (130 for Ctrl-C, 143 for SIGTERM). On any failure nothing is
written, and folders the run created for itself are removed.

A sweep (``forecast -m ...``, Hydra's multirun) exits 0 when every member wrote its files
and the sweep folder its combined files (:mod:`forecast.runs.sweep`); when a member fails,
Hydra reports that member's error (:class:`SweepMemberError`: its folder, overrides and
the cause) and exits 1, and the members that finished keep their outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

import forecast.core.quiet  # noqa: F401  (first: silences third-party import notices)
from forecast.core.allocator import keep_freed_memory
from forecast.core.errors import InputError, OutputError
from forecast.core.paths import CONFIG_DIR
from forecast.runs.command import run_command
from forecast.runs.exit_status import cause, exit_for, fail_input, stop_signals_interrupt
from forecast.runs.pipeline import run
from forecast.runs.run_folder import check_run_folder

#: Folders created for this run before Hydra made the run folder (deepest first).
_created: list[Path] = []


class RunFolderCallback(Callback):
    """Checks the run folder before Hydra creates it and records which folders are new,
    so a failed run removes only what it created (configured in ``configs/config.yaml``)."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        out_dir = Path(str(config.hydra.run.dir)).absolute()
        _created.clear()
        try:
            check_run_folder(out_dir)
            missing = [p for p in [out_dir, *out_dir.parents] if not p.exists()]
            for folder in reversed(missing):
                folder.mkdir()
                _created.insert(0, folder)
        except InputError as err:
            fail_input(err, _remove_created)
        except OSError as err:
            fail_input(InputError(f"config, hydra.run.dir: got {str(out_dir)!r}; cannot create "
                                  f"it ({err.strerror}); expected a folder this user can "
                                  "write to."), _remove_created)


class SweepMemberError(RuntimeError):
    """A member of a sweep failed (Hydra stops the sweep with it)."""


def main() -> None:
    """The command ``forecast``: the Hydra application, its configuration errors exit 2
    (:mod:`forecast.runs.command`)."""
    keep_freed_memory()
    run_command(forecast_app)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def forecast_app(cfg: DictConfig) -> None:
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir).absolute()
    overrides = list(hydra_cfg.overrides.task)
    member = hydra_cfg.mode == RunMode.MULTIRUN
    with stop_signals_interrupt():
        try:
            run(cfg, out_dir, overrides=overrides, sweep_member=member)
        except BaseException as err:  # noqa: BLE001 - every failure leaves no trace
            _remove_created()
            if member and isinstance(err, Exception):
                _remove_if_empty(out_dir)
                reason = cause(err, InputError) or cause(err, OutputError) or err
                raise SweepMemberError(f"sweep member {out_dir.name} ({' '.join(overrides)}) "
                                       f"failed: {type(reason).__name__}: {reason}") from err
            exit_for(err, _remove_created)
            raise


def _remove_created() -> None:
    """Remove the folders this run created (the run folder, ``outputs/<date>/``, ...) where
    they are still empty."""
    for folder in _created:
        try:
            folder.rmdir()
        except OSError:
            break  # not empty (another run's files) or already gone: keep it and its parents
    _created.clear()


def _remove_if_empty(folder: Path) -> None:
    """Remove a failed member's folder where it holds nothing."""
    try:
        folder.rmdir()
    except OSError:
        pass


if __name__ == "__main__":
    main()
