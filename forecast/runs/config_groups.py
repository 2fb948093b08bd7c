"""Config groups as Hydra finds them through its search path (``configs/`` and any path the
user adds), never read from disk by path: the options of a group and one option's node."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.object_type import ObjectType
from omegaconf import DictConfig

from forecast.core.paths import CONFIG_DIR


@contextmanager
def _hydra() -> Iterator[GlobalHydra]:
    """The running application's Hydra, or one started on ``configs/`` for the call."""
    if GlobalHydra.instance().is_initialized():
        yield GlobalHydra.instance()
        return
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        yield GlobalHydra.instance()


def compose_config(overrides: list[str] | None = None, config_name: str = "config"
                   ) -> DictConfig:
    """The configuration ``forecast`` (``config_name="config"``) or ``forecast-report``
    (``"report"``) would run with these Hydra overrides, e.g. ``["horizon=2030"]``."""
    with _hydra():
        return compose(config_name=config_name, overrides=list(overrides or []))


def group_options(group: str) -> list[str]:
    """The options of config group ``group`` (e.g. ``fertility``: bayes, rw_drift, ...)."""
    with _hydra() as hydra:
        return sorted(hydra.config_loader().get_group_options(group, ObjectType.CONFIG))


def group_node(group: str, option: str) -> DictConfig:
    """The node ``group`` of the configuration with ``group=option`` (unresolved: its
    interpolations, such as ``${seed}``, resolve against the config it is put in)."""
    return compose_config([f"{group}={option}"])[group]
