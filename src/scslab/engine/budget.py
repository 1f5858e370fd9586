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
  record and ~10 a resident in Parquet (estimated with margin).

Set ``SCSLAB_BUDGET=off`` to skip the check (at your own risk).
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scslab.engine.calendar import BLOCK
from scslab.engine.layout import N_EVF, N_PHASES, N_RCOLS, RECORD_DTYPE
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


def records_per_resident(cm) -> float:
    """Expected records per resident over the run (all departments, true and false)."""
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
    return total


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
    state = 240 + 16 * A + 8 * P + 9 * K + 24 * L + n_attr
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
    return Estimate(memory=int(memory), disk=int(disk), per_unit=per_unit + previous,
                    fixed=int(fixed), records=r_total, largest_unit=n)


def available_memory() -> int:
    """Bytes this process can still use: free RAM, or the cgroup's limit if lower."""
    import psutil

    avail = int(psutil.virtual_memory().available)
    for limit_f, usage_f in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                             ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                              "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit = Path(limit_f).read_text().strip()
            usage = int(Path(usage_f).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 2**60:
            avail = min(avail, max(0, int(limit) - usage))
        break
    return avail


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
                 threads: int = 1) -> Estimate:
    """Raise BudgetError if the run will not fit in memory or on disk at ``out``.

    ``memory``/``disk`` override what is available (for tests); both default to what
    the machine has now.
    """
    est = estimate(cm, workers=workers, threads=threads)
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
            hint = f"a smaller population, e.g. --residents {lo:,}"
            if _cli_has_scale():
                hint += f" (or --scale {max(lo / cm.residents, 1e-6):.3g})"
            ways.append(hint)
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
        if est.disk > free:
            ways = ["free some space or choose another --out"]
            if trace:
                ways.append("run without --trace (the record tables are most of it)")
            raise BudgetError(
                f"{Path(out)}: this run's results need about {_gb(est.disk)} on disk but "
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


def _cli_has_scale() -> bool:
    try:
        import inspect

        from scslab import cli

        return "scale" in inspect.signature(cli.run_cmd).parameters
    except Exception:  # noqa: BLE001 - only decides the wording of a hint
        return False
