"""Worker processes for parallel MCMC chains that end when the run ends.

PyMC runs each chain in a child process. Its children are terminated when the main
process exits normally or by an exception, but a main process that is killed outright
(SIGKILL, or a crash) would leave them running. The context below forks children that ask
the Linux kernel to send them SIGKILL when their parent dies (``PR_SET_PDEATHSIG``);
elsewhere it is the ordinary fork context.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing.context
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """In a child: be killed when the parent process goes (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


class _ChainProcess(multiprocessing.context.ForkProcess):
    def start(self) -> None:
        self._parent_pid = os.getpid()
        super().start()

    def run(self) -> None:
        _die_with_parent(self._parent_pid)
        super().run()


class ChainContext(multiprocessing.context.ForkContext):
    """Fork context whose processes die with the process that started them."""

    Process = _ChainProcess


def chain_context() -> multiprocessing.context.BaseContext | None:
    """The multiprocessing context for PyMC's chains: :class:`ChainContext` where fork is
    available (Linux), else PyMC's default."""
    if "fork" not in multiprocessing.get_all_start_methods() or sys.platform == "darwin":
        return None
    return ChainContext()
