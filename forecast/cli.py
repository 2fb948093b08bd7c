"""Command line: ``forecast [hydra overrides]`` (also ``python -m forecast``)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from forecast.errors import InputError
from forecast.pipeline import run

CONFIG_DIR = str(Path(__file__).resolve().parents[1] / "configs")
log = logging.getLogger("forecast")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> None:
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    try:
        run(cfg, out_dir, overrides=list(hydra_cfg.overrides.task))
    except InputError as err:
        print(f"InputError: {err}", file=sys.stderr)
        if out_dir.is_dir() and not any(out_dir.iterdir()):
            out_dir.rmdir()
        sys.exit(2)


if __name__ == "__main__":
    main()
