"""One scenario run at many parameter points: what sensitivity analysis, Bayesian
calibration and intervals over draws all do.

A *point* is a value for each uncertain path (:mod:`scslab.scenario.uncertainty`); every
point runs at the same seeds (common random numbers), so two points differ only by their
parameters and not by the luck of their seeds.  Runs are independent and each is whole:

* in this process, ``threads`` runs go at once on a pool of threads, each run's units on
  its own thread (the event loop releases the GIL); the numba kernel, compiled once and
  cached, serves every run, and a run costs its kernel time plus a fixed overhead
  (validation, compilation to arrays, tables, measures: ``bench/points_overhead.py``);
* with ``workers`` or ``scheduler``, every run is one Dask task (the base scenario is sent
  to the workers once).

The results are identical either way, because each run's randomness is keyed to its seed
and its residents, never to a thread, a worker or the order of completion.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scslab.engine.runner import default_threads
from scslab.metrics import tables as metrics_tables
from scslab.metrics.measures import run_measures
from scslab.run.distributed import dask_client
from scslab.run.options import RunOptions
from scslab.run.pipeline import assemble, prepare, simulate
from scslab.run.result import RunResult
from scslab.scenario.schema import Scenario
from scslab.scenario.uncertainty import with_values

Collect = Callable[[RunResult], Mapping[str, float]]


@dataclass(frozen=True)
class RunTiming:
    """Where one run's wall time went: the event loop against everything else."""

    simulate: float
    total: float


@dataclass
class PointRuns:
    """Every run of a set of points: ``table`` has one row per run with ``point``,
    ``seed``, the value of each path and each collected measure (rows ordered by point,
    then seed)."""

    table: pd.DataFrame
    paths: list[str]
    measures: list[str]
    timings: list[RunTiming] = field(default_factory=list)

    def values(self, measure: str, seeds: int) -> np.ndarray:
        """``measure`` as an array of points x seeds."""
        return self.table[measure].to_numpy(dtype=float).reshape(-1, seeds)


def run_point(base: Scenario, values: Mapping[str, float] | None, seed: int,
              options: RunOptions | None = None, collect: Collect = run_measures,
              threads: int = 1, tables: str = "full") -> tuple[dict[str, float], RunTiming]:
    """Run ``base`` with ``values`` at ``seed``: its measures and where the time went
    (``values=None``: ``base`` already carries them).

    ``tables`` says what the run builds for ``collect``: ``full`` (every table, the
    invariants checked), ``light`` (timeseries, summary and the groups table's whole-run
    rows, no checks: about 30 ms less a run) or ``timeseries`` (that table alone): for
    the thousands of small runs of a calibration, whose collect reads nothing else.
    """
    t0 = time.perf_counter()
    s = with_values(base, values) if values else base
    o = (options or RunOptions()).replace(seed=seed, sets=(), trace=False)
    cm = prepare(s, o)
    t1 = time.perf_counter()
    result = simulate(cm, threads=threads)
    t2 = time.perf_counter()
    if tables == "full":
        rr = assemble(cm, result, seconds=t2 - t1, shards=1,
                      command="scslab (parameter point)")
    else:
        rr = light_result(cm, result, summary=tables == "light")
    measures = {k: float(v) for k, v in collect(rr).items()}
    return measures, RunTiming(simulate=t2 - t1, total=time.perf_counter() - t0)


def light_result(cm, result, summary: bool = True) -> RunResult:
    """A RunResult with the timeseries of a run, and its summary and the groups table's
    whole-run rows (no calendar years) if asked."""
    ts = metrics_tables.timeseries_table(cm, result.outputs)
    return RunResult(scenario=cm.scenario, timeseries=ts,
                     groups=metrics_tables.groups_table(cm, result.outputs, periods=False)
                     if summary else pd.DataFrame(), scores=pd.DataFrame(),
                     summary=metrics_tables.summary_dict(cm, ts, result.outputs) if summary
                     else {},
                     manifest={"residents": cm.residents, "seed": cm.scenario.seed,
                               "scale": cm.scale, "days": cm.n_days})


