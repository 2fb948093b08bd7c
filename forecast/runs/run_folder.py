"""The run folder: checked before any work, replaced whole when the run is complete.

A run writes its files into a staging folder beside the run folder
(``.<name>.staging-<pid>-<random>``), created when the run starts, so an unwritable place
is found before anything is computed. When every file is complete the staging folder and the
run folder are exchanged in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere
two renames), and the previous contents are deleted. At every moment the run folder holds
exactly one complete run (or, before the first run, nothing): a second run never leaves the
first run's files beside its own, and a run that fails or is killed leaves the previous run
as it was.

The run folder may be absent, empty, or hold a previous run of this package (a ``run.json``
written by ``forecast`` and only the files a run writes); anything else is refused, so a run
can never delete a user's files. A run folder given as a symbolic link is replaced at the
folder the link points to; the link stays. Leftover staging folders of runs that were killed (their
process no longer exists) are removed when the next run starts in the same parent folder.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import re
import secrets
import shutil
import sys
from pathlib import Path
from typing import Callable

from forecast.core.errors import InputError, OutputError
from forecast.core.run_files import RUN_JSON, RUN_OUTPUTS, is_run_metadata

_STAGING = re.compile(r"^\..+\.(staging|previous)-(\d+)-[0-9a-f]+$")
#: Free space kept in reserve beyond a run's estimated output size (bytes).
RESERVE_BYTES = 50 * 2**20


def check_run_folder(out_dir: Path, option: str = "hydra.run.dir") -> None:
    """Raise :class:`InputError` unless ``out_dir`` is absent, an empty folder or a
    previous run's folder (see the module docstring)."""
    out_dir = Path(out_dir)
    for parent in [out_dir, *out_dir.parents]:
        if parent.exists() and not parent.is_dir():
            raise InputError(f"config, {option}: got {str(out_dir)!r}; {str(parent)!r} is a file, "
                             "expected a folder (or a path that does not exist yet).")
        if parent.exists():
            break
    if not out_dir.is_dir():
        return
    names = sorted(p.name for p in out_dir.iterdir())
    if not names:
        return
    foreign = [n for n in names if n not in RUN_OUTPUTS]
    if foreign or not _is_forecast_run(out_dir / RUN_JSON):
        shown = ", ".join(foreign[:5] or names[:5]) + (" ..." if len(foreign or names) > 5 else "")
        raise InputError(f"config, {option}: got {str(out_dir)!r}, a folder that holds files that "
                         f"are not a forecast run ({shown}); expected a new or empty folder, or "
                         "the folder of a previous run (which the new run replaces whole).")


def run_folder_path(out_dir: Path) -> Path:
    """The folder a run replaces: ``out_dir`` made absolute; where it is a symbolic link
    (``latest`` -> a previous run), the folder it points to, so the link stays and leads to
    the new run."""
    out_dir = Path(out_dir).absolute()
    return out_dir.resolve() if out_dir.is_symlink() else out_dir


def _is_forecast_run(run_json: Path) -> bool:
    try:
        return is_run_metadata(json.loads(run_json.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return False


class RunFolder:
    """Staging for one run's files; use as a context manager.

    ``with RunFolder(out_dir, needed_bytes) as folder: ...; folder.publish(writers)``.
    Entering checks ``out_dir`` (:func:`check_run_folder`), removes leftovers of killed runs,
    creates the staging folder and checks the free space; leaving without
    :meth:`publish` removes the staging folder and leaves ``out_dir`` untouched.
    """

    def __init__(self, out_dir: Path, needed_bytes: int = 0, option: str = "hydra.run.dir"):
        self.out_dir = run_folder_path(out_dir)
        self.needed_bytes = int(needed_bytes)
        self.option = option
        self.staging: Path | None = None

    def __enter__(self) -> "RunFolder":
        check_run_folder(self.out_dir, self.option)
        parent = self.out_dir.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            remove_leftovers(parent)
            self.staging = parent / f".{self.out_dir.name}.staging-{os.getpid()}-{secrets.token_hex(4)}"
            self.staging.mkdir()
            umask = os.umask(0)
            os.umask(umask)
            self.staging.chmod(0o777 & ~umask)
        except OSError as err:
            raise InputError(f"config, {self.option}: got {str(self.out_dir)!r}; cannot write in "
                             f"{str(parent)!r} ({err.strerror}); expected a folder this user "
                             "can write to.") from err
        free = shutil.disk_usage(parent).free
        if free < self.needed_bytes + RESERVE_BYTES:
            self.__exit__(None, None, None)
            raise InputError(f"config, {self.option}: got {str(self.out_dir)!r}; the disk has "
                             f"{free / 2**20:.0f} MiB free, expected at least "
                             f"{(self.needed_bytes + RESERVE_BYTES) / 2**20:.0f} MiB for this run's "
                             "files.")
        return self

    def __exit__(self, *exc) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None

    def publish(self, writers: dict[str, Callable[[Path], None]]) -> list[Path]:
        """Call ``writers[name](path)`` for each file in the staging folder, then make the
        staging folder the run folder in one step. Returns the published paths."""
        if self.staging is None:
            raise RuntimeError("RunFolder.publish outside its with-block")
        for name, write in writers.items():
            try:
                write(self.staging / name)
            except (OSError, RuntimeError) as err:
                # the netCDF library reports a full disk as RuntimeError("NetCDF: HDF error")
                free = shutil.disk_usage(self.staging).free
                cause = getattr(err, "strerror", None) or str(err) or type(err).__name__
                raise OutputError(f"{self.out_dir / name}: could not write ({cause}; "
                                  f"{free / 2**20:,.0f} MiB free on its disk); nothing was "
                                  "written, the run folder is as it was.") from err
        check_run_folder(self.out_dir, self.option)  # unchanged while the run computed?
        _replace_folder(self.staging, self.out_dir)
        return [self.out_dir / name for name in writers]


def _replace_folder(new: Path, target: Path) -> None:
    """Make ``new`` the folder at ``target``; ``target``'s old contents end up at ``new``
    (removed by the caller). One atomic exchange where the system supports it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        try:
            os.rename(new, target)  # nothing to replace; fails if target appeared meanwhile
            new.mkdir()  # the caller removes ``new``; keep that harmless
            return
        except OSError as err:
            if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    if _exchange(new, target):
        return
    previous = new.with_name(new.name.replace(".staging-", ".previous-"))
    os.rename(target, previous)
    os.rename(new, target)
    os.rename(previous, new)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux ``renameat2``; False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def remove_leftovers(parent: Path) -> list[Path]:
    """Remove staging folders in ``parent`` left by runs whose process no longer exists;
    a run folder that a killed run had moved aside (two-rename fallback) is put back."""
    removed = []
    for path in parent.iterdir():
        match = _STAGING.match(path.name)
        if not match or not path.is_dir() or _alive(int(match.group(2))):
            continue
        target = parent / path.name[1:path.name.rindex("." + match.group(1))]
        if match.group(1) == "previous" and not target.exists():
            os.rename(path, target)
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
