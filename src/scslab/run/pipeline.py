"""One run from a scenario to its tables: prepare, simulate, assemble.

>>> from scslab.run.options import RunOptions
>>> r = run("minimal", RunOptions(residents=2000, days=60))
>>> int(r.timeseries["day"].iloc[-1])
59
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

from pydantic import ValidationError

from scslab.engine.budget import check_budget
from scslab.engine.compile import CompiledModel, compile_scenario
from scslab.engine.runner import ShardResult, default_threads, run_units_threaded, shard_units
from scslab.errors import ScenarioError
from scslab.metrics import invariants, tables
from scslab.outputs.rundir import check_target, write_run
from scslab.run.distributed import simulate_sharded
from scslab.run.options import RunOptions
from scslab.run.result import RunResult, package_versions
from scslab.scenario.loader import (
    deep_merge,
    load_scenario,
    parse_set,
    resolve_scenario_dict,
    scenario_data,
    scenario_hash,
)
from scslab.scenario.schema import MAX_RESIDENTS, MAX_UNITS, Scenario

ScenarioRef = str | Path | Scenario


def prepare(scenario: ScenarioRef = "tiny", options: RunOptions | None = None) -> CompiledModel:
    """Load (or take) a scenario, apply ``options`` and compile it.

    ``options.scale`` multiplies the population (residents and units; firms follow
    residents); count measures are then also reported scaled back up
    (``summary["scaled"]``).  The limits of the schema apply to the scenario as resolved,
    after every override.
    """
    o = options or RunOptions()
    if not isinstance(scenario, str | Path | Scenario):
        raise ScenarioError([{"file": "", "path": "scenario", "value": repr(scenario)[:60],
                              "message": "expected a shipped scenario name, a path to a "
                                         "scenario file or a Scenario"}])
    if not isinstance(o, RunOptions):
        raise ScenarioError([{"file": "", "path": "options", "value": repr(o)[:60],
                              "message": "expected a RunOptions"}])
    overrides: dict = {}
    if o.seed is not None:
        overrides["seed"] = o.seed
    if o.days is not None:
        overrides["days"] = o.days
    if o.residents is not None:
        overrides.setdefault("population", {})["residents"] = o.residents
        # --residents below the scenario's units: at most one unit per resident
        if isinstance(scenario, Scenario):
            units = scenario.population.units
        else:
            peek, _ = resolve_scenario_dict(scenario, deep_merge(overrides, parse_set(o.sets)))
            units = (peek.get("population") or {}).get("units") if isinstance(
                peek.get("population"), dict) else None
        if isinstance(units, int) and units > o.residents:
            overrides["population"]["units"] = o.residents
    if isinstance(scenario, Scenario):
        data = deep_merge(scenario.model_dump(mode="python", exclude={"end"}),
                          deep_merge(parse_set(o.sets), overrides))
        try:
            s = Scenario.model_validate(data)
        except ValidationError as e:
            raise ScenarioError([
                {"file": "--set" if o.sets else "options",
                 "path": ".".join(str(x) for x in err["loc"]), "value": err.get("input", ""),
                 "message": err["msg"]} for err in e.errors(include_url=False)]) from None
    else:
        s = load_scenario(scenario, overrides=overrides or None, sets=list(o.sets) or None)
    if o.days is not None:
        s.days = o.days
    scale = o.scale if o.scale is not None else 1.0
    if scale != 1.0:
        s.population.residents = max(1, round(s.population.residents * scale))
        s.population.units = max(1, round(s.population.units * scale))
    if s.population.units > s.population.residents:
        s.population.units = s.population.residents
    check_resolved(s, scale, source="" if isinstance(scenario, Scenario) else str(scenario))
    trace = o.trace
    if trace is None:
        trace = s.outputs.records or s.outputs.lists
    return compile_scenario(s, trace=trace, scale=scale)


def check_placement(*, shards=None, threads=None, workers=None, scheduler=None,
                    replicates=None) -> None:
    """Where and how a run executes: whole numbers of at least 1 (``None`` for the
    default), a scheduler address as text; a ScenarioError naming the argument otherwise."""
    for name, v in (("shards", shards), ("threads", threads), ("workers", workers),
                    ("replicates", replicates)):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int):
            raise ScenarioError([{"file": "options", "path": name, "value": v,
                                  "message": "expected a whole number of at least 1"}])
        if v < 1:
            raise ScenarioError([{"file": "options", "path": name, "value": v,
                                  "message": "expected a whole number of at least 1"}])
    if scheduler is not None and not (isinstance(scheduler, str) and scheduler.strip()):
        raise ScenarioError([{"file": "options", "path": "scheduler", "value": scheduler,
                              "message": "expected a Dask scheduler address such as "
                                         "tcp://host:8786"}])


def check_run(cm: CompiledModel, *, out: str | Path | None = None, shards: int | None = None,
              workers: int = 1, threads: int = 1):
    """The one gate every run passes before any work, whatever its path (a single run,
    replicates, a sweep, a resumed run, the API): the schema's limits on the scenario as it
    will run (``check_resolved``) and the memory and disk budget (``check_budget``, with
    ``shards`` checkpoints beside ``out``).  Returns the estimate."""
    check_resolved(cm.scenario, getattr(cm, "scale", 1.0))
    return check_budget(cm, out=out, workers=workers, threads=threads, shards=shards)


def check_resolved(s: Scenario, scale: float = 1.0, source: str = "") -> None:
    """The schema's limits on the scenario as it will run (after scale and overrides);
    ``source`` names the scenario (its file or name) in the problems."""
    problems = []
    if s.population.residents > MAX_RESIDENTS:
        problems.append({"file": "--scale" if scale != 1.0 else "", "path":
                         "population.residents", "value": s.population.residents,
                         "message": f"the resolved population is above {MAX_RESIDENTS:,} "
                                    "residents (after --scale); use a smaller scale"})
    if s.population.units > MAX_UNITS:
        problems.append({"file": "--scale" if scale != 1.0 else "", "path": "population.units",
                         "value": s.population.units,
                         "message": f"the resolved scenario has more than {MAX_UNITS:,} units"})
    try:
        s.start + dt.timedelta(days=s.n_days)
    except OverflowError:
        problems.append({"file": source, "path": "days", "value": s.n_days,
                         "message": f"the period (from start {s.start}) runs past the year "
                                    "9999"})
    if problems:
        raise ScenarioError(problems)


def simulate(cm: CompiledModel, *, shards: int = 1, threads: int | None = None, on_unit=None,
             workers: int | None = None, scheduler: str | None = None,
             client=None) -> ShardResult:
    """Run every unit, cut into ``shards`` sets of units, and merge the sums.

    Without Dask, each shard's units run on ``threads`` threads of this process (default:
    the cores available to it); ``workers`` runs the shards on an embedded Dask cluster of
    that many processes, ``scheduler`` on an existing Dask cluster, ``client`` on a
    ``distributed.Client`` (``run/distributed.py``; ``shards=1`` then means "as suits the
    cluster").  The sums are identical in every case.  The run passes the gate of
    ``check_run`` first (memory; no disk is written).
    """
    check_placement(shards=shards, threads=threads, workers=workers, scheduler=scheduler)
    dask = bool(workers or scheduler or client is not None)
    check_run(cm, workers=workers or 1,
              threads=1 if dask else (threads or default_threads()))
    return _simulate(cm, shards=shards, threads=threads, on_unit=on_unit, workers=workers,
                     scheduler=scheduler, client=client)


def _simulate(cm, *, shards, threads, on_unit, workers, scheduler, client) -> ShardResult:
    if workers or scheduler or client is not None:
        return simulate_sharded(cm, shards=shards if shards > 1 else None, workers=workers,
                                scheduler=scheduler, client=client, on_unit=on_unit)
    threads = default_threads() if threads is None else threads
    result = None
    for units in shard_units(cm.units, shards):
        part = run_units_threaded(cm, units, workers=threads, on_unit=on_unit)
        result = part if result is None else result.merge(part)
    return result


def assemble(cm: CompiledModel, result: ShardResult, *, seconds: float, shards: int,
             command: str | None = None, check_invariants: bool = True) -> RunResult:
    """Tables, summary and manifest from merged shard results; the invariants checked
    (unless ``check_invariants=False``: see :func:`run`)."""
    ts = tables.timeseries_table(cm, result.outputs)
    summary = tables.summary_dict(cm, ts, result.outputs)
    summary["seconds"] = round(seconds, 3)
    summary["resident_days_per_second"] = cm.residents * cm.n_days / max(seconds, 1e-9)
    extra = {}
    if cm.arrays.trace:
        traces = sorted(result.traces, key=lambda t: t["unit"])
        extra = {
            "records": tables.records_table(cm, traces),
            "list_events": tables.list_events_table(cm, traces),
            "residents": tables.residents_table(cm, traces),
            "firms": tables.firms_table(cm, traces),
        }
    manifest = {
        "scenario_name": cm.scenario.name,
        "scenario": scenario_data(cm.scenario),
        "scenario_hash": scenario_hash(cm.scenario),
        "seed": cm.scenario.seed,
        "residents": cm.residents,
        "days": cm.n_days,
        "shards": shards,
        "scale": cm.scale,
        "versions": package_versions(),
        "command": command or " ".join(["scslab", *sys.argv[1:]]),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    rr = RunResult(
        scenario=cm.scenario, timeseries=ts, groups=tables.groups_table(cm, result.outputs),
        scores=tables.score_hist_table(cm, result.outputs), summary=summary,
        manifest=manifest, extra=extra,
    )
    if check_invariants:
        invariants.check_run(rr)
    return rr


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
    check_invariants: bool = True,
) -> RunResult:
    """Run a scenario (shipped name, path or Scenario) and return its tables.

    With ``out`` the run directory is written there atomically (replacing a run of another
    scenario only with ``force``).  ``shards`` cuts the units into that many sets; results
    are identical for any value, and for any number of ``threads`` or Dask ``workers``.

    ``check_invariants=False`` skips the invariant checks (``metrics/invariants.py``) for a
    run that is looked at and dropped, such as the sandbox's previews, whose numbers
    ``scslab compare`` reproduces with the checks; a run written to ``out`` is always
    checked.
    """
    check_placement(shards=shards, threads=threads, workers=workers, scheduler=scheduler)
    for name, flag in (("force", force), ("check_invariants", check_invariants)):
        if not isinstance(flag, bool):
            raise ScenarioError([{"file": "options", "path": name, "value": flag,
                                  "message": "expected true or false"}])
    if out is not None and not check_invariants:
        raise ScenarioError([{"file": "options", "path": "check_invariants", "value": False,
                              "message": "a run written to out is always checked; leave "
                                         "check_invariants true"}])
    cm = prepare(scenario, options)
    if out is not None:
        out = check_target(out, cm.scenario.name, force=force)
    check_run(cm, out=out, workers=workers or 1,
              threads=1 if (workers or scheduler) else (threads or default_threads()))
    t0 = time.perf_counter()
    result = _simulate(cm, shards=shards, threads=threads, on_unit=on_unit, workers=workers,
                       scheduler=scheduler, client=None)
    seconds = time.perf_counter() - t0
    rr = assemble(cm, result, seconds=seconds, shards=shards, command=command,
                  check_invariants=check_invariants)
    if out is not None:
        rr.path = write_run(out, manifest=rr.manifest, summary=rr.summary, tables=rr.tables(),
                            force=force)
    return rr


def run_replicates(scenario: ScenarioRef, options: RunOptions | None = None, *,
                   replicates: int = 1, seed: int | None = None, on_run=None,
                   **placement) -> list[RunResult]:
    """``replicates`` runs at seeds ``seed, seed + 1, ...`` (default: the options' seed, else
    the scenario's): common random numbers across every caller that uses the same seeds.
    ``on_run(r)`` is called after replicate ``r``."""
    o = options or RunOptions()
    check_placement(replicates=replicates)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ScenarioError([{"file": "options", "path": "seed", "value": seed,
                              "message": "expected a whole number of at least 0"}])
    if seed is None:
        seed = o.seed
    if seed is None:
        seed = (scenario if isinstance(scenario, Scenario)
                else load_scenario(scenario, sets=list(o.sets) or None)).seed
    runs = []
    for r in range(replicates):
        runs.append(run(scenario, o.replace(seed=seed + r), **placement))
        if on_run is not None:
            on_run(r)
    return runs
