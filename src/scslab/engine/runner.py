"""Run a compiled scenario: stream units through the event loop and add up their metrics.

A shard is a set of units.  Each unit's randomness is keyed to (seed, unit, resident,
stream), so any partition of units into shards gives identical sums.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from scslab.engine.compile import CompiledModel
from scslab.engine.first_run import announce_compile, mark_compiled
from scslab.engine.layout import UnitOutputs, new_outputs
from scslab.engine.unit import simulate_unit
from scslab.population.build import unit_sizes


@dataclass
class ShardResult:
    """Metric sums over a set of units, plus per-unit traces when tracing is on."""

    outputs: UnitOutputs
    units: list[int]
    traces: list[dict] = field(default_factory=list)

    def merge(self, other: ShardResult) -> ShardResult:
        for mine, theirs in zip(self.outputs, other.outputs, strict=True):
            mine += theirs
        self.units.extend(other.units)
        self.traces.extend(other.traces)
        return self


def unit_offsets(cm: CompiledModel) -> tuple[np.ndarray, np.ndarray]:
    """Residents per unit and the global id of each unit's first resident."""
    sizes = unit_sizes(cm.residents, cm.units)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return sizes, offsets


def firm_offsets(cm: CompiledModel) -> tuple[np.ndarray, np.ndarray]:
    """Firms per unit (``firms.per_1000_residents``, rounded) and each unit's first firm id."""
    sizes, _ = unit_offsets(cm)
    firms = np.floor(sizes * cm.firms_per_1000 / 1000.0 + 0.5).astype(np.int64)
    return firms, np.concatenate([[0], np.cumsum(firms)[:-1]])


def empty_outputs(cm: CompiledModel) -> UnitOutputs:
    a = cm.arrays
    return new_outputs(
        cm.n_days, len(cm.acts), len(cm.actions), len(cm.lists), len(cm.attributes),
        a.attr_cum.shape[1] + (1 if cm.child_slot >= 0 else 0),  # children's group slot
        len(cm.departments), a.tier_floor.shape[1], len(cm.periods),
    )


def run_units(
    cm: CompiledModel,
    units: Iterable[int],
    *,
    on_unit: Callable[[int, int], None] | None = None,
    tight_tables: bool = False,
    stop: threading.Event | None = None,
) -> ShardResult:
    """Simulate ``units`` one after another; ``on_unit(unit, residents)`` reports progress.

    ``tight_tables`` starts the kernel's growable tables at their smallest size (slower,
    same results; for tests of the kernel's stop-and-grow path).  Once ``stop`` is set no
    further unit starts (the result is then incomplete: the caller is abandoning it)."""
    sizes, offsets = unit_offsets(cm)
    nfirms, foffsets = firm_offsets(cm)
    out = empty_outputs(cm)
    result = ShardResult(outputs=out, units=[])
    announce_compile()
    for u in units:
        if stop is not None and stop.is_set():
            break
        u = int(u)
        n = int(sizes[u])
        (rec, log, codes, household, score, listed_days, wrong_days, blocked, employer,
         fcodes, rep, green_channel_days_saved, shocked, listings,
         listings_during_shock, is_child) = simulate_unit(
            cm.arrays, u, int(offsets[u]), n, int(foffsets[u]), int(nfirms[u]), out,
            int(tight_tables),
        )
        if not result.units:
            mark_compiled()
        result.units.append(u)
        if cm.arrays.trace:
            result.traces.append(
                dict(unit=u, gid0=int(offsets[u]), fgid0=int(foffsets[u]), n=n,
                     records=rec, list_log=log, codes=codes, household=household,
                     score=score, listed_days=listed_days, wrongful_days=wrong_days,
                     blocked=blocked, employer=employer, fcodes=fcodes, rep=rep,
                     green_channel_days_saved=green_channel_days_saved, shocked=shocked,
                     listings=listings, listings_during_shock=listings_during_shock,
                     is_child=is_child)
            )
        if on_unit is not None:
            on_unit(u, n)
    return result


def default_threads() -> int:
    """The cores this process may use: its CPU affinity, capped by a cgroup CPU quota
    (containers), at least 1.  Results are the same for any number of threads."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.floor(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def serialized(on_unit: Callable[[int, int], None] | None):
    """``on_unit`` behind a lock, for progress reports from several threads (None stays
    None)."""
    if on_unit is None:
        return None
    lock = threading.Lock()

    def report(u: int, n: int) -> None:
        with lock:
            on_unit(u, n)

    return report


def run_units_threaded(
    cm: CompiledModel,
    units: Iterable[int],
    *,
    workers: int = 2,
    on_unit: Callable[[int, int], None] | None = None,
) -> ShardResult:
    """``run_units`` on ``workers`` threads (the kernel releases the GIL).

    The units are cut into ``workers`` contiguous sets; each thread adds into its own
    outputs and the sets are merged in unit order, so the result is exactly that of
    ``run_units`` on each set merged in order (the ``shards`` rule).  Integer sums are
    order-free, and so are float sums of integer values (groups); a float sum of
    fractions (green days) equals the serial one when its terms are exact in binary.
    """
    units = [int(u) for u in units]
    parts = [p for p in shard_units(len(units), workers) if p]
    if len(parts) <= 1:
        return run_units(cm, units, on_unit=on_unit)
    report = serialized(on_unit)
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        futures = [pool.submit(run_units, cm, [units[i] for i in p], on_unit=report,
                               stop=stop) for p in parts]
        try:
            results = [f.result() for f in futures]
        except BaseException:  # Ctrl-C or a failed thread: the others stop after their unit
            stop.set()
            raise
    merged = results[0]
    for r in results[1:]:
        merged.merge(r)
    return merged


def shard_units(n_units: int, shards: int) -> list[list[int]]:
    """Cut units 0..n_units-1 into ``shards`` contiguous, near-equal sets.

    >>> shard_units(7, 3)
    [[0, 1, 2], [3, 4], [5, 6]]
    """
    shards = max(1, min(shards, n_units))
    bounds = np.unique(np.concatenate([[0], (np.arange(1, shards) * n_units + shards - 1)
                                       // shards, [n_units]]))
    return [list(range(bounds[i], bounds[i + 1])) for i in range(len(bounds) - 1)]
