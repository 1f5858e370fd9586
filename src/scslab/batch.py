"""Runs to a directory with checkpoints, resume, replicates and sweeps.

One run to ``DIR`` (``run_to_dir``): the shard plan and the resolved scenario go to the
checkpoint folder ``.DIR.partial/`` first, each finished shard is saved there atomically,
and ``DIR`` is written (atomically, by ``write_run``) from all shards; then the checkpoint
folder is removed.  ``resume(DIR)`` continues a killed run from its checkpoint.

A batch (``run_batch``) is several runs through the same machinery, one subdirectory each:

- ``replicates=K``: seeds ``seed, seed+1, ..., seed+K-1`` in ``DIR/rep-000`` ...;
- ``sweep="a.b.c=v1,v2"``: one run per value (``--set a.b.c=v``) in ``DIR/a.b.c=v1`` ...;
- both: ``DIR/a.b.c=v1/rep-000`` ...

The batch's arguments are saved in ``DIR/batch.json`` first, so ``resume(DIR)`` finishes a
killed batch: complete runs are kept, unfinished ones resume from their checkpoints.  The
summary figures of every run are collected in ``DIR/replicates.parquet`` (replicates only)
or ``DIR/sweep.parquet``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from scslab.engine.compile import CompiledModel
from scslab.engine.distributed import (
    default_shards,
    iter_shards,
    n_workers,
    shard_plan,
    shard_sizes,
    worker_memory,
)
from scslab.engine.layout import UnitOutputs
from scslab.errors import RunDirError, ScenarioError
from scslab.outputs.checkpoint import Checkpoint, atomic_write_bytes, checkpoint_path
from scslab.outputs.rundir import MANIFEST, read_manifest, write_run

BATCH = "batch.json"
Advance = Callable[[int], None]


def run_to_dir(
    cm: CompiledModel,
    out: str | Path,
    *,
    shards: int | None = None,
    client=None,
    shared_disk: bool = True,
    command: str | None = None,
    advance: Advance | None = None,
    checkpoint: Checkpoint | None = None,
    threads: int = 1,
):
    """Run ``cm`` to the run directory ``out`` with per-shard checkpoints; a RunResult.

    With ``checkpoint`` (from ``Checkpoint.open``) the run continues: finished shards are
    loaded, only the others are run.  Without a client, each shard's units run on
    ``threads`` threads (identical tables for any count).
    """
    from scslab import api
    from scslab.scenario.loader import scenario_hash

    out = Path(out)
    if checkpoint is None:
        if shards is None:
            shards = default_shards(cm, n_workers(client), worker_memory(client))
        plan = shard_plan(cm, shards)
        checkpoint = Checkpoint.create(out, {
            "scenario": _scenario_data(cm), "scenario_hash": scenario_hash(cm.scenario),
            "seed": cm.scenario.seed, "trace": bool(cm.arrays.trace), "plan": plan,
            "scale": getattr(cm, "scale", 1.0),
            "command": command, "created": dt.datetime.now(dt.UTC).isoformat(),
        })
    plan = checkpoint.plan
    checkpoint.clean_temporaries()
    sizes = shard_sizes(cm, plan)
    t0 = time.perf_counter()
    result = None
    done = checkpoint.done()
    for i in done:
        part = checkpoint.load(i, UnitOutputs)
        result = part if result is None else result.merge(part)
        if advance is not None:
            advance(sizes[i])
    todo = [i for i in range(len(plan)) if i not in set(done)]
    on_unit = (lambda u, n: advance(n)) if (advance is not None and client is None) else None
    for i, part in iter_shards(cm, plan, todo, client=client, checkpoint_dir=checkpoint.folder,
                               shared_disk=shared_disk, on_unit=on_unit, threads=threads):
        result = part if result is None else result.merge(part)
        if advance is not None and client is not None:
            advance(sizes[i])
    seconds = time.perf_counter() - t0
    rr = api.assemble(cm, result, seconds=seconds, shards=len(plan),
                      command=command or checkpoint.meta.get("command"))
    rr.manifest["resumed"] = bool(done)
    rr.path = write_run(out, manifest=rr.manifest, summary=rr.summary, tables=rr.tables())
    checkpoint.remove()
    return rr


def _scenario_data(cm: CompiledModel) -> dict:
    from scslab.scenario.loader import scenario_data

    return scenario_data(cm.scenario)


def is_complete(run_dir: str | Path) -> bool:
    try:
        read_manifest(run_dir)
    except RunDirError:
        return False
    return True


def resume_run(out: str | Path, *, client=None, shared_disk: bool = True,
               advance_for: Callable[[CompiledModel, str], Advance] | None = None,
               threads: int = 1):
    """Finish the killed run at ``out`` from its checkpoint; a RunResult."""
    from scslab.engine.compile import compile_scenario
    from scslab.scenario.loader import scenario_hash
    from scslab.scenario.schema import Scenario

    ckpt = Checkpoint.open(out)
    if ckpt is None:
        if is_complete(out):
            raise RunDirError(f"{out}: the run is already complete; nothing to resume")
        raise RunDirError(
            f"{out}: no unfinished run to resume (no {checkpoint_path(out)}/checkpoint.json); "
            "start it again with the same scslab run command"
        )
    meta = ckpt.meta
    # the saved scenario is already resolved (overrides, --set and --scale applied)
    cm = compile_scenario(Scenario.model_validate(meta["scenario"]), trace=meta["trace"],
                          scale=meta.get("scale", 1.0))
    if scenario_hash(cm.scenario) != meta["scenario_hash"]:
        raise RunDirError(f"{out}: the checkpoint's scenario does not rebuild to the same "
                          "hash with this scslab; start the run again")
    advance = advance_for(cm, Path(out).name) if advance_for else None
    return run_to_dir(cm, out, client=client, shared_disk=shared_disk, advance=advance,
                      checkpoint=ckpt, command=meta.get("command"), threads=threads)


def batch_plan(seed: int, replicates: int = 1, sweep: str | None = None) -> list[dict]:
    """The runs of a batch: subdirectory, seed, extra ``--set`` and labels.

    >>> [r["name"] for r in batch_plan(5, 2, "days=10,20")]
    ['days=10/rep-000', 'days=10/rep-001', 'days=20/rep-000', 'days=20/rep-001']
    """
    if replicates < 1:
        raise ScenarioError([{"path": "--replicates", "message": "must be at least 1",
                              "value": replicates}])
    values: list[str | None] = [None]
    param = None
    if sweep:
        param, sep, rhs = sweep.partition("=")
        vals = [v.strip() for v in rhs.split(",") if v.strip()]
        if not sep or not param.strip() or not vals:
            raise ScenarioError([{"path": "--sweep", "value": sweep,
                                  "message": "expected a.b.c=VALUE1,VALUE2,..."}])
        param = param.strip()
        values = vals
    runs = []
    for v in values:
        for r in range(replicates):
            parts = []
            if v is not None:
                parts.append(f"{param}={v}")
            if replicates > 1:
                parts.append(f"rep-{r:03d}")
            runs.append({
                "name": "/".join(parts), "seed": seed + r, "replicate": r,
                "sets": [f"{param}={v}"] if v is not None else [],
                "param": param, "value": v,
            })
    return runs


def _flat(summary: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in summary.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        elif isinstance(v, bool | int | float | str) or v is None:
            out[f"{prefix}{k}"] = v
    return out


def run_batch(
    scenario: str,
    out: str | Path,
    *,
    seed: int | None = None,
    residents: int | None = None,
    days: int | None = None,
    sets: list[str] | None = None,
    trace: bool | None = None,
    scale: float | None = None,
    shards: int | None = None,
    replicates: int = 1,
    sweep: str | None = None,
    client=None,
    shared_disk: bool = True,
    command: str | None = None,
    advance_for: Callable[[CompiledModel, str], Advance] | None = None,
    resume: bool = False,
) -> tuple[Path, pd.DataFrame]:
    """Run replicates and/or a sweep into ``out``; the figures table and its path."""
    from scslab import api

    out = Path(out).absolute()
    args = dict(scenario=str(scenario), seed=seed, residents=residents, days=days,
                sets=list(sets or []), trace=trace, scale=scale, shards=shards,
                replicates=replicates,
                sweep=sweep, command=command)
    if resume:
        args = json.loads((out / BATCH).read_text())
    else:
        if (out / MANIFEST).exists() or (
                out.is_dir() and any(out.iterdir()) and not (out / BATCH).is_file()):
            raise RunDirError(f"{out}: exists and is not a scslab batch; choose another --out")
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out / BATCH, lambda f: f.write(json.dumps(args, indent=1).encode()))
    base_seed = args["seed"]
    if base_seed is None:
        from scslab.scenario.loader import load_scenario

        base_seed = load_scenario(args["scenario"], sets=args["sets"] or None).seed
    rows = []
    for run in batch_plan(base_seed, args["replicates"], args["sweep"]):
        target = out / run["name"]
        if resume and is_complete(target):
            pass  # finished before the batch was killed
        elif resume and Checkpoint.open(target) is not None:
            resume_run(target, client=client, shared_disk=shared_disk, advance_for=advance_for)
        else:
            cm = api.prepare(args["scenario"], seed=run["seed"], residents=args["residents"],
                             days=args["days"], sets=[*args["sets"], *run["sets"]] or None,
                             trace=args["trace"], scale=args.get("scale"))
            advance = advance_for(cm, run["name"]) if advance_for else None
            run_to_dir(cm, target, shards=args["shards"], client=client,
                       shared_disk=shared_disk, advance=advance,
                       command=f"{args['command'] or 'scslab run'} [{run['name']}]")
        summary = json.loads((target / "summary.json").read_text())
        row = {"run": run["name"], "seed": run["seed"], "replicate": run["replicate"]}
        if run["param"]:
            row["param"], row["value"] = run["param"], run["value"]
        row.update(_flat(summary))
        rows.append(row)
    table = pd.DataFrame(rows)
    name = "sweep.parquet" if args["sweep"] else "replicates.parquet"
    buf = io.BytesIO()
    table.to_parquet(buf, index=False)
    atomic_write_bytes(out / name, lambda f: f.write(buf.getvalue()))
    return out / name, table
