"""The Python API: the same runs as the CLI, returning DataFrames for notebooks.

>>> import scslab
>>> r = scslab.run("minimal", residents=2000, days=60)
>>> int(r.timeseries["day"].iloc[-1])
59
"""

from __future__ import annotations

import datetime as dt
import functools
import platform
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pandas as pd

from scslab.engine.budget import check_budget
from scslab.engine.compile import CompiledModel, compile_scenario
from scslab.engine.runner import ShardResult, run_units, run_units_threaded, shard_units
from scslab.metrics import invariants, tables
from scslab.outputs.rundir import (
    read_manifest,
    read_summary,
    read_table,
    scenario_from_manifest,
    write_run,
)
from scslab.scenario.loader import deep_merge, load_scenario, scenario_data, scenario_hash
from scslab.scenario.schema import Scenario

TRACE_TABLES = ("records", "list_events", "residents", "firms")


@dataclass
class RunResult:
    """A finished run: its tables as DataFrames, its summary and manifest."""

    scenario: Scenario
    timeseries: pd.DataFrame
    groups: pd.DataFrame
    scores: pd.DataFrame
    summary: dict
    manifest: dict
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    path: Path | None = None

    @property
    def records(self) -> pd.DataFrame | None:
        """Every record with provenance (runs with ``outputs.records`` or ``trace=True``)."""
        return self.extra.get("records")

    @property
    def list_events(self) -> pd.DataFrame | None:
        return self.extra.get("list_events")

    @property
    def residents(self) -> pd.DataFrame | None:
        return self.extra.get("residents")

    @property
    def firms(self) -> pd.DataFrame | None:
        return self.extra.get("firms")

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"timeseries": self.timeseries, "groups": self.groups, "scores": self.scores,
                **self.extra}

    def plot(self, chart: str = "list_sizes"):
        """An Altair chart of this run for notebooks: list sizes over time by default, or
        any chart of the report by key (``scslab.report.charts.CHARTS``)."""
        from scslab.report.charts import chart_for

        return chart_for(self, chart)


def package_versions() -> dict[str, str]:
    return dict(_package_versions())