def check_points(base: Scenario, paths: Sequence[str], x: np.ndarray) -> list[Scenario]:
    """The scenario of every point, each validated: before any run starts, so a bad
    combination fails at once and nothing is half-done."""
    return [with_values(base, dict(zip(paths, map(float, row), strict=True)))
            for row in np.atleast_2d(x)]


def run_points(base: Scenario, paths: Sequence[str], x, seeds: Sequence[int] | None = None,
               options: RunOptions | None = None, *, row_seeds: Sequence[int] | None = None,
               collect: Collect = run_measures, tables: str = "full",
               threads: int | None = None, workers: int | None = None,
               scheduler: str | None = None, client=None,
               on_run: Callable[[int, int], None] | None = None) -> PointRuns:
    """Run ``base`` at every row of ``x`` (columns: ``paths``) at every one of ``seeds``
    (common random numbers), or each row at its own seed of ``row_seeds``.

    ``options`` set the population and period of every run (their seed and sets are not
    used: the seeds are given and ``base`` is already resolved).  ``collect`` turns a run
    into its figures (default: every measure), ``tables`` as in :func:`run_point`.
    ``on_run(done, total)`` reports progress.  The table is the same for any
    ``threads``, ``workers`` or ``scheduler``.
    """
    x = np.atleast_2d(np.asarray(x, dtype=float)).reshape(-1, len(paths))
    paths = list(paths)
    scenarios = check_points(base, paths, x)
    if row_seeds is not None:
        pairs = [(i, int(s)) for i, s in enumerate(row_seeds)]
    else:
        pairs = [(i, int(s)) for i in range(len(x)) for s in seeds]
    jobs = [(i, dict(zip(paths, map(float, x[i]), strict=True)), s) for i, s in pairs]
    results: list = [None] * len(jobs)
    done = [0]

    def finished(j: int, res) -> None:
        results[j] = res
        done[0] += 1
        if on_run is not None:
            on_run(done[0], len(jobs))

    if workers or scheduler or client is not None:
        _run_on_dask(base, jobs, options, collect, tables, finished, workers, scheduler,
                     client)
    else:
        n = default_threads() if threads is None else threads
        if n <= 1:
            for j, (i, _, seed) in enumerate(jobs):
                finished(j, run_point(scenarios[i], None, seed, options, collect, 1, tables))
        else:
            with ThreadPoolExecutor(max_workers=n) as pool:
                futures = [pool.submit(run_point, scenarios[i], None, seed, options, collect,
                                       1, tables) for i, _, seed in jobs]
                for j, f in enumerate(futures):
                    finished(j, f.result())
    measures: list[str] = []
    for m, _ in results:
        measures.extend(k for k in m if k not in measures)
    rows = {"point": [i for i, _, _ in jobs], "seed": [s for _, _, s in jobs]}
    for k, p in enumerate(paths):
        rows[p] = [x[i, k] for i, _, _ in jobs]
    for name in measures:
        rows[name] = [m.get(name, np.nan) for m, _ in results]
    return PointRuns(table=pd.DataFrame(rows), paths=paths, measures=measures,
                     timings=[t for _, t in results])


def _run_on_dask(base, jobs, options, collect, tables, finished, workers, scheduler, client):
    """Each run one task; the base scenario travels to the workers once."""
    def go(c):
        [base_future] = c.scatter([base], broadcast=True, hash=False)
        futures = [c.submit(run_point, base_future, values, seed, options, collect, 1, tables,
                            pure=False, retries=3) for _, values, seed in jobs]
        for j, f in enumerate(futures):
            finished(j, f.result())

    if client is not None:
        go(client)
        return
    with dask_client(workers, scheduler) as c:
        go(c)
