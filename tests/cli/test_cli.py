"""The command line as a user meets it: real subprocesses, exit codes and messages."""

import json
import subprocess
import sys

import pandas as pd


def scslab(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "scslab", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_run_writes_a_complete_run_directory(tmp_path):
    out = tmp_path / "run"
    r = scslab("run", "minimal", "--residents", "3000", "--days", "120", "--out", str(out),
               "--seed", "4", "--set", "policy.sanctions.flight.enforcement=0.5", "-q")
    assert r.returncode == 0, r.stderr
    assert str(out) in r.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["seed"] == 4
    assert len(manifest["scenario_hash"]) == 64
    assert manifest["scenario"]["policy"]["sanctions"]["flight"]["enforcement"] == 0.5
    assert {"numpy", "numba", "scslab"} <= set(manifest["versions"])
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 120 and ts["day"].tolist() == list(range(120))
    for c in ("date", "listed", "listed_wrongful", "records_active", "blocked_flight"):
        assert c in ts
    summary = json.loads((out / "summary.json").read_text())
    assert summary["blocked"]["flight"] == ts["blocked_flight"].sum()


def test_bad_scenario_exits_2_without_traceback_or_run_dir(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: minimal\nname: bad\nacts:\n  negative:\n    rate: {per_day: 2}\n")
    out = tmp_path / "run"
    r = scslab("run", str(bad), "--out", str(out))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert f"{bad}:5: acts.negative.rate.per_day" in r.stderr
    assert "less than or equal to 1" in r.stderr and "(got 2)" in r.stderr
    assert not out.exists()
    assert not list(tmp_path.glob(".run*"))


def test_validate_show_and_scenarios():
    r = scslab("validate", "tiny")
    assert r.returncode == 0 and "valid scenario 'tiny'" in r.stdout
    r = scslab("show", "minimal", "--set", "days=5")
    assert r.returncode == 0 and "days: 5" in r.stdout
    r = scslab("scenarios")
    assert "tiny" in r.stdout and "minimal" in r.stdout
    r = scslab("validate", "nope")
    assert r.returncode == 2 and "no such scenario" in r.stderr


def test_rerun_replaces_a_run_but_never_a_foreign_directory(tmp_path):
    out = tmp_path / "run"
    assert scslab("run", "minimal", "--residents", "500", "--days", "30", "--out", str(out),
                  "-q").returncode == 0
    assert scslab("run", "minimal", "--residents", "600", "--days", "30", "--out", str(out),
                  "-q").returncode == 0
    assert json.loads((out / "manifest.json").read_text())["residents"] == 600
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    r = scslab("run", "minimal", "--residents", "500", "--days", "30", "--out", str(foreign))
    assert r.returncode == 2 and "not a scslab run" in r.stderr
    assert (foreign / "thesis.tex").read_text() == "precious"


def test_threads_give_the_tables_of_one_thread(tmp_path):
    runs = {}
    # one shard: its units run on the threads; four shards: the shards do
    for name, args in {"one": ["--threads", "1"], "units": ["--threads", "2"],
                       "shards": ["--threads", "2", "--shards", "4"]}.items():
        out = tmp_path / name
        r = scslab("run", "tiny", "--residents", "4000", "--days", "90", *args,
                   "--out", str(out), "-q")
        assert r.returncode == 0, r.stderr
        runs[name] = out
    for table in ("timeseries", "groups", "scores"):
        a = pd.read_parquet(runs["one"] / f"{table}.parquet")
        for other in ("units", "shards"):
            assert a.equals(pd.read_parquet(runs[other] / f"{table}.parquet")), (table, other)


def test_threads_with_dask_workers_is_refused_before_any_work(tmp_path):
    out = tmp_path / "run"
    r = scslab("run", "tiny", "--threads", "2", "--workers", "2", "--out", str(out))
    assert r.returncode == 2
    assert "--threads 2" in r.stderr and "--workers" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()
