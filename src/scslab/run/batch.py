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

Every run holds the lock of its directory (``files.hold_lock``) from before its checkpoint
is made until its directory is written, passes the one gate (``pipeline.check_run``) with
its checkpoints counted, and replaces only a scslab run of the same scenario (``force``:
of any scenario).  A sweep value becomes one directory name inside ``DIR``, never a path.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from pydantic import ValidationError as PydanticValidationError

from scslab.engine.compile import CompiledModel, compile_scenario
from scslab.engine.kernel import UnitOutputs
from scslab.errors import RunDirError, ScenarioError
from scslab.files import atomic_write_bytes, atomic_write_text, hold_lock
from scslab.outputs.checkpoint import Checkpoint, checkpoint_path
from scslab.outputs.rundir import (
    MANIFEST,
    check_out,
    check_target,
    read_manifest,
    recover_leftovers,
    write_run,
)
from scslab.run.distributed import (
    default_shards,
    iter_shards,
    n_workers,
    shard_plan,
    shard_sizes,
    worker_memory,
)
from scslab.run.options import RunOptions
from scslab.run.pipeline import assemble, check_placement, check_run, prepare
from scslab.scenario.loader import load_scenario, scenario_data, scenario_hash
from scslab.scenario.schema import Scenario

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
    force: bool = False,
):
    """Run ``cm`` to the run directory ``out`` with per-shard checkpoints; a RunResult.

    With ``checkpoint`` (from ``Checkpoint.open``) the run continues: finished shards are
    loaded, only the others are run.  Without a client, each shard's units run on
    ``threads`` threads (identical tables for any count).  ``out`` is locked throughout;
    a run of another scenario there is replaced only with ``force``.
    """
    check_placement(shards=shards, threads=threads)
    out = check_target(out, cm.scenario.name, force=force)
    with hold_lock(out):
        check_target(out, cm.scenario.name, force=force)  # again, now that it is ours
        if checkpoint is None:
            if shards is None:
                shards = default_shards(cm, n_workers(client), worker_memory(client))
            plan = shard_plan(cm, shards)
            check_run(cm, out=out, shards=len(plan), workers=max(1, n_workers(client)),
                      threads=threads)
            checkpoint = Checkpoint.create(out, {
                "scenario": scenario_data(cm.scenario),
                "scenario_hash": scenario_hash(cm.scenario),
                "seed": cm.scenario.seed, "trace": bool(cm.arrays.trace), "plan": plan,
                "scale": getattr(cm, "scale", 1.0),
                "command": command, "created": dt.datetime.now(dt.UTC).isoformat(),
            })
        else:
            check_run(cm, out=out, shards=len(checkpoint.plan),
                      workers=max(1, n_workers(client)), threads=threads)
        return _run_checkpointed(cm, out, checkpoint, client=client, shared_disk=shared_disk,
                                 command=command, advance=advance, threads=threads,
                                 force=force)


