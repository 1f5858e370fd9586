"""Memory and disk a run will need, estimated from the compiled scenario before it starts.

A run that cannot fit is refused with a message saying how to make it fit, instead of
being killed by the operating system an hour in, or dying on a full disk at the end.

The model (calibrated against peak RSS from ``resource.getrusage``; see
docs/robustness.md):

* units run one after another, so the event loop's working memory is that of the
  **largest unit**: per-resident state arrays, the event calendar (one live event per
  act chain that fires within the run, per attempt chain and per active record, in blocks
  of events, with one part-filled block per phase and day) and the
  unit's record table (8 bytes a column a record, up to twice while it grows and is
  returned), plus the previous unit's returned records;
* expected records come from the act rates, the mean attribute multipliers, coverage and
  false-record rates, summed over the run's days;
* a traced run (``--trace``, ``outputs.records``) keeps every record and resident until
  the tables are built, and the tables cost a few times that again;
* on disk, untraced tables are a few hundred bytes a day; traced tables ~14 bytes a
  record and ~10 a resident in Parquet (estimated with margin); while the run is written,
  its shard checkpoints are on disk too (each shard's metric sums, uncompressed, and for
  traced runs its records and residents).

Available memory is the smallest of free RAM, the room left under the process's
address-space limit (``ulimit -v``) and under every memory limit of its cgroup (v1 or v2).
An estimate that is not a finite number is refused.  Set ``SCSLAB_BUDGET=off`` to skip the
check (at your own risk).
"""

from __future__ import annotations

import math
import os
import resource
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil

from scslab.engine.calendar import BLOCK
from scslab.engine.layout import N_EVF, N_PHASES, N_RCOLS, RECORD_DTYPE
from scslab.engine.runner import empty_outputs
from scslab.errors import ScslabError

RECORD_BYTES = np.dtype(RECORD_DTYPE).itemsize * N_RCOLS  # one row of the record table
EVENT_BYTES = 4 * N_EVF + 8  # one event: int32 fields and its rate (float64)
BLOCK_BYTES = BLOCK * EVENT_BYTES + 4  # a block of events and its link
OVERHEAD = 80 * 2**20  # compiled event loop and its caches, beyond the idle process
WORKER_PROCESS = 250 * 2**20  # an extra worker process: interpreter, libraries, event loop
TRACE_BYTES_PER_RECORD = RECORD_BYTES + 200  # kept record + the records table, sorted
TRACE_BYTES_PER_RESIDENT = 300  # kept resident arrays + the residents table
DISK_BYTES_PER_RECORD = 24  # records.parquet (measured ~14) with margin
DISK_BYTES_PER_RESIDENT = 16  # residents.parquet (measured ~10) with margin
HEADROOM = 0.9  # use at most this share of what is available
CHECKPOINT_BYTES_PER_RESIDENT = 120  # a traced shard's per-resident arrays (npz, uncompressed)


class BudgetError(ScslabError):
    """The run would need more memory or disk than the machine has."""


@dataclass
class Estimate:
    memory: int  # bytes the run adds to this process at its peak
    disk: int  # bytes the run directory will take
    per_unit: int  # of memory: the largest unit's event loop
    fixed: int  # of memory: what does not shrink with smaller units
    records: float  # expected records over the whole run
    largest_unit: int  # residents in the largest unit
    checkpoint: int = 0  # bytes of shard checkpoints on disk while the run is written


def _mean_multiplier(mult: np.ndarray, attr_ncat: np.ndarray, attr_cum: np.ndarray) -> float:
    """E[prod_k mult[k, code_k]] over independent attributes (1 if the shapes are not
    the resident attributes')."""
    m = 1.0
    try:
        for k in range(len(attr_ncat)):
            nc = int(attr_ncat[k])
            cum = np.asarray(attr_cum[k, :nc], dtype=float)
            w = np.diff(np.concatenate([[0.0], cum]))
            m *= float((w * np.asarray(mult)[k, :nc]).sum())
    except (IndexError, ValueError, TypeError):
        return 1.0
    return m


def adult_share(a) -> float:
    """Expected share of residents who are adults (population.children: the children of
    households of two or more, at most all members but one)."""
    share = float(getattr(a, "child_share", 0.0))
    if share <= 0.0:
        return 1.0
    sizes = np.asarray(a.hh_sizes, dtype=float)
    p_size = np.diff(np.concatenate([[0.0], np.asarray(a.hh_cum, dtype=float)]))
    counts = np.asarray(a.child_counts, dtype=float)
    p_count = np.diff(np.concatenate([[0.0], np.asarray(a.child_cum, dtype=float)]))
    children = sum(ps * share * float((p_count * np.minimum(counts, s - 1)).sum())
                   for s, ps in zip(sizes, p_size, strict=True) if s >= 2)
    return 1.0 - children / float((sizes * p_size).sum())


