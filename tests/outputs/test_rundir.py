"""Full disks and unwritable directories give a clear error and keep the previous results;
reading an incomplete, damaged or foreign run directory says so."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import scslab
from scslab.errors import RunDirError
from scslab.outputs import rundir
from scslab.outputs.rundir import read_manifest, read_summary, read_table, write_run

SMALL = dict(residents=50, days=20, sets=["population.units=1"])  # one unit of 50


@contextlib.contextmanager
def tmpfs(path: Path, size: str, *options: str):
    """A small tmpfs at ``path`` (root only); yields False where it cannot be mounted."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        yield False
        return
    opts = ",".join([f"size={size}", *options])
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)],
                       capture_output=True)
    if r.returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _fill(disk: Path, leave: int) -> None:
    """Fill the file system at ``disk`` until about ``leave`` bytes are free."""
    free = shutil.disk_usage(disk).free
    with open(disk / "filler", "wb") as f:
        with contextlib.suppress(OSError):
            f.write(b"\0" * max(0, free - leave))


def _assert_previous_intact(out: Path, residents: int) -> None:
    manifest = read_manifest(out)
    assert manifest["residents"] == residents and manifest["complete"]
    assert len(read_table(out, "timeseries")) == 20
    # no half-written run beside it (a resumable checkpoint, .NAME.partial, may stay)
    leftovers = [p.name for p in out.parent.iterdir()
                 if p.name.startswith(f".{out.name}.") and not p.name.endswith(".partial")]
    assert leftovers == [], leftovers


def test_disk_full_part_way_keeps_the_previous_run(tmp_path, monkeypatch):
    disk = tmp_path / "disk"
    with tmpfs(disk, "2m") as mounted:
        out = disk / "run"
        scslab.run("minimal", out=out, **SMALL)
        if mounted:
            _fill(disk, leave=16_000)  # room for a table or two, not for a traced tiny run
        else:  # equivalent: the second table write finds the disk full
            real = pd.DataFrame.to_parquet
            calls = []

            def full_after_first(self, *a, **k):
                calls.append(1)
                if len(calls) > 1:
                    raise OSError(errno.ENOSPC, "No space left on device")
                return real(self, *a, **k)

            monkeypatch.setattr(pd.DataFrame, "to_parquet", full_after_first)
        monkeypatch.setenv("SCSLAB_BUDGET", "off")  # let the write itself meet the full disk
        with pytest.raises(RunDirError) as e:
            scslab.run("tiny", out=out, residents=3000, days=20, trace=True, force=True)
        msg = str(e.value)
        assert "the disk is full" in msg and "previous results there are intact" in msg
        _assert_previous_intact(out, residents=50)


def test_disk_full_through_the_cli_exits_2_and_keeps_the_previous_run(tmp_path):
    disk = tmp_path / "disk"
    with tmpfs(disk, "2m") as mounted:
        if not mounted:
            pytest.skip("needs root to mount a tmpfs (the in-process test covers the rest)")
        out = disk / "run"
        scslab.run("minimal", out=out, **SMALL)
        _fill(disk, leave=16_000)
        cmd = [sys.executable, "-m", "scslab", "run", "tiny", "--residents", "3000",
               "--days", "20", "--trace", "--out", str(out), "-q", "--force"]
        # first the budget sees the disk is too small ...
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert "on disk" in r.stderr and "without --trace" in r.stderr
        # ... and without it, the write meets the full disk and changes nothing
        r = subprocess.run(cmd, capture_output=True, text=True,
                           env=dict(os.environ, SCSLAB_BUDGET="off"))
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert re.search("the disk is full|No space left on device", r.stderr), r.stderr
        _assert_previous_intact(out, residents=50)


def test_unwritable_directory_is_a_clear_error(tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    with tmpfs(ro, "100k", "ro") as mounted:
        if mounted:  # refused before any work, whatever the budget says
            monkeypatch.setenv("SCSLAB_BUDGET", "off")
            with pytest.raises(RunDirError, match="cannot write in .*the file system is "
                                                  "read-only"):
                scslab.run("minimal", out=ro / "run", **SMALL)
            assert not (ro / "run").exists()
    blocker = tmp_path / "afile"
    blocker.write_text("not a directory")
    with pytest.raises(RunDirError, match="cannot create it: .*afile is not a directory"):
        scslab.run("minimal", out=blocker / "sub" / "run", **SMALL)
    assert blocker.read_text() == "not a directory"


def test_an_interrupted_write_leaves_no_trace(tmp_path, monkeypatch):
    out = tmp_path / "run"
    scslab.run("minimal", out=out, **SMALL)

    def interrupted(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_parquet", interrupted)
    with pytest.raises(KeyboardInterrupt):
        scslab.run("minimal", out=out, residents=60, days=20, sets=["population.units=1"])
    _assert_previous_intact(out, residents=50)


@pytest.fixture
def good_run(tmp_path):
    out = tmp_path / "run"
    scslab.run("minimal", out=out, **SMALL)
    return out


def _edit_manifest(run: Path, **changes):
    mf = run / "manifest.json"
    m = json.loads(mf.read_text())
    m.update(changes)
    mf.write_text(json.dumps(m))


@pytest.mark.parametrize("damage,needle", [
    (lambda r: (r / "manifest.json").unlink(), "not a scslab run directory"),
    (lambda r: _edit_manifest(r, complete=False), "the run is incomplete"),
    (lambda r: _edit_manifest(r, format_version=99),
     "written by run-directory format 99, this scslab reads format 1; re-run"),
    (lambda r: (r / "manifest.json").write_text("{not json"), "unreadable manifest"),
    (lambda r: (r / "manifest.json").write_text("[1, 2]"), "not a scslab manifest"),
    (lambda r: (r / "timeseries.parquet").unlink(), "the timeseries table is missing"),
    (lambda r: (r / "timeseries.parquet").write_bytes(b"PAR1 truncated"),
     "the timeseries table is missing or damaged"),
    (lambda r: (r / "summary.json").unlink(), "the summary is missing or damaged"),
    (lambda r: _edit_manifest(r, scenario={"name": "old", "retired_field": 1},
                              versions={"scslab": "0.0.1"}),
     "its scenario cannot be read by this scslab .* written by scslab 0.0.1"),
])
def test_reading_a_damaged_or_foreign_run_says_so(good_run, damage, needle):
    assert scslab.load_run(good_run).summary["residents"] == 50
    damage(good_run)
    with pytest.raises(RunDirError, match=needle):
        scslab.load_run(good_run)


def test_reading_a_missing_run_and_the_cli_summary(tmp_path, good_run):
    with pytest.raises(RunDirError, match="no such run directory"):
        read_manifest(tmp_path / "nope")
    assert read_summary(good_run)["residents"] == 50
    _edit_manifest(good_run, complete=False)
    r = subprocess.run([sys.executable, "-m", "scslab", "summary", str(good_run)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "incomplete" in r.stderr and "Traceback" not in r.stderr


def test_write_run_refuses_to_replace_what_is_not_a_run(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(RunDirError, match="exists and is not a directory"):
        write_run(f, manifest={}, summary={}, tables={})
    assert f.read_text() == "x"
    assert rundir.FORMAT_VERSION == 1
