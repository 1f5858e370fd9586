"""One gate on the resolved scenario, on every path a run can take: limits after --scale,
end: and --set, memory under ulimit -v and cgroups, disk with the shard checkpoints,
finite estimates, and periods that end before the year 10000."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest

import scslab
from scslab import api
from scslab.engine import budget
from scslab.engine.budget import BudgetError, check_budget, checkpoint_disk
from scslab.errors import ScenarioError
from scslab.outputs.checkpoint import Checkpoint
from scslab.run.distributed import shard_plan
from scslab.scenario.loader import scenario_data, scenario_hash

TOO_BIG = ["documented-china", "--scale", "1000"]  # 1.4 x 10^12 residents


def cli(*args, cwd=None, env=None, ulimit_kb=None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "scslab", *map(str, args)]
    if ulimit_kb is not None:
        cmd = ["bash", "-c", f'ulimit -v {ulimit_kb}; exec "$@"', "scslab", *cmd]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=600,
                       env=dict(os.environ, **(env or {})))
    assert "Traceback" not in r.stderr, r.stderr
    return r


@pytest.mark.parametrize("extra", [[], ["--replicates", "2"], ["--sweep", "seed=1,2"],
                                   ["--set", "days=30"]])
def test_scale_beyond_the_limits_is_refused_on_every_path(tmp_path, extra):
    out = tmp_path / "out"
    r = cli("run", *TOO_BIG, *extra, "--out", out)
    assert r.returncode == 2, r.stderr
    assert "above 2,000,000,000 residents (after --scale)" in r.stderr, r.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_the_api_passes_the_same_gate():
    with pytest.raises(ScenarioError, match="above 2,000,000,000 residents"):
        scslab.run("documented-china", scale=1000)
    with pytest.raises(ScenarioError, match="above 2,000,000,000 residents"):
        scslab.compare(["documented-china", "minimal"], scale=1000)
    cm = api.prepare("minimal", residents=2000, days=10)
    cm.scenario.population.residents = 3_000_000_000  # changed after preparing
    with pytest.raises(ScenarioError, match="above 2,000,000,000"):
        api.simulate(cm)


def test_a_period_past_the_year_9999_is_refused(tmp_path):
    for sets in (["start=9999-06-01"], ["start=9950-01-01", "days=36500"]):
        r = cli("run", "minimal", *[a for s in sets for a in ("--set", s)], "--out",
                tmp_path / "x")
        assert r.returncode == 2 and "runs past the year 9999" in r.stderr, r.stderr
    f = tmp_path / "late.yaml"
    f.write_text("extends: minimal\nstart: 9999-01-01\nend: 9999-12-31\ndays: null\n")
    assert cli("validate", f).returncode == 0  # ends within the year 9999: fine


def test_memory_under_ulimit_v_is_respected_on_a_run_and_a_resume(tmp_path):
    big = ["minimal", "--residents", "3000000", "--set", "population.units=1", "--days", "30"]
    kb = 2_500_000  # 2.4 GiB of address space: scslab starts, the run does not fit
    r = cli("run", *big, "--out", tmp_path / "run", ulimit_kb=kb)
    assert r.returncode == 2, r.stderr
    assert "of memory" in r.stderr and "is available" in r.stderr, r.stderr
    assert "--set population.units=" in r.stderr  # and says how to make it fit
    # the same through --resume: a checkpoint left by a killed run is gated again
    cm = api.prepare("minimal", residents=3_000_000, days=30, sets=["population.units=1"])
    out = tmp_path / "killed"
    Checkpoint.create(out, {"scenario": scenario_data(cm.scenario),
                            "scenario_hash": scenario_hash(cm.scenario),
                            "seed": cm.scenario.seed, "trace": False,
                            "plan": shard_plan(cm, 1), "scale": 1.0, "command": "test"})
    r = cli("run", "--resume", out, "-q", ulimit_kb=kb)
    assert r.returncode == 2 and "of memory" in r.stderr, r.stderr


def test_available_memory_follows_the_address_space_limit():
    r = subprocess.run(["bash", "-c", "ulimit -v 3000000; exec \"$@\"", "x", sys.executable,
                        "-c", "from scslab.engine import budget; "
                              "print(budget.available_memory())"],
                       capture_output=True, text=True, env=os.environ)
    assert r.returncode == 0, r.stderr
    assert 0 < int(r.stdout) < 3_000_000 * 1024


def test_cgroup_limits_are_read_at_every_level(tmp_path, monkeypatch):
    root = tmp_path / "cg"
    (root / "a" / "b").mkdir(parents=True)
    (root / "memory.max").write_text("max\n")
    (root / "memory.current").write_text("100\n")
    (root / "a" / "memory.max").write_text(str(2 * 2**30))
    (root / "a" / "memory.current").write_text(str(2**30))
    (root / "a" / "b" / "memory.max").write_text("max\n")
    (root / "a" / "b" / "memory.current").write_text("5\n")
    real = budget.Path

    def fake(p, *rest):
        p = str(p)
        if p == "/proc/self/cgroup":
            f = tmp_path / "self-cgroup"
            f.write_text("0::/a/b\n")
            return real(f, *rest)
        if p.startswith("/sys/fs/cgroup/unified"):
            return real(tmp_path / "none", *rest)
        if p.startswith("/sys/fs/cgroup"):
            return real(str(root) + p.removeprefix("/sys/fs/cgroup"), *rest)
        return real(p, *rest)

    monkeypatch.setattr(budget, "Path", fake)
    assert budget._cgroup_room() == 2**30  # the limit two levels up


def test_shard_checkpoints_count_in_the_disk_budget(tmp_path):
    """200 shards of a ten-year run hold ~170 MB of daily sums; the run directory itself
    is ~1 MB.  Refused on a 20 MB disk, with the reason."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(disk)]).returncode == 0
    cm = api.prepare("minimal", residents=2000, days=3650, sets=["population.units=200"])
    est = check_budget(cm, shards=200)
    assert est.checkpoint == checkpoint_disk(cm, 200, est.records) > 150 * 2**20 > est.disk
    with pytest.raises(BudgetError, match="of shard checkpoints while it runs.*fewer shards"):
        check_budget(cm, out=tmp_path, shards=200, disk=20 * 2**20)
    if not mounted:
        pytest.skip("needs root to mount a small tmpfs (the check itself ran above)")
    try:
        r = cli("run", "minimal", "--residents", "2000", "--days", "3650", "--set",
                "population.units=200", "--shards", "200", "-q", "--out", disk / "run")
        assert r.returncode == 2, r.stderr
        assert "of shard checkpoints while it runs" in r.stderr, r.stderr
        assert list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", "-l", str(disk)])


def test_an_estimate_that_is_not_finite_is_refused(monkeypatch):
    cm = api.prepare("minimal", residents=2000, days=10)
    monkeypatch.setattr(budget, "records_per_resident", lambda cm: math.inf)
    with pytest.raises(BudgetError, match="cannot estimate this run's size"):
        check_budget(cm)
    monkeypatch.setattr(budget, "records_per_resident", lambda cm: math.nan)
    with pytest.raises(BudgetError, match="cannot estimate"):
        scslab.run("minimal", residents=2000, days=10)
