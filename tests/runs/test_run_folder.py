"""The run folder always holds exactly one complete run: whole-folder replacement, failures
and kills that leave the previous run, leftovers cleaned up, foreign folders refused."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from forecast.core.errors import InputError, OutputError
from forecast.runs import run_folder
from forecast.runs.run_folder import RunFolder, remove_leftovers


def _run_files(tag: str, names=("forecast.csv", "demand.csv")) -> dict:
    """Writers of a fake run: every file holds ``tag``; run.json marks it as forecast's."""
    writers = {n: (lambda p, n=n: p.write_text(f"{tag} {n}")) for n in names}
    writers["run.json"] = lambda p: p.write_text(json.dumps({"package": "forecast", "tag": tag}))
    return writers


def _tags(folder: Path) -> set[str]:
    """The run tags of the files in ``folder``, read through one handle on the folder, so
    that a folder swapped while it is read is read whole or not at all."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        tags = set()
        for name in os.listdir(fd):
            with open(os.open(name, os.O_RDONLY, dir_fd=fd)) as f:
                text = f.read()
            tags.add(json.loads(text)["tag"] if name == "run.json" else text.split()[0])
        return tags
    finally:
        os.close(fd)


def test_a_new_run_replaces_the_previous_one_whole(tmp_path):
    out = tmp_path / "run"
    with RunFolder(out) as folder:
        folder.publish(_run_files("first", ("forecast.csv", "demand.csv", "posterior.nc")))
    with RunFolder(out) as folder:
        written = folder.publish(_run_files("second", ("forecast.csv",)))
    assert sorted(p.name for p in out.iterdir()) == ["forecast.csv", "run.json"]
    assert _tags(out) == {"second"} and written == [out / "forecast.csv", out / "run.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no staging folder left


def test_an_empty_folder_the_user_made_is_used(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    with RunFolder(out) as folder:
        folder.publish(_run_files("a"))
    assert _tags(out) == {"a"}


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_a_failed_write_leaves_the_previous_run(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(run_folder, "_exchange", lambda a, b: False)
    out = tmp_path / "run"
    with RunFolder(out) as folder:
        folder.publish(_run_files("old"))

    def disk_full(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OutputError, match="No space left"):
        with RunFolder(out) as folder:
            folder.publish({**_run_files("new"), "demand.csv": disk_full})
    assert _tags(out) == {"old"}
    with RunFolder(out) as folder:  # the fallback swap works too
        folder.publish(_run_files("newer"))
    assert _tags(out) == {"newer"}
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_a_netcdf_file_that_cannot_be_written_is_an_output_error(tmp_path, monkeypatch):
    """The netCDF library reports a full disk as RuntimeError("NetCDF: HDF error"), not an
    OSError: the run must still end as 'could not write' (exit status 3), the file named."""
    import xarray as xr

    from forecast.core.writers import netcdf_writer

    out = tmp_path / "run"
    with RunFolder(out) as folder:
        folder.publish(_run_files("old"))

    def hdf_error(self, *args, **kwargs):
        raise RuntimeError("NetCDF: HDF error")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", hdf_error)
    with pytest.raises(OutputError, match=r"projection\.nc: could not write \(NetCDF: HDF "
                                          r"error; [\d,]+ MiB free"):
        with RunFolder(out) as folder:
            folder.publish({**_run_files("new"),
                            "projection.nc": netcdf_writer(xr.Dataset({"x": ("a", [1.0])}))})
    assert _tags(out) == {"old"}
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_a_run_folder_given_as_a_symbolic_link_is_replaced_at_its_target(tmp_path):
    """``hydra.run.dir=links/latest`` -> runs/1: the new run replaces runs/1, the link
    stays a link to it, and nothing is left behind beside the link or the target."""
    target, links = tmp_path / "runs" / "1", tmp_path / "links"
    with RunFolder(target) as folder:
        folder.publish(_run_files("old"))
    links.mkdir()
    (links / "latest").symlink_to(target)
    with RunFolder(links / "latest") as folder:
        folder.publish(_run_files("new"))
    assert (links / "latest").is_symlink() and (links / "latest").resolve() == target
    assert _tags(target) == {"new"}
    assert [p.name for p in links.iterdir()] == ["latest"]
    assert [p.name for p in target.parent.iterdir()] == ["1"]


def test_an_error_while_computing_writes_nothing(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ZeroDivisionError):
        with RunFolder(out):
            1 / 0
    assert list(tmp_path.iterdir()) == []


def test_folders_that_are_not_a_run_are_refused(tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    (own / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="notes.txt"):
        RunFolder(own).__enter__()
    assert (own / "notes.txt").read_text() == "mine"
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "forecast.csv").write_text("not from a run: no run.json")
    with pytest.raises(InputError, match="not a forecast run"):
        RunFolder(fake).__enter__()
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for target in (a_file, a_file / "below"):
        with pytest.raises(InputError, match="is a file"):
            RunFolder(target).__enter__()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake", "file", "own"]


def test_too_little_disk_space_is_found_before_the_run(tmp_path):
    with pytest.raises(InputError, match="MiB free"):
        RunFolder(tmp_path / "run", needed_bytes=2**62).__enter__()
    assert list(tmp_path.iterdir()) == []


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_killed_runs_are_removed_and_live_ones_kept(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    stale = tmp_path / f".run.staging-{dead}-0a1b2c3d"
    live = tmp_path / f".other.staging-{alive}-0a1b2c3d"
    moved_aside = tmp_path / f".kept.previous-{dead}-0a1b2c3d"
    for folder in (stale, live, moved_aside):
        folder.mkdir()
        (folder / "projection.nc").write_bytes(b"x" * 1000)
    assert remove_leftovers(tmp_path) == [stale]
    assert live.is_dir() and not stale.exists()
    # a run folder moved aside by a run killed between its two renames is put back
    assert (tmp_path / "kept" / "projection.nc").is_file() and not moved_aside.exists()


KILLED_WRITER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from forecast.runs.run_folder import RunFolder
    with RunFolder(Path(sys.argv[1])) as folder:
        def slow(path):
            path.write_text("new partial")
            print("writing", flush=True)
            time.sleep(60)
        folder.publish({"forecast.csv": slow,
                        "run.json": lambda p: p.write_text(json.dumps({"package": "forecast"}))})
""")


