"""Exit status of the command lines (``forecast``, ``forecast-report``) and their stop signals.

0 when the run wrote its files; 2 for bad input or configuration (the message names the file
or option); 3 when the files could not be written; 128 + the signal number when the run was
interrupted (130 for Ctrl-C, 143 for SIGTERM).
"""

from __future__ import annotations

import signal
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

from forecast.core.errors import InputError, Interrupted, OutputError

EXIT_INPUT, EXIT_OUTPUT = 2, 3
#: Signals that stop a run cleanly (as Ctrl-C does): the run fails and writes nothing.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

#: Stop signals received during the current run.
_received: list[int] = []


def stop(signum: int, frame) -> None:
    """Signal handler: stop the run as Ctrl-C would (PyMC stops its chains on it)."""
    _received.append(signum)
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """Within the block, every signal of :data:`STOP_SIGNALS` interrupts the run as Ctrl-C;
    the previous handlers are restored after it."""
    previous = {s: signal.signal(s, stop) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def exit_for(err: BaseException, cleanup: Callable[[], None] = lambda: None) -> None:
    """Exit with the documented status for known failures (after ``cleanup`` for bad
    input); return for unexpected ones."""
    input_error = cause(err, InputError)
    if input_error is not None:
        fail_input(input_error, cleanup)
    output_error = cause(err, OutputError)
    if output_error is not None:
        print(f"OutputError: {output_error}", file=sys.stderr)
        sys.exit(EXIT_OUTPUT)
    if _received or isinstance(err, KeyboardInterrupt) or cause(err, Interrupted):
        signum = _received[0] if _received else signal.SIGINT
        print(f"Interrupted ({signal.Signals(signum).name}): the run stopped; nothing was "
              "written.", file=sys.stderr)
        sys.exit(128 + signum)


def fail_input(err: InputError, cleanup: Callable[[], None] = lambda: None) -> None:
    """Print ``err`` and exit with status 2, after ``cleanup``."""
    cleanup()
    print(f"InputError: {err}", file=sys.stderr)
    sys.exit(EXIT_INPUT)


def cause(err: BaseException | None, kind: type) -> BaseException | None:
    """The ``kind`` exception behind ``err`` (Hydra's instantiate wraps what a loader raises)."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, kind):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None
