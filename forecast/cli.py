"""Command line: ``forecast [hydra overrides]`` (also ``python -m forecast``).

Exit status: 0 when the run wrote its files; 2 for bad input or configuration (the message
names the file or option); 3 when the files could not be written; 128 + the signal number
when the run was interrupted (130 for Ctrl-C, 143 for SIGTERM). On any failure nothing is
written, and folders the run created for itself are removed.

A sweep (``forecast -m ...``, Hydra's multirun) exits 0 when every member wrote its files
and the sweep folder its combined files (:mod:`forecast.sweep`); when a member fails,
Hydra reports that member's error (:class:`SweepMemberError`: its folder, overrides and
the cause) and exits 1, and the members that finished keep their outputs.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

import forecast.quiet  # noqa: F401  (first: silences third-party import notices)
from forecast.errors import InputError, Interrupted, OutputError
from forecast.paths import CONFIG_DIR
from forecast.pipeline import run
from forecast.run_folder import check_run_folder

EXIT_INPUT, EXIT_OUTPUT = 2, 3
#: Signals that stop a run cleanly (as Ctrl-C does): the run fails and writes nothing.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

#: Folders created for this run before Hydra made the run folder (deepest first).
_created: list[Path] = []
_received: list[int] = []


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
            _fail_input(err)
        except OSError as err:
            _fail_input(InputError(f"config, hydra.run.dir: got {str(out_dir)!r}; cannot create "
                                   f"it ({err.strerror}); expected a folder this user can "
                                   "write to."))


class SweepMemberError(RuntimeError):
    """A member of a sweep failed (Hydra stops the sweep with it)."""


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> None:
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir).absolute()
    overrides = list(hydra_cfg.overrides.task)
    member = hydra_cfg.mode == RunMode.MULTIRUN
    previous = {s: signal.signal(s, _stop) for s in STOP_SIGNALS}
    try:
        run(cfg, out_dir, overrides=overrides, sweep_member=member)
    except BaseException as err:  # noqa: BLE001 - every failure leaves no trace
        _remove_created()
        if member and isinstance(err, Exception):
            _remove_if_empty(out_dir)
            cause = _cause(err, InputError) or _cause(err, OutputError) or err
            raise SweepMemberError(f"sweep member {out_dir.name} ({' '.join(overrides)}) "
                                   f"failed: {type(cause).__name__}: {cause}") from err
        _exit_for(err)
        raise
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _stop(signum: int, frame) -> None:
    """Signal handler: stop the run as Ctrl-C would (PyMC stops its chains on it)."""
    _received.append(signum)
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _exit_for(err: BaseException) -> None:
    """Exit with the documented status for known failures; return for unexpected ones."""
    input_error = _cause(err, InputError)
    if input_error is not None:
        _fail_input(input_error)
    output_error = _cause(err, OutputError)
    if output_error is not None:
        print(f"OutputError: {output_error}", file=sys.stderr)
        sys.exit(EXIT_OUTPUT)
    if _received or isinstance(err, KeyboardInterrupt) or _cause(err, Interrupted):
        signum = _received[0] if _received else signal.SIGINT
        print(f"Interrupted ({signal.Signals(signum).name}): the run stopped; nothing was "
              "written.", file=sys.stderr)
        sys.exit(128 + signum)


def _fail_input(err: InputError) -> None:
    _remove_created()
    print(f"InputError: {err}", file=sys.stderr)
    sys.exit(EXIT_INPUT)


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


def _cause(err: BaseException | None, kind: type) -> BaseException | None:
    """The ``kind`` exception behind ``err`` (Hydra's instantiate wraps what a loader raises)."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, kind):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


if __name__ == "__main__":
    main()
