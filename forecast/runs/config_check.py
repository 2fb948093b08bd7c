"""Check the whole resolved configuration before any work, against the options every module
declares (:mod:`forecast.core.options`; the run's own in :mod:`forecast.runs.run_options`),
and the memory the run needs (:mod:`forecast.runs.memory`).

:func:`check_config` is the first thing a run does: one :class:`forecast.core.errors.InputError`
lists every problem, one line each::

    config, fertility.draws: got 2.5; expected a whole number >= 1.

so a bad value stops the run in well under a second, before the data are loaded or the
MCMC starts, instead of a traceback (or a silently truncated value, or ``inf`` in a table)
minutes later. A run whose memory estimate exceeds the memory available is refused the same
way, naming both sizes and the option to lower.
"""

from __future__ import annotations

import logging
from typing import Mapping

from omegaconf import DictConfig, OmegaConf

from forecast.core.errors import InputError
from forecast.core.options import check, shown
from forecast.runs import memory
from forecast.runs.memory import MemoryEstimate
from forecast.runs.run_options import TASKS, option, run_options

log = logging.getLogger(__name__)


def check_config(cfg: DictConfig | Mapping) -> None:
    """Raise one :class:`InputError` listing every problem of ``cfg``; log the memory
    estimate when there is none."""
    problems, estimate, available = _check(cfg)
    if problems:
        raise InputError("\n".join(problems))
    if estimate is not None:
        log.info("Memory: about %.2f GiB needed (estimate), %s available", estimate.gib,
                 "unknown" if available is None else f"{available / memory.GIB:.1f} GiB")


def config_problems(cfg: DictConfig | Mapping) -> list[str]:
    """Every problem of ``cfg``, one line each (empty when the config is fine)."""
    return _check(cfg)[0]


def estimate_memory(cfg: DictConfig | Mapping) -> MemoryEstimate:
    """The memory the run of ``cfg`` needs (:func:`forecast.runs.memory.estimate_memory`);
    raises :class:`InputError` when the options it needs are not valid."""
    try:
        return memory.estimate_memory(_plain(cfg))
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as err:
        raise InputError("\n".join(_check(cfg)[0]) or f"config: cannot estimate memory ({err})"
                         ) from None


def _plain(cfg) -> dict:
    if isinstance(cfg, DictConfig):
        return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    return dict(cfg)


def _check(cfg) -> tuple[list[str], MemoryEstimate | None, int | None]:
    try:
        conf = _plain(cfg)
    except Exception as err:  # noqa: BLE001 - an interpolation that does not resolve
        return [f"config: cannot resolve the configuration ({err}); expected every ${{...}} "
                "to name an existing option."], None, None
    problems = check(conf, run_options(conf))
    if option(conf, "task") not in TASKS:
        return problems, None, None
    try:  # also beside other problems, where the options it needs are whole numbers
        estimate = memory.estimate_memory(conf)
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError):
        return problems, None, None
    available = memory.available_memory()
    if available is not None and estimate.bytes > available:
        name, value, expected = memory.memory_problem(conf, estimate, available)
        problems.append(f"config, {name}: got {shown(value)}; expected {expected}.")
    return problems, estimate, available
