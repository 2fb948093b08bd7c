"""Command line: ``forecast [hydra overrides]`` (also ``python -m forecast``)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from forecast.errors import InputError
from forecast.paths import CONFIG_DIR
from forecast.pipeline import run

log = logging.getLogger("forecast")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> None:
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    try:
        run(cfg, out_dir, overrides=list(hydra_cfg.overrides.task))
    except Exception as err:  # noqa: BLE001 - input errors become a message and exit code 2
        if out_dir.is_dir() and not any(out_dir.iterdir()):
            out_dir.rmdir()
        input_error = _input_error(err)
        if input_error is None:
            raise
        print(f"InputError: {input_error}", file=sys.stderr)
        sys.exit(2)


def _input_error(err: BaseException | None) -> InputError | None:
    """The InputError behind ``err`` (Hydra's instantiate wraps what a loader raises)."""
    while err is not None:
        if isinstance(err, InputError):
            return err
        err = err.__cause__ or err.__context__
    return None


if __name__ == "__main__":
    main()