def test_a_run_killed_while_writing_leaves_the_previous_run_and_no_leftovers(tmp_path):
    out = tmp_path / "run"
    with RunFolder(out) as folder:
        folder.publish(_run_files("old"))
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(out)],
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "writing"
    writer.kill()
    writer.wait()
    assert _tags(out) == {"old"}
    assert len(list(tmp_path.iterdir())) == 2  # the run and the killed run's staging folder
    with RunFolder(out) as folder:
        folder.publish(_run_files("next"))
    assert [p.name for p in tmp_path.iterdir()] == ["run"] and _tags(out) == {"next"}


CONCURRENT_WRITER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from forecast.runs.run_folder import RunFolder
    out, tag = Path(sys.argv[1]), sys.argv[2]
    for i in range(15):
        with RunFolder(out) as folder:
            folder.publish({
                "forecast.csv": lambda p: p.write_text(f"{tag}-{i} forecast"),
                "demand.csv": lambda p: p.write_text(f"{tag}-{i} demand"),
                "run.json": lambda p: p.write_text(json.dumps({"package": "forecast",
                                                               "tag": f"{tag}-{i}"})),
            })
""")


def test_concurrent_runs_into_one_folder_never_mix_their_files(tmp_path):
    out = tmp_path / "run"
    with RunFolder(out) as folder:
        folder.publish(_run_files("start"))
    writers = [subprocess.Popen([sys.executable, "-c", CONCURRENT_WRITER, str(out), tag])
               for tag in ("a", "b")]
    seen = 0
    while any(w.poll() is None for w in writers):
        try:
            tags = _tags(out)
        except (FileNotFoundError, json.JSONDecodeError, IndexError):
            continue  # the folder was swapped while being read: read it again
        if not tags:
            continue  # the folder held was the previous run's, removed while being read
        assert len(tags) == 1, f"files of different runs in one folder: {tags}"
        seen += 1
        time.sleep(0.001)
    assert all(w.returncode == 0 for w in writers)
    assert len(_tags(out)) == 1 and seen > 0
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
