"""A Hydra application run as a command whose configuration errors exit with status 2.

Hydra reports an override it cannot apply (``fertility.drawz=10``: no such option), a group
option that does not exist (``fertility=bogus``) or an override it cannot parse
(``scenario.name=@SUM(A1)``) with exit status 1, the status of a crash. A scheduler told
"2 = fix the input, do not retry" must see 2: :func:`run_command` runs the application with
Hydra's errors passed up (``HYDRA_FULL_ERROR``), turns those of the configuration into
:class:`forecast.core.errors.InputError` (the option named, what it got, what was expected)
and exit status 2, and hands every other error back to Hydra's own report (exit status 1).
"""

from __future__ import annotations

import os
import re
from typing import Callable

from hydra._internal.utils import run_and_report
from hydra.errors import (ConfigCompositionException, MissingConfigException,
                          OverrideParseException)
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from forecast.core.errors import InputError
from forecast.runs.exit_status import fail_input

FULL_ERROR = "HYDRA_FULL_ERROR"


def run_command(app: Callable[[], None]) -> None:
    """Run the ``@hydra.main`` function ``app`` as the process's command (see the module
    docstring); returns when it returns."""
    user_choice = os.environ.get(FULL_ERROR)
    os.environ[FULL_ERROR] = "1"
    try:
        app()
    except Exception as err:  # noqa: BLE001 - sorted below, the rest to Hydra's report
        problem = config_error(err)
        if problem is not None:
            fail_input(problem)
        _restore(user_choice)
        run_and_report(lambda: _reraise(err))
    finally:
        _restore(user_choice)


def config_error(err: BaseException) -> InputError | None:
    """Hydra's error composing the configuration as an :class:`InputError` naming the
    option; None for any other error."""
    if isinstance(err, OverrideParseException):
        option = err.override.split("=", 1)[0].lstrip("+~")
        value = err.override.split("=", 1)[1] if "=" in err.override else ""
        detail = next((line for line in str(err.message).splitlines()
                       if line.strip() and "hydra.cc" not in line), "a syntax error")
        return InputError(f"config, {option}: got {value!r}, which the command line cannot "
                          f"read ({detail}); expected a value in Hydra's override grammar: "
                          f"quote text, e.g. \"{option}='{value}'\".")
    if isinstance(err, MissingConfigException):
        missing = str(err.missing_cfg_file or "")
        group, _, choice = missing.rpartition("/")
        if group and err.options:
            return InputError(f"config, {group}: got {choice!r}; expected one of "
                              f"{', '.join(sorted(err.options))}.")
        return InputError(f"config: {_one_line(err)}")
    if isinstance(err, ConfigCompositionException):
        cause = err.__cause__
        if isinstance(cause, OmegaConfBaseException):
            key = getattr(cause, "full_key", None) or _quoted_key(str(err))
            first = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
            if isinstance(cause, (ConfigKeyError, ConfigAttributeError)):
                return InputError(f"config, {key}: no such option ({first}); expected an "
                                  "option the configuration has (configs/ and the README's "
                                  "Configuration section list them).")
            return InputError(f"config, {key}: {first}; {_one_line(err)}.")
        return InputError(f"config: {_one_line(err)}")
    return None


def _quoted_key(text: str) -> str:
    found = re.search(r"'([^']+)'", text)
    return found.group(1) if found else "?"


def _one_line(err: BaseException) -> str:
    return " ".join(line.strip() for line in str(err).splitlines() if line.strip())


def _reraise(err: BaseException) -> None:
    raise err


def _restore(value: str | None) -> None:
    if value is None:
        os.environ.pop(FULL_ERROR, None)
    else:
        os.environ[FULL_ERROR] = value
