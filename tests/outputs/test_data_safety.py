"""Nothing a user owns is deleted or overwritten, two runs are never mixed, and a killed
write is recovered: each class through the command line, as a user meets it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import scslab
from scslab import api
from scslab.engine.layout import UnitOutputs
from scslab.engine.runner import run_units
from scslab.errors import RunDirError
from scslab.files import hold_lock, lock_path, swap_into_place
from scslab.outputs import rundir
from scslab.outputs.checkpoint import Checkpoint, checkpoint_path, save_shard, shard_file
from scslab.outputs.rundir import read_manifest, recover_leftovers, write_run
from scslab.run.distributed import shard_plan
from scslab.scenario.loader import scenario_data, scenario_hash

SMALL = ["--residents", "50", "--days", "10", "--set", "population.units=1", "-q"]
SMALL_API = dict(residents=50, days=10, sets=["population.units=1"])


def scslab_cli(*args, cwd=None, env=None) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "scslab", *map(str, args)], capture_output=True,
                       text=True, cwd=cwd, env=env, timeout=600)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def refused(r, *needles) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.startswith("error: "), r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


# ---------------------------------------------------------------- what may be replaced


def test_a_folder_with_someone_elses_manifest_is_never_replaced(tmp_path):
    out = tmp_path / "project"
    out.mkdir()
    (out / "manifest.json").write_text('{"name": "my web app", "version": 3}')
    (out / "notes.txt").write_text("a year of notes")
    before = snapshot(out)
    r = scslab_cli("run", "minimal", "--out", out, *SMALL)
    refused(r, "manifest.json that is not a scslab run's", "only replaces its own")
    assert snapshot(out) == before


def test_a_run_holding_a_users_file_is_never_replaced(tmp_path):
    out = tmp_path / "run"
    scslab.run("minimal", out=out, **SMALL_API)
    (out / "analysis.ipynb").write_text('{"cells": []}')
    before = snapshot(out)
    r = scslab_cli("run", "minimal", "--out", out, *SMALL)
    refused(r, "holds files scslab did not write (analysis.ipynb)", "will not delete them")
    assert snapshot(out) == before
    # --force does not change that: it is only about runs of another scenario
    refused(scslab_cli("run", "tiny", "--out", out, "--force", *SMALL), "analysis.ipynb")
    assert snapshot(out) == before


def test_a_run_of_another_scenario_is_replaced_only_with_force(tmp_path):
    out = tmp_path / "run"
    scslab.run("minimal", out=out, **SMALL_API)
    before = snapshot(out)
    refused(scslab_cli("run", "tiny", "--out", out, *SMALL),
            "holds a run of scenario 'minimal', not 'tiny'", "--force")
    assert snapshot(out) == before
    # the same scenario again replaces it (a re-run is the normal case) ...
    r = scslab_cli("run", "minimal", "--out", out, "--seed", "9", *SMALL)
    assert r.returncode == 0, r.stderr
    assert read_manifest(out)["seed"] == 9
    # ... and --force allows another one; from Python, force=True
    r = scslab_cli("run", "tiny", "--out", out, "--force", *SMALL)
    assert r.returncode == 0, r.stderr
    assert read_manifest(out)["scenario_name"] == "tiny"
    with pytest.raises(RunDirError, match="not 'minimal'"):
        scslab.run("minimal", out=out, **SMALL_API)
    scslab.run("minimal", out=out, force=True, **SMALL_API)
    assert read_manifest(out)["scenario_name"] == "minimal"


def test_a_batch_of_another_scenario_is_replaced_only_with_force(tmp_path):
    out = tmp_path / "reps"
    r = scslab_cli("run", "minimal", "--replicates", "2", "--out", out, *SMALL)
    assert r.returncode == 0, r.stderr
    refused(scslab_cli("run", "tiny", "--replicates", "2", "--out", out, *SMALL),
            "holds a batch of scenario 'minimal', not 'tiny'")
    refused(scslab_cli("run", "tiny", "--out", out / "rep-000", *SMALL), "--force")
    refused(scslab_cli("run", "minimal", "--out", out, *SMALL), "no manifest.json")


# ---------------------------------------------------------------- two runs never mix


def test_a_target_another_process_writes_is_refused(tmp_path):
    out = tmp_path / "run"
    with hold_lock(out):
        assert lock_path(out).is_file()
        refused(scslab_cli("run", "minimal", "--out", out, *SMALL),
                f"pid {os.getpid()}", "another scslab process", "is writing there now")
        assert not out.exists()
    assert not lock_path(out).exists()
    r = scslab_cli("run", "minimal", "--out", out, *SMALL)
    assert r.returncode == 0, r.stderr
    assert not lock_path(out).exists()  # released and removed when the run is written


def _killed_run(out: Path, scenario="minimal", **options):
    """The checkpoint a run to ``out`` leaves when killed before any shard was saved."""
    cm = api.prepare(scenario, **options)
    plan = shard_plan(cm, 2)
    Checkpoint.create(out, {"scenario": scenario_data(cm.scenario),
                            "scenario_hash": scenario_hash(cm.scenario),
                            "seed": cm.scenario.seed, "trace": bool(cm.arrays.trace),
                            "plan": plan, "scale": 1.0, "command": "test"})
    return cm, plan


def test_a_shard_of_another_run_is_never_counted(tmp_path):
    out = tmp_path / "run"
    cm, plan = _killed_run(out, residents=100, days=10, sets=["population.units=2"])
    other = api.prepare("minimal", residents=100, days=10, seed=7,
                        sets=["population.units=2"])
    folder = checkpoint_path(out)
    foreign = {"scenario_hash": scenario_hash(other.scenario), "seed": 7}
    save_shard(folder, 0, run_units(other, plan[0]), foreign)
    refused(scslab_cli("run", "--resume", out), "shard-00000.npz: belongs to another run",
            "seed 7", "start the run again")
    save_shard(folder, 0, run_units(other, plan[0]))  # written without a stamp
    refused(scslab_cli("run", "--resume", out), "an unstamped shard")
    # its own shard, stamped, resumes; the result is the uninterrupted run's
    save_shard(folder, 0, run_units(cm, plan[0]), Checkpoint.open(out).stamp)
    r = scslab_cli("run", "--resume", out, "-q")
    assert r.returncode == 0, r.stderr
    resumed = scslab.load_run(out)
    assert resumed.manifest["resumed"] is True
    plain = api.run("minimal", residents=100, days=10, sets=["population.units=2"])
    np.testing.assert_array_equal(resumed.timeseries["records_created"],
                                  plain.timeseries["records_created"])


def test_resume_refuses_the_flags_it_would_ignore(tmp_path):
    out = tmp_path / "run"
    _killed_run(out, residents=100, days=10)
    refused(scslab_cli("run", "--resume", out, "--seed", "3", "--set", "days=5"),
            "takes no --seed, --set", "drop them")
    refused(scslab_cli("run", "tiny", "--resume", out), "takes no SCENARIO")
    refused(scslab_cli("run", "--resume", out, "--out", tmp_path / "x", "--replicates", "2"),
            "--out, --replicates")
    assert (checkpoint_path(out) / "checkpoint.json").is_file()  # untouched


# ---------------------------------------------------------------- killed writes


def test_leftovers_of_a_killed_write_are_recovered_before_the_next(tmp_path):
    """A kill between moving the old results aside and the new ones in leaves NAME
    missing and the old results hidden in .NAME.old-*: they are reachable and restored."""
    out = tmp_path / "run"
    scslab.run("minimal", out=out, **SMALL_API)
    previous = snapshot(out)
    old = tmp_path / ".run.old-0123abcd"
    out.rename(old)
    (tmp_path / ".run.tmp-89abcdef").mkdir()
    (tmp_path / ".run.tmp-89abcdef" / "timeseries.parquet").write_bytes(b"PAR1 half")
    (tmp_path / ".run.partial.done-deadbeef").mkdir()
    with pytest.raises(RunDirError, match=r"previous results in .*\.run\.old-"):
        read_manifest(out)
    # a run of another scenario: the previous results are restored, then it is refused
    refused(scslab_cli("run", "tiny", "--out", out, *SMALL), "holds a run of scenario")
    assert snapshot(out) == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_the_fallback_without_an_atomic_exchange_is_recoverable(tmp_path, monkeypatch):
    new, path = tmp_path / "new", tmp_path / "path"
    for d, text in ((new, "new"), (path, "old")):
        d.mkdir()
        (d / "f").write_text(text)
    gone = swap_into_place(new, path)  # renameat2(RENAME_EXCHANGE) where the system can
    assert (path / "f").read_text() == "new" and (gone / "f").read_text() == "old"
    # where it cannot, the old directory is renamed aside first; a kill there leaves it
    # hidden, and recovery restores it
    from scslab import files

    monkeypatch.setattr(files, "_exchange", lambda a, b: False)
    gone.rename(new)
    real = os.rename
    calls = []

    def killed_after_first(a, b):
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit("killed")  # stands for SIGKILL: nothing after this runs
        return real(a, b)

    monkeypatch.setattr(os, "rename", killed_after_first)
    with pytest.raises(SystemExit):
        swap_into_place(new, path)
    monkeypatch.setattr(os, "rename", real)
    # (swap_into_place puts it back itself when it can; a real kill cannot)
    if path.exists():
        path.rename(tmp_path / ".path.old-0badcafe")
    assert not path.exists()
    assert recover_leftovers(path)[0].startswith("restored the previous results")
    assert (path / "f").read_text() == "new"


def test_every_file_of_a_run_is_flushed_to_disk(tmp_path, monkeypatch):
    rr = api.run("minimal", **SMALL_API)
    synced = []
    real = os.fsync

    def spy(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    out = write_run(tmp_path / "run", manifest=rr.manifest, summary=rr.summary,
                    tables=rr.tables())
    names = {Path(p).name for p in synced}
    for f in out.iterdir():
        assert f.name in names, f"{f.name} was not flushed"
    assert any(Path(p).name.startswith(".run.tmp-") for p in synced)  # the folder itself
    assert str(tmp_path) in synced  # and the parent, after the rename


# ---------------------------------------------------------------- --out before any work


def _unwritable(tmp_path):
    ro = Path("/proc/scslab-test-run")  # a file system where nothing can be created
    return ro, "cannot write in"


@pytest.mark.parametrize("case", ["file", "root", "device", "empty", "too-long", "cwd",
                                  "symlink", "unwritable", "mount"])
def test_out_is_checked_before_any_work(tmp_path, case):
    """documented-china (1.4 billion residents) would take minutes to prepare and be
    refused by the budget: these are refused at once, for the --out alone."""
    afile = tmp_path / "afile"
    afile.write_text("mine")
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    out, needle = {
        "file": (afile, "exists and is not a directory"),
        "root": (Path("/"), "the root of the file system"),
        "device": (Path("/dev/null"), "exists and is not a directory"),
        "empty": ("", "is empty"),
        "too-long": (tmp_path / ("a" * 250), "the name is too long"),
        "cwd": (Path("."), "is the current directory or holds it"),
        "symlink": (link, "is a symbolic link"),
        "unwritable": _unwritable(tmp_path),
        "mount": (Path("/proc"), "mount point"),
    }[case]
    for args in (["run", "documented-china", "--out", out],
                 ["run", "documented-china", "--replicates", "2", "--out", out]):
        r = scslab_cli(*args, cwd=tmp_path)
        assert r.returncode == 2, (case, r.stderr)
        assert needle in r.stderr, (case, r.stderr)
    assert afile.read_text() == "mine" and not (tmp_path / "elsewhere").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "link"]


def test_a_sweep_value_cannot_write_outside_out(tmp_path):
    out = tmp_path / "sweep"
    for value in ("../../escaped", "a/b"):
        r = scslab_cli("run", "minimal", "--sweep", f"description={value},ok", "--out", out,
                       *SMALL)
        refused(r, "names a directory inside --out", "cannot contain '/'")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert not (tmp_path.parent / "escaped").exists()


# ---------------------------------------------------------------- damaged state


def test_damaged_state_gets_a_clear_answer(tmp_path):
    # a truncated shard file
    out = tmp_path / "run"
    cm, plan = _killed_run(out, residents=100, days=10, sets=["population.units=2"])
    save_shard(checkpoint_path(out), 0, run_units(cm, plan[0]), Checkpoint.open(out).stamp)
    f = shard_file(checkpoint_path(out), 0)
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    refused(scslab_cli("run", "--resume", out), "shard-00000.npz: this shard checkpoint is "
            "damaged", "delete the file and resume again")
    # a junk checkpoint.json
    (checkpoint_path(out) / "checkpoint.json").write_text('{"format": 2, "plan": "x"}')
    refused(scslab_cli("run", "--resume", out), "damaged checkpoint (its shard plan")

    # junk batch.json, and one with a wrong type
    reps = tmp_path / "reps"
    reps.mkdir()
    (reps / "batch.json").write_text("{ not json")
    refused(scslab_cli("run", "--resume", reps), "batch.json: unreadable")
    (reps / "batch.json").write_text(json.dumps({"scenario": "minimal", "replicates": "x"}))
    refused(scslab_cli("run", "--resume", reps), "batch.json: damaged: replicates")

    # a manifest with wrong types
    good = tmp_path / "good"
    scslab.run("minimal", out=good, **SMALL_API)
    m = json.loads((good / "manifest.json").read_text())
    for field, bad in (("residents", "fifty"), ("tables", "timeseries.parquet"),
                       ("complete", "yes")):
        (good / "manifest.json").write_text(json.dumps(dict(m, **{field: bad})))
        refused(scslab_cli("summary", good), f"damaged manifest: {field}")

    # .X.partial that is a file or a symbolic link: never removed or followed
    for kind in ("file", "symlink"):
        target = tmp_path / f"t-{kind}"
        partial = tmp_path / f".t-{kind}.partial"
        precious = tmp_path / f"precious-{kind}"
        precious.mkdir()
        (precious / "thesis.tex").write_text("chapter 1")
        if kind == "file":
            partial.write_text("mine")
        else:
            partial.symlink_to(precious)
        refused(scslab_cli("run", "minimal", "--out", target, *SMALL),
                f"is a {'file' if kind == 'file' else 'symbolic link'}, not scslab's "
                "checkpoint folder")
        assert (precious / "thesis.tex").read_text() == "chapter 1"
        assert partial.exists() or partial.is_symlink()


def test_an_unfinished_checkpoint_of_a_user_folder_is_not_removed(tmp_path):
    out = tmp_path / "run"
    partial = checkpoint_path(out)
    partial.mkdir()
    (partial / "my-data.csv").write_text("1,2,3")
    refused(scslab_cli("run", "minimal", "--out", out, *SMALL),
            "holds files that are not scslab checkpoints (my-data.csv)")
    assert (partial / "my-data.csv").read_text() == "1,2,3"


def test_replace_problem_reads_only_scslab_runs(tmp_path):
    assert rundir.replace_problem(tmp_path / "absent", "x") is None
    empty = tmp_path / "empty"
    empty.mkdir()
    assert rundir.replace_problem(empty, "x") is None
    shutil.copytree(empty, tmp_path / "copy")
    (tmp_path / "copy" / "manifest.json").write_text("[]")
    assert "not a scslab run's" in rundir.replace_problem(tmp_path / "copy", "x")
    assert UnitOutputs._fields  # the shard format follows UnitOutputs


def test_a_users_file_is_never_overwritten_by_a_report_or_a_calibration(tmp_path):
    run = tmp_path / "run"
    scslab.run("minimal", out=run, **SMALL_API)
    mine = tmp_path / "report.html"
    mine.write_text("<p>my own notes</p>")
    refused(scslab_cli("report", run, "-o", mine), "exists and was not written by scslab",
            "--force")
    assert mine.read_text() == "<p>my own notes</p>"
    ours = tmp_path / "ours.html"
    for _ in range(2):  # scslab's own report is replaced without asking
        assert scslab_cli("report", run, "-o", ours).returncode == 0
    assert scslab_cli("report", run, "-o", mine, "--force").returncode == 0
    assert "my own notes" not in mine.read_text()
    scenario = tmp_path / "mine.yaml"
    scenario.write_text("extends: minimal\nname: mine\n")
    # refused before the fit starts (it would take minutes at this size)
    refused(scslab_cli("calibrate", "minimal", "--method", "lsq", "--targets", "documented-china",
                       "--params",
                       "acts.negative.rate.per_day", "--out", scenario),
            "exists and was not written by scslab")
    assert scenario.read_text() == "extends: minimal\nname: mine\n"