def records_per_resident(cm) -> float:
    """Expected records per resident over the run (all departments, true and false);
    children commit no acts and get no false records."""
    a = cm.arrays
    pair_act = np.asarray(getattr(a, "pair_act", []), dtype=np.int64)
    if pair_act.size == 0:
        return 0.0
    cov_days = np.asarray(a.coverage).sum(axis=1)
    false_days = np.asarray(a.false_p).sum(axis=1)
    total = 0.0
    for q, act in enumerate(pair_act):
        p = float(a.act_p[act]) * _mean_multiplier(a.act_mult[act], a.attr_ncat, a.attr_cum)
        total += min(p, 1.0) * float(cov_days[q]) + float(false_days[q])
    return total * adult_share(a)


def estimate(cm, *, workers: int = 1, units: int | None = None,
             residents: int | None = None, threads: int = 1) -> Estimate:
    """Peak memory added by the run and the size of its run directory (bytes); ``units``
    and ``residents`` ask what-if (same scenario, another population or unit count).
    ``threads`` units run at once in each process, each with its own outputs."""
    a = cm.arrays
    D = int(cm.n_days)
    N = int(residents if residents is not None else cm.residents)
    U = max(1, min(int(units if units is not None else cm.units), N))
    n = math.ceil(N / U)
    A = len(a.act_p)
    K = len(a.action_p)
    P = len(getattr(a, "pair_act", []))
    L = len(getattr(a, "list_kind", []))
    n_attr = len(a.attr_ncat)
    r_pr = records_per_resident(cm)
    if not math.isfinite(r_pr) or r_pr < 0:
        raise BudgetError(f"cannot estimate this run's size: expected records per resident "
                          f"is {r_pr}; check the scenario's rates")
    r_unit = r_pr * n
    r_total = r_pr * N

    # live event-calendar entries per resident: chains that fire within the run
    chains = 0.0
    for j in range(A):
        p = float(a.act_p[j]) * _mean_multiplier(a.act_mult[j], a.attr_ncat, a.attr_cum)
        chains += min(1.0, p * D)
    for q in range(P):
        chains += min(1.0, float(np.asarray(a.false_pmax)[q]) * D)
    chains += K
    n_caps = int(np.sum(np.asarray(getattr(a, "cap_index", [])) >= 0))
    # 240 bytes of fixed state, with the two int64 points rows (all, true) per column
    state = 240 + 8 * (1 + n_caps) + 16 * A + 8 * P + 9 * K + 24 * L + n_attr
    # events live in blocks; every (phase, day) bucket may hold one part-filled block
    events = EVENT_BYTES * (n * chains + r_unit) + BLOCK_BYTES * N_PHASES * D
    per_unit = int(n * state + events + 2 * RECORD_BYTES * r_unit)
    previous = RECORD_BYTES * r_unit if U > 1 else 0
    in_flight = max(1, workers) * max(1, threads)  # units held in memory at once
    outputs = 8 * D * (16 + 2 * A + 3 * K + 2 * L) * in_flight
    fixed = OVERHEAD + outputs + (WORKER_PROCESS * workers if workers > 1 else 0)
    trace = bool(getattr(a, "trace", False))
    if trace:
        fixed += int(TRACE_BYTES_PER_RECORD * r_total + TRACE_BYTES_PER_RESIDENT * N)
    memory = fixed + in_flight * (per_unit + previous)
    disk = 2**20 + 8 * D * (16 + 2 * A + 3 * K + 2 * L) * 2
    if trace:
        disk += int(DISK_BYTES_PER_RECORD * r_total + DISK_BYTES_PER_RESIDENT * N)
    if not all(math.isfinite(x) for x in (memory, disk, r_total)):
        raise BudgetError("cannot estimate this run's size (the estimate is not a finite "
                          "number); check the scenario's rates and population")
    return Estimate(memory=int(memory), disk=int(disk), per_unit=per_unit + previous,
                    fixed=int(fixed), records=r_total, largest_unit=n)


def checkpoint_disk(cm, shards: int, records: float) -> int:
    """Bytes the shard checkpoints of a run cut into ``shards`` take (``records``: expected
    records of the whole run): each shard's metric sums, plus the traces of traced runs."""
    per_shard = sum(int(a.nbytes) for a in empty_outputs(cm)) + 4096
    total = per_shard * max(1, shards)
    if bool(getattr(cm.arrays, "trace", False)):
        total += int(RECORD_BYTES * records + CHECKPOINT_BYTES_PER_RESIDENT * cm.residents)
    return total


def available_memory() -> int:
    """Bytes this process can still use: free RAM, or less if the address-space limit
    (``ulimit -v``) or a memory limit of the process's cgroup leaves less room."""
    avail = int(psutil.virtual_memory().available)
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            avail = min(avail, max(0, soft - int(psutil.Process().memory_info().vms)))
    except (OSError, ValueError, psutil.Error):
        pass
    room = _cgroup_room()
    if room is not None:
        avail = min(avail, room)
    return avail


