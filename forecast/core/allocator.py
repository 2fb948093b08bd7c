"""Keep freed memory in the process for reuse (glibc's allocator), instead of returning it
to the system and having the next array of the same size fault its pages in afresh.

A run allocates and frees arrays of a few MB to a few hundred MB by the thousand (a step's
temporaries, a block's indicators, a chunk of the demand stage). By default glibc hands
blocks above a moving threshold back to the system when they are freed, and every page of
the next such array is then faulted in and zeroed by the kernel again, which on some
virtual machines costs more than the arithmetic done on it
(experiments/benchmarks/README.md: the system time of a run). :func:`keep_freed_memory`
sets the largest threshold glibc allows for serving blocks from its heap (32 MiB) and lets
the heap keep what is freed; the process then holds up to its peak memory until it ends,
which it reaches anyway. Elsewhere than glibc on Linux it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

#: mallopt parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: glibc's largest mmap threshold on 64-bit systems (DEFAULT_MMAP_THRESHOLD_MAX).
MMAP_THRESHOLD_MAX = 32 * 2**20
#: Free memory at the top of the heap kept rather than returned (bytes; mallopt's largest).
TRIM_THRESHOLD = 2**31 - 1


def keep_freed_memory() -> bool:
    """Tune glibc's allocator as the module docstring says; True where it was tuned."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    tuned = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX) == 1
    return mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and tuned
