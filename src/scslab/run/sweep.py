"""Sweeps from Python: one run per value of a scenario parameter, for notebooks.

``sweep("tiny", "policy.lists.blacklist.below=900,950")`` runs the scenario once per value
(and per replicate) with the same plan as ``scslab run --sweep`` (``batch.batch_plan``:
the same run names and seeds).  In memory by default; with ``out`` each run is written to
``out/PARAM=VALUE`` (``out/PARAM=VALUE/rep-000`` with replicates) through the command
line's checkpointed batch machinery, and read back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scslab.errors import ScenarioError
from scslab.run import batch
from scslab.run.options import RunOptions
from scslab.run.pipeline import run
from scslab.run.result import RunResult, load_run
from scslab.scenario.loader import load_scenario
from scslab.scenario.schema import Scenario


@dataclass
class Sweep:
    """The runs of a sweep by name (``PARAM=VALUE[/rep-NNN]``) and one row of figures per
    run (``table``: ``run, param, value, seed, replicate`` and the summary's numbers)."""

    param: str
    runs: dict[str, RunResult]
    table: pd.DataFrame
    path: Path | None = None

    def __repr__(self) -> str:
        cols = [c for c in ("run", "seed", "listed_end", "listings_new",
                            "wrongful_share_of_list_days") if c in self.table]
        where = f" in {self.path}" if self.path else ""
        return (f"Sweep of {self.param} over {self.table['value'].nunique()} values, "
                f"{len(self.runs)} runs{where}\n"
                + self.table[cols].to_string(index=False))

    def _repr_html_(self) -> str:
        cols = [c for c in ("run", "seed", "listed_end", "listings_new",
                            "wrongful_share_of_list_days") if c in self.table]
        return self.table[cols].to_html(index=False)


def _row(name: str, plan: dict, rr: RunResult) -> dict:
    row = {"run": name, "param": plan["param"], "value": plan["value"], "seed": plan["seed"],
           "replicate": plan["replicate"]}
    for k, v in rr.summary.items():
        if isinstance(v, bool | int | float | str) or v is None:
            row[k] = v
    return row


def sweep(scenario: str | Path | Scenario, spec: str, options: RunOptions | None = None, *,
          replicates: int = 1, out: str | Path | None = None, shards: int | None = None,
          threads: int | None = None) -> Sweep:
    """Run ``scenario`` once per value of ``spec`` (``a.b.c=V1,V2,...``), each value with
    seeds ``seed .. seed + replicates - 1``; a :class:`Sweep`."""
    o = options or RunOptions()
    seed = o.seed
    if seed is None:
        seed = (scenario if isinstance(scenario, Scenario)
                else load_scenario(scenario, sets=list(o.sets) or None)).seed
    plans = batch.batch_plan(seed, replicates, spec)
    runs: dict[str, RunResult] = {}
    if out is not None:
        if isinstance(scenario, Scenario):
            raise ScenarioError([{"path": "out", "value": str(out), "message":
                                        "a sweep written to disk takes a shipped name or a "
                                        "YAML path (it is re-read to resume)"}])
        out = Path(out)
        batch.run_batch(str(scenario), out, o, shards=shards, replicates=replicates,
                        sweep=spec, command=f"scslab.sweep({str(scenario)!r}, {spec!r})")
        for p in plans:
            runs[p["name"]] = load_run(out / p["name"])
    else:
        for p in plans:
            runs[p["name"]] = run(scenario, o.replace(seed=p["seed"]).with_sets(*p["sets"]),
                                  shards=shards or 1, threads=threads,
                                  command=f"scslab.sweep ({p['name']}, seed {p['seed']})")
    table = pd.DataFrame([_row(p["name"], p, runs[p["name"]]) for p in plans])
    return Sweep(param=plans[0]["param"], runs=runs, table=table, path=out)