def _cgroup_room() -> int | None:
    """The least room left under a memory limit of this process's cgroups (v2: every level
    from its own group up; v1: the memory controller's group), or None if none is set."""
    rooms = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        lines = []
    groups = []  # (folder, limit file, usage file), from the process's group up
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, rel = parts
        if controllers == "":  # v2 (or the unified part of a hybrid hierarchy)
            base = Path("/sys/fs/cgroup/unified")
            base = base if base.is_dir() else Path("/sys/fs/cgroup")
            files = ("memory.max", "memory.current")
        elif "memory" in controllers.split(","):
            base = Path("/sys/fs/cgroup/memory")
            files = ("memory.limit_in_bytes", "memory.usage_in_bytes")
        else:
            continue
        d = base / rel.lstrip("/")
        while True:
            groups.append((d, *files))
            if d == base or base not in d.parents:
                break
            d = d.parent
    for folder, limit_f, usage_f in groups:
        try:
            limit = (folder / limit_f).read_text().strip()
            usage = int((folder / usage_f).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 2**60:
            rooms.append(max(0, int(limit) - usage))
    return min(rooms) if rooms else None


def free_disk(path: str | Path) -> int:
    """Free bytes on the file system that will hold ``path`` (its nearest existing parent)."""
    p = Path(path).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return int(shutil.disk_usage(p).free)
    except OSError:
        return 2**62  # cannot tell: writing will report a full disk clearly if it happens


def _gb(x: float) -> str:
    return f"{x / 2**30:.1f} GB" if x >= 2**30 else f"{x / 2**20:.0f} MB"


def check_budget(cm, *, out: str | Path | None = None, workers: int = 1,
                 memory: int | None = None, disk: int | None = None,
                 threads: int = 1, shards: int | None = None) -> Estimate:
    """Raise BudgetError if the run will not fit in memory or on disk at ``out``.

    ``shards``: the run is checkpointed in that many shards beside ``out`` (their disk is
    counted with the run directory's).  ``memory``/``disk`` override what is available
    (for tests); both default to what the machine has now.
    """
    est = estimate(cm, workers=workers, threads=threads)
    if shards is not None:
        est.checkpoint = checkpoint_disk(cm, shards, est.records)
    if os.environ.get("SCSLAB_BUDGET", "").lower() in ("off", "0", "no"):
        return est
    have = available_memory() if memory is None else memory
    room = HEADROOM * have
    trace = bool(getattr(cm.arrays, "trace", False))
    if est.memory > room:
        ways = []

        def fits(**what) -> bool:
            return estimate(cm, workers=workers, threads=threads, **what).memory <= room

        max_units = min(1_000_000, cm.residents)
        if fits(units=max_units):
            units_needed = _smallest(lambda u: fits(units=u), cm.units, max_units)
            n_fit = math.ceil(cm.residents / units_needed)
            ways.append(
                f"smaller units: at most ~{n_fit:,} residents per unit, e.g. "
                f"--set population.units={units_needed} (now {cm.units:,} unit(s) of up "
                f"to {est.largest_unit:,}; units are the model's subdistricts, so this "
                f"changes who can be misattributed to whom)")
        if trace:
            ways.append("no --trace (and outputs.records/lists false): the per-record "
                        "tables are what does not shrink with smaller units")
        # the largest population that fits, as it is (same units)
        lo, hi = 1, cm.residents
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if fits(residents=mid):
                lo = mid
            else:
                hi = mid - 1
        if fits(residents=lo):
            ways.append(f"a smaller population, e.g. --residents {lo:,} "
                        f"(or --scale {max(lo / cm.residents, 1e-6):.3g})")
        if not ways:
            ways.append("a machine with more memory")
        raise BudgetError(
            f"this run needs about {_gb(est.memory)} of memory "
            f"(~{est.records:,.0f} records; the largest unit has {est.largest_unit:,} "
            f"residents and needs {_gb(est.per_unit)}"
            + (f"; tracing needs {_gb(est.fixed - OVERHEAD)}" if trace else "")
            + f"), but only {_gb(have)} is available. To make it fit: "
            + "; or ".join(ways) + "."
        )
    if out is not None:
        free = free_disk(out) if disk is None else disk
        need = est.disk + est.checkpoint
        if need > free:
            ways = ["free some space or choose another --out"]
            if trace:
                ways.append("run without --trace (the record tables are most of it)")
            elif est.checkpoint > est.disk and shards and shards > 1:
                ways.append(f"fewer shards (--shards; now {shards:,}): each shard's "
                            "checkpoint holds the run's daily sums")
            what = (f"{_gb(need)} on disk ({_gb(est.disk)} of results and {_gb(est.checkpoint)}"
                    " of shard checkpoints while it runs)" if est.checkpoint else
                    f"{_gb(need)} on disk")
            raise BudgetError(
                f"{Path(out)}: this run's results need about {what} but "
                f"only {_gb(free)} is free there. To make it fit: " + "; or ".join(ways) + "."
            )
    return est


def _smallest(ok, lo: int, hi: int) -> int:
    """Smallest x in [lo, hi] with ok(x), given ok(hi) and ok monotone."""
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi

