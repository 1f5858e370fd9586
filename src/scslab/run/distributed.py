"""Run the shards of a run on Dask distributed, or in this process.

A shard is a set of units (``runner.shard_units``); a shard task is ``run_units(cm, units)``
and shard results merge by elementwise ``+=`` (``ShardResult.merge``).  Each unit's
randomness is keyed to (seed, unit, resident, stream), so the merged sums, and every table
built from them, are identical for any number of shards or workers and any completion
order.

Three ways to run, same results:

- in this process (the default, no Dask involved): shards one after another;
- ``workers=N``: an embedded ``distributed.LocalCluster`` of N single-threaded worker
  processes bound to 127.0.0.1, with no dashboard and no HTTP routes (Dask always starts
  an HTTP server; it gets a random loopback port, never 8787, and serves nothing), its
  connections encrypted with a temporary TLS certificate held by this process only, so
  another user of the machine cannot submit work to it;
- ``scheduler="tcp://host:8786"`` (or ``tls://...`` with Dask's security settings): an
  existing Dask cluster (workers need scslab installed; see docs/scaling.md).

The compiled model is shipped to the workers once (``Client.scatter(broadcast=True)``);
tasks carry only their unit lists.  A task lost with its worker is retried by Dask
(``retries=``).  With a checkpoint, each finished shard is saved atomically as soon as it
is done: by the worker itself when it shares the driver's disk (in-process and local
cluster), otherwise by the driver when the result arrives.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import uuid
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import as_completed as futures_completed
from contextlib import contextmanager
from pathlib import Path

from scslab.engine.budget import available_memory, estimate
from scslab.engine.compile import CompiledModel
from scslab.engine.kernel import UnitOutputs
from scslab.engine.runner import (
    ShardResult,
    empty_outputs,
    run_units,
    run_units_threaded,
    serialized,
    shard_units,
    unit_offsets,
)
from scslab.errors import ScslabError
from scslab.outputs.checkpoint import save_shard, shard_file

RETRIES = 3
# A shard per this many residents when running in one process: a killed run then loses at
# most this much work.  Results do not depend on it.
RESIDENTS_PER_SHARD = 1_000_000
# With workers, this many shards per worker so fast workers pick up more (load balance).
SHARDS_PER_WORKER = 4


class ClusterError(ScslabError):
    """The Dask cluster could not be started or reached."""


def default_shards(cm: CompiledModel, workers: int = 0,
                   memory_per_worker: int | None = None) -> int:
    """How many shards to cut a run into when the user does not say.

    One shard per ``RESIDENTS_PER_SHARD`` residents (the checkpoint granularity: a killed
    run loses at most that much work); with workers, at least ``SHARDS_PER_WORKER`` per
    worker (load balance).  Memory: a worker holds one unit at a time, but a traced run's
    shard also holds the traces (records) of all its units until it is returned, so with
    workers there are enough shards for a shard's share of them (``budget.estimate``) to
    fit in half of ``memory_per_worker`` beside the largest unit.  Never more than the
    number of units.
    """
    n = max(1, math.ceil(cm.residents / RESIDENTS_PER_SHARD))
    if workers:
        n = max(n, SHARDS_PER_WORKER * workers)
        if cm.arrays.trace:
            est = estimate(cm)
            untraced = estimate(dataclasses.replace(cm, arrays=cm.arrays._replace(trace=False)))
            traces = est.fixed - untraced.fixed
            mem = memory_per_worker or available_memory() // workers
            room = max(mem / 2 - est.per_unit, mem / 8)
            n = max(n, math.ceil(traces / room))
    return max(1, min(n, cm.units))


def shard_plan(cm: CompiledModel, shards: int) -> list[list[int]]:
    return shard_units(cm.units, shards)


def run_shard(cm: CompiledModel, units: list[int], index: int,
              checkpoint_dir: str | None = None, stamp: dict | None = None) -> ShardResult:
    """One shard task: run its units; save the result first (stamped with its run) when
    given a checkpoint."""
    result = run_units(cm, units)
    if checkpoint_dir is not None:
        save_shard(checkpoint_dir, index, result, stamp)
    return result


def _security():
    """A temporary TLS certificate for an embedded cluster (None without the
    ``cryptography`` package: the cluster then uses plain TCP on the loopback)."""
    from distributed import Security  # Dask loads only when a cluster is asked for
    try:
        return Security.temporary()
    except ImportError:
        return None


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None, *,
                dashboard: bool = False) -> Iterator:
    """A ``distributed.Client``: an embedded LocalCluster of ``workers`` processes, or a
    connection to ``scheduler``; None (no Dask) when neither is given.

    An embedded cluster listens on 127.0.0.1 only, encrypts and authenticates its
    connections with a temporary certificate, and serves no HTTP routes unless
    ``dashboard`` (then its dashboard is at ``client.dashboard_link``).  A ``scheduler``
    address ``tls://...`` uses the certificates of Dask's configuration
    (``distributed.comm.tls.*``, docs/scaling.md)."""
    if not workers and not scheduler:
        yield None
        return
    # Dask (about a second to import) loads only when a cluster is asked for
    import dask.config
    from distributed import Client, LocalCluster
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError, TypeError) as e:
            raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
        try:
            yield client
        finally:
            client.close()
        return
    security = _security()
    no_routes = {} if dashboard else {"distributed.scheduler.http.routes": [],
                                      "distributed.worker.http.routes": []}
    try:
        with warnings.catch_warnings(), dask.config.set(no_routes):
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address="127.0.0.1:8787" if dashboard else "127.0.0.1:0",
                silence_logs=logging.ERROR, security=security,
                protocol="tls://" if security is not None else "tcp://",
            )
    except (OSError, RuntimeError, TimeoutError) as e:
        raise ClusterError(f"cannot start a local Dask cluster of {workers} workers: {e}; "
                           "from a script, start it under `if __name__ == '__main__':`") from None
    if not dashboard and getattr(cluster.scheduler, "http_server", None) is not None:
        cluster.scheduler.http_server.stop()  # Dask starts it even with no dashboard
    client = Client(cluster, security=security)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def n_workers(client) -> int:
    if client is None:
        return 0
    return max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))


def worker_memory(client) -> int | None:
    """The smallest memory limit of the cluster's workers (bytes), if they have one."""
    if client is None:
        return None
    limits = [w.get("memory_limit") or 0
              for w in client.scheduler_info(n_workers=-1).get("workers", {}).values()]
    return min(limits) if limits and min(limits) > 0 else None


def _iter_shards_here(cm, plan, todo, ckpt, on_unit, threads, stamp):
    """iter_shards without Dask: shards one after another, or on a pool of threads."""
    def one(i: int, unit_threads: int, report) -> tuple[int, ShardResult]:
        result = run_units_threaded(cm, plan[i], workers=unit_threads, on_unit=report)
        if ckpt is not None:
            save_shard(ckpt, i, result, stamp)
        return i, result

    if threads <= 1 or len(todo) < threads:
        for i in todo:
            yield one(i, threads, on_unit)
        return
    report = serialized(on_unit)
    pool = ThreadPoolExecutor(max_workers=threads)
    try:
        for future in futures_completed([pool.submit(one, i, 1, report) for i in todo]):
            yield future.result()
    finally:
        # on Ctrl-C (or any failure) shards not started are dropped; running ones finish
        # and are checkpointed, so the run resumes from them
        pool.shutdown(wait=True, cancel_futures=True)


def iter_shards(
    cm: CompiledModel,
    plan: list[list[int]],
    todo: list[int],
    *,
    client=None,
    checkpoint_dir: str | Path | None = None,
    shared_disk: bool = True,
    on_unit: Callable[[int, int], None] | None = None,
    threads: int = 1,
    stamp: dict | None = None,
) -> Iterator[tuple[int, ShardResult]]:
    """Run the shards ``todo`` (indexes into ``plan``); yield ``(index, result)`` as each
    finishes, in completion order.  Each is checkpointed (stamped with ``stamp``) before it
    is yielded.  Without a client, shards run on ``threads`` threads of this process (or,
    when there are fewer shards than threads, each shard's units do)."""
    ckpt = str(Path(checkpoint_dir).absolute()) if checkpoint_dir is not None else None
    if client is None:
        yield from _iter_shards_here(cm, plan, todo, ckpt, on_unit, threads, stamp)
        return
    from distributed import as_completed  # Dask loads only when a cluster is asked for

    [cm_future] = client.scatter([cm], broadcast=True, hash=False)
    worker_ckpt = ckpt if shared_disk else None
    tag = uuid.uuid4().hex[:8]
    futures = {}
    for i in todo:
        f = client.submit(run_shard, cm_future, plan[i], i, worker_ckpt, stamp,
                          key=f"scslab-shard-{tag}-{i:05d}", retries=RETRIES, pure=False)
        futures[f] = i
    try:
        for f in as_completed(futures):
            i = futures[f]
            result = f.result()
            if ckpt is not None and not shard_file(ckpt, i).is_file():
                save_shard(ckpt, i, result, stamp)
            f.release()
            yield i, result
    finally:
        for f in futures:
            if not f.done():
                f.cancel()
        cm_future.release()


def merge_all(cm: CompiledModel, parts: dict[int, ShardResult] | list[ShardResult]):
    """Merge shard results in plan order (integer sums: any order gives the same)."""
    items = [parts[k] for k in sorted(parts)] if isinstance(parts, dict) else list(parts)
    if not items:
        return ShardResult(outputs=empty_outputs(cm), units=[])
    result = items[0]
    for p in items[1:]:
        result = result.merge(p)
    return result


def simulate_sharded(
    cm: CompiledModel,
    *,
    shards: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
    on_unit: Callable[[int, int], None] | None = None,
    on_shard: Callable[[int, int], None] | None = None,
) -> ShardResult:
    """Run every unit, cut into ``shards`` sets, in this process or on Dask, and merge."""
    with dask_client(None if client else workers, None if client else scheduler) as own:
        client = client or own
        if shards is None:
            shards = default_shards(cm, n_workers(client), worker_memory(client))
        plan = shard_plan(cm, shards)
        result = None
        sizes = shard_sizes(cm, plan)
        for i, part in iter_shards(cm, plan, list(range(len(plan))), client=client,
                                   on_unit=on_unit):
            result = part if result is None else result.merge(part)
            if on_shard is not None:
                on_shard(i, sizes[i])
        return result


def shard_sizes(cm: CompiledModel, plan: list[list[int]]) -> list[int]:
    """Residents in each shard of ``plan``."""
    sizes, _ = unit_offsets(cm)
    return [int(sizes[units].sum()) if units else 0 for units in plan]


__all__ = [
    "ClusterError", "UnitOutputs", "dask_client", "default_shards", "iter_shards", "merge_all",
    "n_workers", "run_shard", "shard_plan", "shard_sizes", "simulate_sharded", "worker_memory",
]