def _run_checkpointed(cm, out, checkpoint, *, client, shared_disk, command, advance,
                      threads, force):
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
                               shared_disk=shared_disk, on_unit=on_unit, threads=threads,
                               stamp=checkpoint.stamp):
        result = part if result is None else result.merge(part)
        if advance is not None and client is not None:
            advance(sizes[i])
    seconds = time.perf_counter() - t0
    rr = assemble(cm, result, seconds=seconds, shards=len(plan),
                      command=command or checkpoint.meta.get("command"))
    rr.manifest["resumed"] = bool(done)
    rr.path = write_run(out, manifest=rr.manifest, summary=rr.summary, tables=rr.tables(),
                        force=force)
    checkpoint.remove()
    return rr


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
    out = check_out(out, "--resume")
    with hold_lock(out):
        recover_leftovers(out)
        ckpt = Checkpoint.open(out)
        if ckpt is None:
            if is_complete(out):
                raise RunDirError(f"{out}: the run is already complete; nothing to resume")
            raise RunDirError(
                f"{out}: no unfinished run to resume (no {checkpoint_path(out)}/checkpoint.json"
                "); start it again with the same scslab run command"
            )
        meta = ckpt.meta
        # the saved scenario is already resolved (overrides, --set and --scale applied)
        try:
            scenario = Scenario.model_validate(meta["scenario"])
        except PydanticValidationError:
            raise RunDirError(f"{ckpt.folder}: the checkpoint's scenario cannot be read by "
                              "this scslab; start the run again") from None
        cm = compile_scenario(scenario, trace=meta["trace"], scale=meta.get("scale", 1.0))
        if scenario_hash(cm.scenario) != meta["scenario_hash"]:
            raise RunDirError(f"{out}: the checkpoint's scenario does not rebuild to the same "
                              "hash with this scslab; start the run again")
        advance = advance_for(cm, Path(out).name) if advance_for else None
        # the run directory may hold an earlier run of any scenario: resuming was asked for
        return run_to_dir(cm, out, client=client, shared_disk=shared_disk, advance=advance,
                          checkpoint=ckpt, command=meta.get("command"), threads=threads,
                          force=True)


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
        for v in vals:
            problem = _name_problem(f"{param}={v}")
            if problem:
                raise ScenarioError([{"file": "--sweep", "path": param, "value": v,
                                      "message": f"each value names a directory inside --out "
                                                 f"({param}=VALUE), so {problem}"}])
        if len(set(vals)) != len(vals):
            raise ScenarioError([{"file": "--sweep", "path": param, "value": rhs,
                                  "message": "a value is given twice"}])
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


def _name_problem(name: str) -> str | None:
    """Why ``name`` cannot be one directory name inside a batch (None if it can)."""
    if any(c in name for c in "/\\\0") or name in (".", ".."):
        return "it cannot contain '/', '\\' or NUL, or be '.' or '..'"
    if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in name):
        return "it cannot contain control characters"
    if len(name.encode("utf-8", "surrogateescape")) > 200:
        return "it must be at most 200 bytes long"
    return None


class BatchArgs(BaseModel):
    """The arguments of a batch as saved in ``DIR/batch.json`` (checked when resuming)."""

    model_config = ConfigDict(extra="ignore")
    scenario: StrictStr
    scenario_name: StrictStr | None = None
    seed: StrictInt | None = Field(None, ge=0, le=2**63 - 1)
    residents: StrictInt | None = Field(None, ge=1)
    days: StrictInt | None = Field(None, ge=1)
    sets: list[StrictStr] = []
    trace: StrictBool | None = None
    scale: float | None = Field(None, gt=0)
    shards: StrictInt | None = Field(None, ge=1)
    replicates: StrictInt = Field(1, ge=1)
    sweep: StrictStr | None = None
    command: StrictStr | None = None


def _read_batch(out: Path) -> dict:
    f = out / BATCH
    try:
        data = json.loads(f.read_text())
        return BatchArgs.model_validate(data).model_dump()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunDirError(f"{f}: unreadable ({e}); the batch cannot be resumed: start it "
                          "again") from None
    except PydanticValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "(top level)"
        raise RunDirError(f"{f}: damaged: {where}: {err['msg']} (got {err.get('input')!r:.60})"
                          "; the batch cannot be resumed: start it again") from None


