"""The Python API: the same runs as the command line, returning DataFrames for notebooks.

This façade gathers the library's entry points under short names.  Their keyword
arguments are of two kinds: what a run changes in its scenario (``seed``, ``residents``,
``scale``, ``days``, ``sets``, ``trace``: the fields of :class:`RunOptions`, declared
once there) and where it executes (``threads``, Dask ``workers``, a ``scheduler``
address; ``shards``), which never changes a result.

>>> import scslab
>>> r = scslab.run("minimal", residents=2000, days=60)
>>> int(r.timeseries["day"].iloc[-1])
59
"""

from __future__ import annotations

from pathlib import Path
from typing import Unpack

import scslab.report.notebook  # noqa: F401  (registers RunResult.plot and Comparison.plot)
from scslab.engine.compile import CompiledModel
from scslab.experiments import compare as _compare
from scslab.run import pipeline
from scslab.run import sweep as _sweep
from scslab.run.options import Overrides, RunOptions, options_of
from scslab.run.result import RunResult, load_run
from scslab.scenario.schema import Scenario

ScenarioRef = str | Path | Scenario
Comparison = _compare.Comparison
Sweep = _sweep.Sweep
load_comparison = _compare.load_comparison
simulate = pipeline.simulate
assemble = pipeline.assemble


def run(
    scenario: ScenarioRef = "tiny",
    options: RunOptions | None = None,
    *,
    out: str | Path | None = None,
    shards: int = 1,
    threads: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    on_unit=None,
    command: str | None = None,
    force: bool = False,
    **overrides: Unpack[Overrides],
) -> RunResult:
    """Run a scenario (shipped name, path or Scenario) and return its tables.

    ``threads`` (default: the cores available), Dask ``workers`` or a ``scheduler``
    address say where it runs and ``shards`` how it is cut; the tables are identical for
    every choice.  With ``out`` the run directory is written there atomically; it replaces
    only a scslab run of the same scenario there (``force=True``: of any scenario).
    """
    return pipeline.run(scenario, options_of(options, **overrides), out=out, shards=shards,
                        threads=threads, workers=workers, scheduler=scheduler,
                        on_unit=on_unit, command=command, force=force)


def sweep(
    scenario: ScenarioRef = "tiny",
    sweep: str = "",
    options: RunOptions | None = None,
    *,
    replicates: int = 1,
    out: str | Path | None = None,
    shards: int | None = None,
    threads: int | None = None,
    **overrides: Unpack[Overrides],
) -> Sweep:
    """One run per value of a parameter, as ``scslab run --sweep``: ``sweep`` is
    ``a.b.c=V1,V2,...``; with ``replicates`` each value runs at seeds ``seed ..
    seed + replicates - 1``.  In memory, or written to ``out/a.b.c=V1 ...`` with ``out``
    (:func:`scslab.run.sweep.sweep`).

    >>> s = sweep("minimal", "policy.lists.blacklist.below=950,990", residents=500, days=30)
    >>> list(s.runs)
    ['policy.lists.blacklist.below=950', 'policy.lists.blacklist.below=990']
    """
    return _sweep.sweep(scenario, sweep, options_of(options, **overrides),
                        replicates=replicates, out=out, shards=shards, threads=threads)


def prepare(scenario: ScenarioRef = "tiny", options: RunOptions | None = None,
            **overrides: Unpack[Overrides]) -> CompiledModel:
    """The scenario with its overrides applied, compiled for the engine (for ``simulate``
    and ``assemble``, e.g. on your own Dask client)."""
    return pipeline.prepare(scenario, options_of(options, **overrides))


def compare(
    scenarios: list,
    options: RunOptions | None = None,
    *,
    replicates: int = 1,
    level: float = 0.95,
    interval: str = "t",
    reference: dict[str, str] | None = None,
    shards: int = 1,
    out: str | Path | None = None,
    on_run=None,
    **overrides: Unpack[Overrides],
) -> Comparison:
    """Run (or read) scenarios on the same population with common random numbers and
    compare every measure (:func:`scslab.experiments.compare.compare`); ``sets`` take the
    ``[LABEL:|N:]a.b=V`` form."""
    return _compare.compare(scenarios, options_of(options, **overrides),
                            replicates=replicates, level=level, interval=interval,
                            reference=reference, shards=shards, out=out, on_run=on_run)


__all__ = ["Comparison", "RunOptions", "RunResult", "Sweep", "assemble", "compare",
           "load_comparison", "load_run", "prepare", "run", "simulate", "sweep"]
