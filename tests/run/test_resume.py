"""Checkpoints, kill -9 and resume, replicates and sweeps."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import time

import numpy as np
import pandas as pd

import scslab
from scslab import api
from scslab.engine.kernel import UnitOutputs
from scslab.engine.runner import run_units
from scslab.outputs.checkpoint import Checkpoint, checkpoint_path, load_shard, save_shard
from scslab.run import batch
from scslab.run.options import RunOptions


def assert_same_tables(a, b):
    ta, tb = a.tables(), b.tables()
    assert set(ta) == set(tb)
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True, obj=name)


def cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "scslab", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_shard_file_round_trip_and_atomicity(tmp_path):
    cm = api.prepare("tiny", days=30, trace=True)
    res = run_units(cm, [1, 2])
    path = save_shard(tmp_path, 3, res)
    assert path.name == "shard-00003.npz" and list(tmp_path.iterdir()) == [path]
    back = load_shard(path, UnitOutputs)
    assert back.units == [1, 2]
    for name, a, b in zip(UnitOutputs._fields, res.outputs, back.outputs, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
        assert a.dtype == b.dtype
    assert len(back.traces) == 2
    for t0, t1 in zip(res.traces, back.traces, strict=True):
        assert t0.keys() == t1.keys()
        for k in t0:
            np.testing.assert_array_equal(np.asarray(t0[k]), np.asarray(t1[k]), err_msg=k)

    # a half-written shard (a temporary left by a kill) is never counted as done
    ck = Checkpoint.create(tmp_path / "run", {"plan": [[0], [1]], "scenario": {},
                                              "scenario_hash": "h", "seed": 0, "trace": True})
    (ck.folder / ".shard-00001.npz.tmp-deadbeef").write_bytes(b"PK\x03")
    assert Checkpoint.open(tmp_path / "run").done() == []
    ck.clean_temporaries()
    assert list(ck.folder.glob("*.tmp-*")) == []


def wait_then_kill(p, ckpt, rng) -> bool:
    """Kill -9 ``p`` at a random point: while it starts up, or just after it has saved a
    random number of further shards.  False if it finished first."""
    left = 12 - len(list(ckpt.glob("shard-*.npz")))
    if left < 2 or rng.random() < 0.2:
        deadline = time.monotonic() + rng.uniform(0.0, 2.0)  # imports, compile, planning
        target = None
    else:
        deadline, target = None, 12 - left + rng.randint(1, left - 1)
    while p.poll() is None:
        if deadline is None and (ckpt / "checkpoint.json").is_file() and len(
                list(ckpt.glob("shard-*.npz"))) >= target:
            deadline = time.monotonic() + rng.uniform(0.0, 0.03)
        if deadline is not None and time.monotonic() >= deadline:
            p.kill()  # SIGKILL
            p.wait()
            return True
        time.sleep(0.005)
    return False


def test_kill_9_at_random_points_then_resume_gives_identical_tables(tmp_path):
    """Kill the run at >= 10 random points, resume each time, compare with a clean run."""
    args = ["tiny", "--residents", "20000", "--set", "population.units=12", "--shards", "12",
            "-q"]
    ref = tmp_path / "ref"
    p = cli("run", *args, "--out", str(ref))
    assert p.wait(timeout=600) == 0, p.stderr.read()

    rng = random.Random(20261125)
    kills, resumes, partial_seen, episodes = 0, 0, 0, 0
    while kills < 10:  # an episode: one run, killed and resumed until it completes
        out = tmp_path / f"killed-{episodes}"
        ckpt = checkpoint_path(out)
        seen: dict[str, tuple[int, int]] = {}
        p = cli("run", *args, "--out", str(out))
        while True:
            if kills < 10 and wait_then_kill(p, ckpt, rng):
                kills += 1
            else:
                assert p.wait(timeout=600) == 0, p.stderr.read()
            if batch.is_complete(out) and not (ckpt / "checkpoint.json").exists():
                assert not ckpt.exists()  # the checkpoint goes as a whole (renamed away)
                break  # finished (perhaps killed while exiting, after the run was written)
            # shards finished earlier are never redone or rewritten by a later process
            for f in ckpt.glob("shard-*.npz"):
                st = f.stat()
                if f.name in seen:
                    assert seen[f.name] == (st.st_ino, st.st_mtime_ns), f.name
                seen[f.name] = (st.st_ino, st.st_mtime_ns)
            partial_seen += 0 < len(seen) < 12
            if (ckpt / "checkpoint.json").is_file():
                p = cli("run", "--resume", str(out), "-q")
                resumes += 1
            else:  # killed before its checkpoint existed: start the run again
                p = cli("run", *args, "--out", str(out))
        b = scslab.load_run(out)
        assert {"timeseries", "groups", "records"} <= set(b.tables())
        assert_same_tables(scslab.load_run(ref), b)
        episodes += 1
    assert kills >= 10 and resumes >= 3 and partial_seen >= 3, (kills, resumes, partial_seen)


def test_resume_refuses_what_it_cannot_resume(tmp_path):
    p = cli("run", "--resume", str(tmp_path / "nothing"))
    _, err = p.communicate(timeout=60)
    assert p.returncode == 2 and "no unfinished run" in err and "Traceback" not in err


def test_replicates_sweeps_and_batch_resume(tmp_path):
    out = tmp_path / "reps"
    p = cli("run", "tiny", "--days", "40", "--seed", "5", "--replicates", "3", "--out",
            str(out), "-q")
    stdout, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert "replicates.parquet" in stdout
    table = pd.read_parquet(out / "replicates.parquet")
    assert table["run"].tolist() == ["rep-000", "rep-001", "rep-002"]
    assert table["seed"].tolist() == [5, 6, 7]
    assert table["records_created"].nunique() == 3  # different seeds, different worlds
    # replicate 1 is exactly the plain run with seed 6
    assert_same_tables(scslab.load_run(out / "rep-001"), api.run("tiny", days=40, seed=6))

    # a batch killed after two runs: resuming keeps them and finishes the third
    before = (out / "rep-000" / "timeseries.parquet").stat().st_mtime_ns
    shutil.rmtree(out / "rep-002")
    (out / "replicates.parquet").unlink()
    _, again = batch.run_batch("", out, resume=True)
    assert (out / "rep-000" / "timeseries.parquet").stat().st_mtime_ns == before
    timing = ["seconds", "resident_days_per_second"]
    pd.testing.assert_frame_equal(again.drop(columns=timing), table.drop(columns=timing))
    pd.testing.assert_frame_equal(pd.read_parquet(out / "replicates.parquet"), again)

    sweep = tmp_path / "sweep"
    path, t = batch.run_batch("tiny", sweep, RunOptions(days=30),
                              sweep="policy.lists.blacklist.below=900,990")
    assert path == sweep / "sweep.parquet" and t["value"].tolist() == ["900", "990"]
    strict = scslab.load_run(sweep / "policy.lists.blacklist.below=990")
    assert strict.manifest["scenario"]["policy"]["lists"]["blacklist"]["below"] == 990
    assert t["listed_end"].iloc[1] >= t["listed_end"].iloc[0]
    assert json.loads((sweep / "batch.json").read_text())["sweep"].endswith("=900,990")
