"""``scslab run``: run a scenario into its run directory (checkpointed, resumable)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from scslab.cli.common import (
    Days,
    Force,
    OutDir,
    Posterior,
    Residents,
    Scale,
    Scheduler,
    Seed,
    Sets,
    Threads,
    Trace,
    Workers,
    command_line,
    console,
    fail,
    out,
    resumable,
    run_options,
)
from scslab.cli.draws import draws_command
from scslab.engine.runner import default_threads
from scslab.errors import ScslabError
from scslab.outputs.checkpoint import checkpoint_path
from scslab.outputs.rundir import check_out, check_target
from scslab.run import batch
from scslab.run.distributed import dask_client
from scslab.run.pipeline import check_run, prepare
from scslab.scenario.loader import load_scenario


def run_command(
    scenario: Annotated[str | None, typer.Argument(
        help="shipped scenario name or path (default: tiny)", show_default=False)] = None,
    out_dir: OutDir = None,
    seed: Seed = None,
    residents: Residents = None,
    scale: Scale = None,
    days: Days = None,
    set_: Sets = None,
    shards: Annotated[int | None, typer.Option(
        help="sets of units the run is cut into (default: from size and workers)", min=1)] = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    threads: Threads = None,
    replicates: Annotated[int | None, typer.Option(
        help="K runs with seeds seed..seed+K-1 in DIR/rep-000...", min=1,
        show_default="1")] = None,
    sweep: Annotated[str | None, typer.Option(
        help="a.b.c=V1,V2,...: one run per value in DIR/a.b.c=V1 ...")] = None,
    resume: Annotated[Path | None, typer.Option(
        help="finish a killed run (or batch) at DIR from its checkpoint")] = None,
    trace: Trace = None,
    force: Force = False,
    dashboard: Annotated[bool, typer.Option(
        "--dashboard", help="serve the embedded Dask cluster's dashboard on "
                            "127.0.0.1:8787 (with --workers)")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
    draws: Annotated[int | None, typer.Option(
        help="run N draws of the uncertain parameters on common seeds (--replicates seeds "
             "each): an interval on every headline figure (DIR/draws.parquet, "
             "DIR/summary.json)", min=2)] = None,
    posterior: Posterior = None,
    noise_runs: Annotated[int, typer.Option(
        help="with --draws: runs at further seeds that measure the seed noise", min=2)] = 10,
) -> None:
    """Run a scenario and write its run directory (default: runs/SCENARIO).

    Shards run in this process, or on Dask with --workers/--scheduler (docs/scaling.md);
    finished shards are checkpointed, so a killed run continues with --resume DIR.  An
    existing run directory is replaced only if it is a run of the same scenario holding
    nothing but scslab's files (--force: of any scenario).
    """
    command = command_line()
    if resume is not None:
        _refuse_ignored_flags(scenario=scenario, out=out_dir, seed=seed, residents=residents,
                              scale=scale, days=days, sets=set_, trace=trace, shards=shards,
                              replicates=replicates, sweep=sweep, force=force)
    scenario = scenario or "tiny"
    replicates = replicates or 1
    if draws is not None or posterior is not None:  # intervals over parameter draws
        if draws is None:
            fail(ScslabError("--posterior DIR draws parameters: give --draws N too"))
        if sweep or resume is not None:
            fail(ScslabError("--draws runs its own set of runs; it does not combine with "
                             "--sweep or --resume"))
        return draws_command(scenario, run_options(seed=seed, residents=residents,
                                                   scale=scale, days=days, sets=set_),
                             draws=draws, posterior=posterior, out_dir=out_dir,
                             replicates=replicates, noise_runs=noise_runs, threads=threads,
                             workers=workers, scheduler=scheduler, quiet=quiet)
    options = run_options(seed=seed, residents=residents, scale=scale, days=days, sets=set_,
                          trace=trace)
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True,
        disable=quiet or not console.is_terminal,  # a bar in a log or pipe is only noise
    )

    def track(cm, label):  # one bar per run; it advances as units or shards finish
        task = progress.add_task(f"{label}: residents", total=cm.residents)
        return lambda n: progress.advance(task, n)

    try:
        if resume is not None:
            resume = check_out(resume, "--resume")
        elif out_dir is not None:
            check_out(out_dir)
    except ScslabError as e:
        fail(e)
    is_batch = (replicates > 1 or bool(sweep)) if resume is None else (
        resume / batch.BATCH).is_file()
    dask = bool(workers or scheduler)
    if threads is not None and threads > 1 and (dask or is_batch):
        fail(ScslabError(
            f"--threads {threads} runs units on threads of this process; it does not combine "
            "with --workers or --scheduler (Dask runs shards in worker processes) or with "
            "--replicates/--sweep. Use one or the other."))
    if dashboard and not workers:
        fail(ScslabError("--dashboard serves the dashboard of the embedded Dask cluster; "
                         "give --workers N too"))
    n_threads = 1 if (dask or is_batch) else (threads or default_threads())
    if resume is not None and not is_batch and batch.is_complete(resume) and not (
            checkpoint_path(resume) / "checkpoint.json").exists():
        out.print(f"{resume}: the run is already complete; nothing to resume")
        return
    shared = scheduler is None  # on this machine, workers save their own checkpoints
    try:
        cm = None
        if resume is None and not is_batch:
            cm = prepare(scenario, options)
            target = check_target(out_dir or Path("runs") / cm.scenario.name, cm.scenario.name,
                                  force=force)
            check_run(cm, out=target, workers=workers or 1, threads=n_threads)
        elif resume is None:
            name = load_scenario(scenario, sets=list(options.sets) or None).name
            target = check_out(out_dir or Path("runs") / name)
        else:
            target = resume
        resumable(target)
        with dask_client(workers, scheduler, dashboard=dashboard) as client, progress:
            if dashboard and client is not None:
                console.print(f"dashboard: {client.dashboard_link}", markup=False)
            if is_batch and resume is not None:
                table_path, table = batch.run_batch("", resume, resume=True, client=client,
                                                    shared_disk=shared, advance_for=track)
            elif is_batch:
                table_path, table = batch.run_batch(
                    scenario, target, options, shards=shards, replicates=replicates,
                    sweep=sweep, client=client, shared_disk=shared, command=command,
                    advance_for=track, force=force)
            elif resume is not None:
                rr = batch.resume_run(resume, client=client, shared_disk=shared,
                                      advance_for=track, threads=n_threads)
            else:
                rr = batch.run_to_dir(cm, target, shards=shards, client=client,
                                      shared_disk=shared, command=command,
                                      advance=track(cm, cm.scenario.name), threads=n_threads,
                                      force=force)
    except ScslabError as e:
        fail(e)
    if is_batch:
        cols = ["run", "seed", "listed_end", "listings_new", "wrongful_share_of_list_days"]
        out.print(table[[c for c in cols if c in table]].to_string(index=False))
        out.print(f"results: {table_path.parent} (figures of every run: {table_path.name})")
        return
    path = rr.path
    print_summary(rr.summary)
    out.print(f"results: {path}")
    out.print("charts, the scenario in plain words and the command that reproduces it:")
    out.print(f"  scslab report {shlex.quote(str(path))} -o report.html", soft_wrap=True,
              markup=False, highlight=False)


def _refuse_ignored_flags(**given) -> None:
    """--resume continues a run as it was started: refuse what it would silently ignore."""
    flags = {"scenario": "SCENARIO", "out": "--out", "seed": "--seed",
             "residents": "--residents", "scale": "--scale", "days": "--days", "sets": "--set",
             "trace": "--trace/--no-trace", "shards": "--shards",
             "replicates": "--replicates", "sweep": "--sweep", "force": "--force"}
    named = [flags[k] for k, v in given.items() if v not in (None, False, [], ())]
    if named:
        fail(ScslabError(
            f"--resume continues a run exactly as it was started (its scenario, seed, "
            f"population, period, overrides and shards are in its checkpoint), so it takes no "
            f"{', '.join(named)}; drop {'it' if len(named) == 1 else 'them'} to resume, or "
            "start a new run without --resume (--threads, --workers, --scheduler and --quiet "
            "may change)"))


def print_summary(summary: dict) -> None:
    """The key figures of a run; a scaled run's counts also scaled up, labelled."""
    scale = float(summary.get("scale", 1.0) or 1.0)
    up = summary.get("scaled") if scale != 1.0 else None
    columns = ["measure", "value"] + (["scaled up to the whole population"] if up else [])
    title = "summary"
    caption = None
    if up:
        title = f"summary of a {scale:g} sample (--scale {scale:g})"
        caption = (f"simulated {summary['residents']:,} of about {up['residents']:,.0f} "
                   f"residents; scaled up = simulated / {scale:g}; shares need no scaling")
    t = Table(*columns, box=None, title=title, caption=caption)

    def row(label: str, value: str, scaled: str = "") -> None:
        t.add_row(label, value, *([scaled] if up else []))

    row("residents x days", f"{summary['residents']:,} x {summary['days']:,}",
        f"{up['residents']:,.0f} x {summary['days']:,}" if up else "")
    row("listed at end", f"{summary['listed_end']:,}", f"{up['listed_end']:,.0f}" if up else "")
    row("new listings", f"{summary['listings_new']:,}",
        f"{up['listings_new']:,.0f}" if up else "")
    share = f"{summary['wrongful_share_of_list_days']:.1%}"
    row("wrongful share of list-days", share, share if up else "")
    for k, v in summary["blocked"].items():
        w = summary["blocked_wrongful"][k]
        row(f"blocked {k}", f"{v:,} ({w:,} wrongful)",
            f"{up['blocked'][k]:,.0f} ({up['blocked_wrongful'][k]:,.0f} wrongful)" if up else "")
    row("records created", f"{summary['records_created']:,}",
        f"{up['records_created']:,.0f}" if up else "")
    row("wall time", f"{summary['seconds']:.2f} s")
    out.print(t)
