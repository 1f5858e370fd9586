"""Scale-out on Dask: the same tables for any shard count, any worker count, a lost worker,
and a local cluster started the way a user starts it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pandas as pd
import pytest

import scslab
from scslab import api
from scslab.engine.kernel import UnitOutputs
from scslab.engine.runner import shard_units
from scslab.outputs.checkpoint import checkpoint_path
from scslab.run import distributed as dist

TINY = dict(days=200, sets=["population.units=8"])


def assert_same_tables(a, b):
    ta, tb = a.tables(), b.tables()
    assert set(ta) == set(tb)
    assert {"timeseries", "groups", "records"} <= set(ta)
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True, obj=name)


def tables_of(cm, result):
    return api.assemble(cm, result, seconds=1.0, shards=0, command="test")


@pytest.fixture(scope="module")
def cm():
    return api.prepare("tiny", trace=True, **TINY)


@pytest.fixture(scope="module")
def reference(cm):
    return tables_of(cm, api.simulate(cm, shards=1))


def test_shard_plan_covers_every_unit_once():
    for n_units in (1, 4, 7, 20):
        for k in (1, 3, 7, 50):
            plan = shard_units(n_units, k)
            assert sorted(u for s in plan for u in s) == list(range(n_units))
            assert len(plan) == min(k, n_units) and all(plan)


def test_identical_tables_for_1_3_and_7_shards(cm, reference):
    assert cm.units == 8 and cm.arrays.trace
    for k in (3, 7):
        assert_same_tables(reference, tables_of(cm, api.simulate(cm, shards=k)))
    # completion order does not matter either: merge the 7 shards in reverse
    parts = [dist.run_shard(cm, units, i) for i, units in enumerate(shard_units(8, 7))]
    merged = dist.merge_all(cm, parts[::-1])
    assert_same_tables(reference, tables_of(cm, merged))


def test_default_shards_follow_size_and_workers(cm):
    assert dist.default_shards(cm, 0) == 1
    assert dist.default_shards(cm, 1) == 4
    assert dist.default_shards(cm, 2) == 8  # never more than the units
    big = api.prepare("minimal", residents=3_500_000, days=2)
    assert dist.default_shards(big, 0) == 4  # one checkpoint per million residents
    # a traced run's records must fit a worker: less memory, more (smaller) shards
    traced = api.prepare("tiny", trace=True, residents=1_000_000,
                         sets=["population.units=200"])
    roomy = dist.default_shards(traced, 2, memory_per_worker=64 * 2**30)
    tight = dist.default_shards(traced, 2, memory_per_worker=64 * 2**20)
    assert roomy == 8 and 8 < tight <= 200


def test_merge_treats_unitoutputs_generically(cm):
    """Merging and checkpoints iterate over UnitOutputs' fields, whatever they are."""
    res = dist.run_shard(cm, [0], 0)
    assert type(res.outputs) is UnitOutputs
    assert len(res.outputs) == len(UnitOutputs._fields)


def test_identical_tables_for_1_and_2_workers_and_a_lost_worker(cm, reference):
    with dist.dask_client(workers=1) as client:
        assert dist.n_workers(client) == 1
        assert all(a.startswith(("tls://127.0.0.1:", "tcp://127.0.0.1:"))
                   for a in client.scheduler_info()["workers"])
        one = api.simulate(cm, shards=3, client=client)
        assert_same_tables(reference, tables_of(cm, one))

        client.cluster.scale(2)
        client.wait_for_workers(2)
        assert dist.n_workers(client) == 2
        two = api.simulate(cm, shards=8, client=client)
        assert_same_tables(reference, tables_of(cm, two))

        # lose a worker mid-run: kill -9 its process after the first shard is back;
        # the scheduler re-runs its shards elsewhere and the tables stay identical
        pids = client.run(os.getpid)
        plan = shard_units(cm.units, 8)
        parts, killed = {}, None
        for i, part in dist.iter_shards(cm, plan, list(range(8)), client=client):
            parts[i] = part
            if killed is None:
                killed = next(iter(pids.values()))
                os.kill(killed, signal.SIGKILL)
        assert sorted(parts) == list(range(8))
        assert killed not in client.run(os.getpid).values()  # the worker really died
    assert_same_tables(reference, tables_of(cm, dist.merge_all(cm, parts)))


def _listening(pids) -> list[tuple[str, int]]:
    import psutil

    out = []
    for pid in pids:
        try:
            conns = psutil.Process(pid).net_connections(kind="inet")
        except psutil.Error:
            continue
        out += [(c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN]
    return out


def test_the_embedded_cluster_serves_no_dashboard_and_admits_only_this_process():
    """Nothing listens on 8787 (Dask's dashboard port), everything listens on 127.0.0.1
    only, and a client without the cluster's temporary certificate cannot submit work."""
    import psutil
    from distributed import Client

    def connects(port: int) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    with dist.dask_client(workers=1) as client:
        me = psutil.Process()
        pids = [me.pid] + [c.pid for c in me.children(recursive=True)]
        ports = _listening(pids)
        assert ports and all(ip == "127.0.0.1" for ip, _ in ports), ports
        assert 8787 not in {p for _, p in ports} and not connects(8787)
        address = client.scheduler.address
        assert address.startswith("tls://127.0.0.1:"), address
        with pytest.raises((OSError, TimeoutError)):
            Client(address.replace("tls://", "tcp://"), timeout="3s")
        with pytest.raises((OSError, TimeoutError, ValueError, TypeError)):
            Client(address, timeout="3s")  # tls, but no certificate: refused
        assert client.submit(sum, [1, 2]).result() == 3


def test_cli_with_a_local_dask_cluster_matches_the_default_path(tmp_path):
    """`scslab run ... --workers 2` as a user types it, against the plain in-process run."""
    plain, dask = tmp_path / "plain", tmp_path / "dask"
    common = ["run", "tiny", "--days", "150", "--set", "population.units=6", "-q"]
    r = subprocess.run([sys.executable, "-m", "scslab", *common, "--out", str(dask),
                        "--workers", "2"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert str(dask) in r.stdout
    api.run("tiny", days=150, sets=["population.units=6"], out=plain)
    a, b = scslab.load_run(plain), scslab.load_run(dask)
    assert b.manifest["shards"] == 6  # the default with 2 workers, capped by 6 units
    assert_same_tables(a, b)
    assert not checkpoint_path(dask).exists()  # the checkpoint went with success
