"""A content-addressed cache of fitted results: a result is stored under the SHA-256 of
everything that determines it (the model, its data and its settings), so a changed input
is a different key and can never be served a stale result.

Entries are files ``<folder>/<kind>-<sha256>.nc``, written atomically (a temporary file in
the same folder, then renamed), so concurrent runs never read a half-written entry; an
entry that cannot be read is ignored (and refitted). Each kind keeps its :data:`KEEP` most
recently used entries: writing a new one removes the least recently used beyond them (a
served entry counts as used). The folder defaults to ``$XDG_CACHE_HOME/forecast``
(``~/.cache/forecast``); deleting it is safe.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

#: Entries of one kind kept in a folder (a TFR posterior is about 5 MB).
KEEP = 16


def default_folder() -> Path:
    """``$XDG_CACHE_HOME/forecast``, or ``~/.cache/forecast``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "forecast"


def content_key(parts: dict[str, Any]) -> str:
    """SHA-256 (hex) of ``parts``: texts, numbers, lists and mappings as canonical JSON;
    NumPy arrays by the SHA-256 of their dtype, shape and bytes."""
    def plain(value):
        if isinstance(value, np.ndarray):
            array = np.ascontiguousarray(value)
            digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes())
            return {"array_sha256": digest.hexdigest()}
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, (np.integer, np.floating, np.bool_)):
            return value.item()
        return value

    text = json.dumps(plain(parts), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def cached(folder: Path, kind: str, key: str, compute: Callable[[], Any],
           save: Callable[[Any, Path], None], load: Callable[[Path], Any]
           ) -> tuple[Any, Path, bool]:
    """The result of ``compute()`` stored as ``<folder>/<kind>-<key>.nc``: loaded with
    ``load(path)`` where present and readable, else computed and saved with
    ``save(result, path)`` (atomically). Returns (result, path, whether it was loaded)."""
    path = Path(folder) / f"{kind}-{key}.nc"
    if path.is_file():
        try:
            result = load(path)
        except (OSError, ValueError, KeyError):
            pass  # damaged entry: computed again and replaced
        else:
            _touch(path)
            return result, path, True
    result = compute()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save(result, temporary)
        os.replace(temporary, path)
    except (OSError, RuntimeError):  # the netCDF library reports a full disk as RuntimeError
        try:  # a cache not written costs a refit next time, nothing else
            temporary.unlink(missing_ok=True)
        except OSError:
            pass
    else:
        prune(Path(folder), kind)
    return result, path, False


def _touch(path: Path) -> None:
    """Mark an entry as used now (its modification time), where the folder allows it."""
    try:
        os.utime(path)
    except OSError:
        pass


def prune(folder: Path, kind: str, keep: int = KEEP) -> list[Path]:
    """Remove the entries of ``kind`` in ``folder`` beyond the ``keep`` most recently used
    (by modification time); returns those removed. An entry another process removes or
    replaces meanwhile is left alone."""
    entries = []
    for entry in folder.glob(f"{kind}-*.nc"):
        try:
            entries.append((entry.stat().st_mtime_ns, entry))
        except OSError:
            continue
    removed = []
    for _, entry in sorted(entries, reverse=True)[keep:]:
        try:
            entry.unlink()
            removed.append(entry)
        except OSError:
            pass
    return removed
