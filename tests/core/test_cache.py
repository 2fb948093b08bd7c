"""The content-addressed cache: a key changes with any part of its content, a stored result
is served back, a damaged entry is computed again, a failed write costs nothing."""

from __future__ import annotations

import numpy as np
import pytest

import os

from forecast.core.cache import KEEP, cached, content_key

PARTS = {"model": "M", "values": np.arange(6.0).reshape(2, 3), "settings": {"a": 1, "b": [1, 2]}}


def test_the_key_is_stable_and_changes_with_every_part():
    assert content_key(PARTS) == content_key({**PARTS, "settings": {"b": [1, 2], "a": 1}})
    changed = [
        {**PARTS, "model": "N"},
        {**PARTS, "values": PARTS["values"] + np.eye(2, 3) * 1e-12},  # one value, one ulp-ish
        {**PARTS, "values": PARTS["values"].reshape(3, 2)},           # same bytes, other shape
        {**PARTS, "values": PARTS["values"].astype(np.float32)},
        {**PARTS, "settings": {"a": 2, "b": [1, 2]}},
        {**PARTS, "settings": {"a": 1, "b": [2, 1]}},
    ]
    keys = {content_key(p) for p in changed}
    assert len(keys) == len(changed) and content_key(PARTS) not in keys


def _store(tmp_path, key, value, calls):
    def compute():
        calls.append(key)
        return value

    return cached(tmp_path, "thing", key, compute,
                  save=lambda v, p: p.write_text(str(v)), load=lambda p: int(p.read_text()))


def test_a_stored_result_is_served_back_and_a_damaged_one_recomputed(tmp_path):
    calls = []
    value, path, hit = _store(tmp_path, "k1", 7, calls)
    assert (value, hit, calls) == (7, False, ["k1"]) and path == tmp_path / "thing-k1.nc"
    value, _, hit = _store(tmp_path, "k1", 8, calls)
    assert (value, hit, calls) == (7, True, ["k1"])          # served, not computed
    path.write_text("not a number")                          # damaged
    value, _, hit = _store(tmp_path, "k1", 9, calls)
    assert (value, hit) == (9, False) and path.read_text() == "9"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thing-k1.nc"]  # no temporary left


def test_a_cache_that_cannot_be_written_still_gives_the_result(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("x")  # a file where the folder should be
    calls = []
    value, _, hit = cached(blocked / "cache", "thing", "k", lambda: calls.append(1) or 5,
                           save=lambda v, p: p.write_text(str(v)), load=lambda p: 0)
    assert (value, hit, calls) == (5, False, [1])


@pytest.mark.parametrize("bad", [OSError("disk full"), RuntimeError("NetCDF: HDF error")])
def test_a_failed_write_leaves_no_partial_entry(tmp_path, bad):
    def save(value, path):
        path.write_text("partial")
        raise bad

    value, path, hit = cached(tmp_path, "thing", "k", lambda: 3, save=save, load=int)
    assert (value, hit) == (3, False) and list(tmp_path.iterdir()) == []


def test_the_least_recently_used_entries_beyond_keep_are_removed(tmp_path):
    """KEEP + 3 entries written one after another, the first served again before the last
    three: the three least recently used go, the served one stays; other kinds are untouched."""
    calls = []
    other = tmp_path / "other-k.nc"
    other.write_text("1")
    for i in range(KEEP + 3):
        if i == KEEP:
            assert _store(tmp_path, "k0", 0, calls)[2]  # served: now the most recently used
        _store(tmp_path, f"k{i}", i, calls)
        os.utime(tmp_path / f"thing-k{i}.nc", ns=(i * 10**9, i * 10**9))  # distinct times
        if i == KEEP - 1:
            os.utime(tmp_path / "thing-k0.nc", ns=(0, 0))
    kept = {p.name for p in tmp_path.glob("thing-*.nc")}
    assert len(kept) == KEEP and "thing-k0.nc" in kept
    assert {"thing-k1.nc", "thing-k2.nc"} & kept == set() and other.is_file()