def _batch_problem(out: Path, scenario_name: str | None, force: bool) -> str | None:
    """Why a new batch cannot be written to ``out`` (None if it can)."""
    if out.is_symlink():
        return "is a symbolic link; give a real directory"
    if not out.exists():
        return None
    if not out.is_dir():
        return "exists and is not a directory"
    if (out / MANIFEST).exists():
        return "holds a single run, not a batch; choose another --out"
    if not any(out.iterdir()):
        return None
    if not (out / BATCH).is_file():
        return "exists and is not a scslab batch; choose another --out"
    try:
        old = json.loads((out / BATCH).read_text()).get("scenario_name")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return f"its {BATCH} is damaged; choose another --out"
    if old and scenario_name and not force and old.replace("_", "-") != scenario_name.replace(
            "_", "-"):
        return (f"holds a batch of scenario {old!r}, not {scenario_name!r}; choose another "
                "--out, or pass --force to replace its runs")
    return None


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
    options: RunOptions | None = None,
    *,
    shards: int | None = None,
    replicates: int = 1,
    sweep: str | None = None,
    client=None,
    shared_disk: bool = True,
    command: str | None = None,
    advance_for: Callable[[CompiledModel, str], Advance] | None = None,
    resume: bool = False,
    force: bool = False,
) -> tuple[Path, pd.DataFrame]:
    """Run replicates and/or a sweep into ``out``; the figures table and its path."""
    o = options or RunOptions()
    check_placement(shards=shards, replicates=replicates)
    out = check_out(out, "--resume" if resume else "--out")
    with hold_lock(out):
        if resume:
            if not (out / BATCH).is_file():
                raise RunDirError(f"{out}: not a scslab batch (no {BATCH}); nothing to resume")
            args = _read_batch(out)
        else:
            batch_plan(0, replicates, sweep)  # a bad --sweep fails before anything is written
            base = load_scenario(scenario, sets=list(o.sets) or None)
            args = dict(scenario=str(scenario), scenario_name=base.name, seed=o.seed,
                        residents=o.residents, days=o.days, sets=list(o.sets), trace=o.trace,
                        scale=o.scale, shards=shards, replicates=replicates, sweep=sweep,
                        command=command)
            problem = _batch_problem(out, base.name, force)
            if problem:
                raise RunDirError(f"{out}: {problem}")
            _check_runs(args, base.seed if o.seed is None else o.seed, out, client)
            try:
                out.mkdir(parents=True, exist_ok=True)
                atomic_write_text(out / BATCH, json.dumps(args, indent=1))
            except OSError as e:
                raise RunDirError(f"{out}: cannot write the batch ({e.strerror or e})") from None
        return _run_batch(out, args, resume=resume, client=client, shared_disk=shared_disk,
                          advance_for=advance_for, force=force)


def _options_of(args: dict, run: dict) -> RunOptions:
    return RunOptions(seed=run["seed"], residents=args["residents"], days=args["days"],
                      sets=(*args["sets"], *run["sets"]), trace=args["trace"],
                      scale=args.get("scale"))


def _check_runs(args: dict, seed: int, out: Path, client) -> None:
    """Every run of the batch passes the gate before anything is written (one per sweep
    value: replicates differ only in their seed)."""
    seen = set()
    for run in batch_plan(seed, args["replicates"], args["sweep"]):
        key = tuple(run["sets"])
        if key in seen:
            continue
        seen.add(key)
        cm = prepare(args["scenario"], _options_of(args, run))
        check_run(cm, out=out, workers=max(1, n_workers(client)))


def _run_batch(out: Path, args: dict, *, resume, client, shared_disk, advance_for, force):
    base_seed = args["seed"]
    if base_seed is None:
        base_seed = load_scenario(args["scenario"], sets=args["sets"] or None).seed
    rows = []
    for run in batch_plan(base_seed, args["replicates"], args["sweep"]):
        target = out / run["name"]
        if os.path.commonpath([out, target.absolute()]) != str(out):  # pragma: no cover
            raise RunDirError(f"{target}: outside the batch directory {out}")
        if resume and is_complete(target):
            pass  # finished before the batch was killed
        elif resume and Checkpoint.open(target) is not None:
            resume_run(target, client=client, shared_disk=shared_disk, advance_for=advance_for)
        else:
            cm = prepare(args["scenario"], _options_of(args, run))
            advance = advance_for(cm, run["name"]) if advance_for else None
            run_to_dir(cm, target, shards=args["shards"], client=client,
                       shared_disk=shared_disk, advance=advance, force=force or resume,
                       command=f"{args['command'] or 'scslab run'} [{run['name']}]")
        try:
            summary = json.loads((target / "summary.json").read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise RunDirError(f"{target}: the summary is missing or damaged ({e})") from None
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