@functools.cache
def _package_versions() -> dict[str, str]:
    # read once per process: comparisons and calibrations run many small runs
    out = {"python": platform.python_version()}
    for pkg in ("scslab", "numpy", "numba", "pydantic", "pyarrow", "pandas", "pyyaml"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def prepare(
    scenario: str | Path | Scenario = "tiny",
    *,
    seed: int | None = None,
    residents: int | None = None,
    days: int | None = None,
    sets: list[str] | None = None,
    trace: bool | None = None,
    scale: float | None = None,
) -> CompiledModel:
    """Load (or take) a scenario, apply overrides and compile it.

    ``scale`` multiplies the population (residents and units; firms follow residents);
    count measures are then also reported scaled back up (``summary["scaled"]``).
    """
    overrides: dict = {}
    if seed is not None:
        overrides["seed"] = seed
    if days is not None:
        overrides["days"] = days
    if residents is not None:
        overrides.setdefault("population", {})["residents"] = residents
        # --residents below the scenario's units: at most one unit per resident
        if isinstance(scenario, Scenario):
            units = scenario.population.units
        else:
            from scslab.scenario.loader import parse_set, resolve_scenario_dict

            peek, _ = resolve_scenario_dict(scenario, deep_merge(overrides, parse_set(sets)))
            units = (peek.get("population") or {}).get("units") if isinstance(
                peek.get("population"), dict) else None
        if isinstance(units, int) and units > residents:
            overrides["population"]["units"] = residents
    if isinstance(scenario, Scenario):
        data = deep_merge(scenario.model_dump(mode="python", exclude={"end"}), overrides)
        s = Scenario.model_validate(data)
    else:
        s = load_scenario(scenario, overrides=overrides or None, sets=sets)
    if days is not None:
        s.days = days
    if scale is not None and scale != 1.0:
        if not 0 < scale <= 1000:
            from scslab.errors import ScenarioError

            raise ScenarioError([{"file": "--scale", "path": "scale", "value": scale,
                                  "message": "expected a factor above 0 and at most 1000"}])
        s.population.residents = max(1, round(s.population.residents * scale))
        s.population.units = max(1, round(s.population.units * scale))
    if s.population.units > s.population.residents:
        s.population.units = s.population.residents
    if trace is None:
        trace = s.outputs.records or s.outputs.lists
    return compile_scenario(s, trace=trace, scale=scale or 1.0)


def simulate(cm: CompiledModel, *, shards: int = 1, on_unit=None,
             workers: int = 1, dask_workers: int | None = None, scheduler: str | None = None,
             client=None) -> ShardResult:
    """Run every unit, cut into ``shards`` sets of units, and merge the sums.

    ``workers`` > 1 runs each shard's units on that many threads (identical sums).
    ``dask_workers`` runs the shards on an embedded Dask cluster of that many processes,
    ``scheduler`` on an existing Dask cluster, ``client`` on a ``distributed.Client``
    (``engine/distributed.py``; identical sums; ``shards=1`` then means "as suits the
    cluster").
    """
    if dask_workers or scheduler or client is not None:
        from scslab.engine.distributed import simulate_sharded

        return simulate_sharded(cm, shards=shards if shards > 1 else None,
                                workers=dask_workers, scheduler=scheduler, client=client,
                                on_unit=on_unit)
    result = None
    for units in shard_units(cm.units, shards):
        if workers > 1:
            part = run_units_threaded(cm, units, workers=workers, on_unit=on_unit)
        else:
            part = run_units(cm, units, on_unit=on_unit)
        result = part if result is None else result.merge(part)
    return result


def assemble(cm: CompiledModel, result: ShardResult, *, seconds: float, shards: int,
             command: str | None = None) -> RunResult:
    """Tables, summary and manifest from merged shard results."""
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
    invariants.check_run(rr)
    return rr


def run(
    scenario: str | Path | Scenario = "tiny",
    *,
    seed: int | None = None,
    residents: int | None = None,
    days: int | None = None,
    sets: list[str] | None = None,
    out: str | Path | None = None,
    shards: int = 1,
    trace: bool | None = None,
    scale: float | None = None,
    on_unit=None,
    command: str | None = None,
    workers: int = 1,
    dask_workers: int | None = None,
    scheduler: str | None = None,
) -> RunResult:
    """Run a scenario (shipped name, path or Scenario) and return its tables.

    With ``out`` the run directory is written there atomically.  ``shards`` cuts the
    units into that many sets; results are identical for any value.
    """
    cm = prepare(scenario, seed=seed, residents=residents, days=days, sets=sets, trace=trace,
                 scale=scale)
    check_budget(cm, out=out)
    t0 = time.perf_counter()
    result = simulate(cm, shards=shards, on_unit=on_unit, workers=workers,
                      dask_workers=dask_workers, scheduler=scheduler)
    seconds = time.perf_counter() - t0
    rr = assemble(cm, result, seconds=seconds, shards=shards, command=command)
    if out is not None:
        rr.path = write_run(out, manifest=rr.manifest, summary=rr.summary, tables=rr.tables())
    return rr


def load_run(path: str | Path) -> RunResult:
    """Read a complete run directory back into a RunResult."""
    path = Path(path)
    manifest = read_manifest(path)
    summary = read_summary(path)
    extra = {t: read_table(path, t) for t in TRACE_TABLES
             if f"{t}.parquet" in manifest.get("tables", [])}
    return RunResult(
        scenario=scenario_from_manifest(manifest, path),
        timeseries=read_table(path, "timeseries"), groups=read_table(path, "groups"),
        scores=read_table(path, "scores"), summary=summary, manifest=manifest, extra=extra,
        path=path,
    )
