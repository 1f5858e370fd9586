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
    OutDir,
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
    run_options,
)
from scslab.cli.draws import draws_command
from scslab.engine.budget import check_budget
from scslab.engine.runner import default_threads
from scslab.errors import ScslabError
from scslab.outputs.checkpoint import checkpoint_path
from scslab.run import batch
from scslab.run.distributed import dask_client
from scslab.run.pipeline import prepare


def run_command(
    scenario: Annotated[str, typer.Argument(help="shipped scenario name or path")] = "tiny",
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
    replicates: Annotated[int, typer.Option(
        help="K runs with seeds seed..seed+K-1 in DIR/rep-000...", min=1)] = 1,
    sweep: Annotated[str | None, typer.Option(
        help="a.b.c=V1,V2,...: one run per value in DIR/a.b.c=V1 ...")] = None,
    resume: Annotated[Path | None, typer.Option(
        help="finish a killed run (or batch) at DIR from its checkpoint")] = None,
    trace: Trace = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
    draws: Annotated[int | None, typer.Option(
        help="run N draws of the uncertain parameters on common seeds (--replicates seeds "
             "each): an interval on every headline figure (DIR/draws.parquet, "
             "DIR/summary.json)", min=2)] = None,
    posterior: Annotated[Path | None, typer.Option(
        help="with --draws: draw from this calibration directory's posterior")] = None,
    noise_runs: Annotated[int, typer.Option(
        help="with --draws: runs at further seeds that measure the seed noise", min=2)] = 10,
) -> None:
    """Run a scenario and write its run directory (default: runs/SCENARIO).

    Shards run in this process, or on Dask with --workers/--scheduler (docs/scaling.md);
    finished shards are checkpointed, so a killed run continues with --resume DIR.
    """
    command = command_line()
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
        disable=quiet,
    )

    def track(cm, label):  # one bar per run; it advances as units or shards finish
        task = progress.add_task(f"{label}: residents", total=cm.residents)
        return lambda n: progress.advance(task, n)

    is_batch = (replicates > 1 or bool(sweep)) if resume is None else (
        resume / batch.BATCH).is_file()
    dask = bool(workers or scheduler)
    if threads is not None and threads > 1 and (dask or is_batch):
        fail(ScslabError(
            f"--threads {threads} runs units on threads of this process; it does not combine "
            "with --workers or --scheduler (Dask runs shards in worker processes) or with "
            "--replicates/--sweep. Use one or the other."))
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
            target = out_dir or Path("runs") / cm.scenario.name
            check_budget(cm, out=target, workers=workers or 1, threads=n_threads)
        with dask_client(workers, scheduler) as client, progress:
            if is_batch and resume is not None:
                table_path, table = batch.run_batch("", resume, resume=True, client=client,
                                                    shared_disk=shared, advance_for=track)
            elif is_batch:
                table_path, table = batch.run_batch(
                    scenario, out_dir or Path("runs") / Path(scenario).stem, options,
                    shards=shards, replicates=replicates, sweep=sweep, client=client,
                    shared_disk=shared, command=command, advance_for=track)
            elif resume is not None:
                rr = batch.resume_run(resume, client=client, shared_disk=shared,
                                      advance_for=track, threads=n_threads)
            else:
                rr = batch.run_to_dir(cm, target, shards=shards, client=client,
                                      shared_disk=shared, command=command,
                                      advance=track(cm, cm.scenario.name), threads=n_threads)
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


def print_summary(summary: dict) -> None:
    t = Table("measure", "value", box=None, title="summary")
    t.add_row("residents x days", f"{summary['residents']:,} x {summary['days']:,}")
    t.add_row("listed at end", f"{summary['listed_end']:,}")
    t.add_row("new listings", f"{summary['listings_new']:,}")
    t.add_row("wrongful share of list-days", f"{summary['wrongful_share_of_list_days']:.1%}")
    for k, v in summary["blocked"].items():
        t.add_row(f"blocked {k}", f"{v:,} ({summary['blocked_wrongful'][k]:,} wrongful)")
    t.add_row("records created", f"{summary['records_created']:,}")
    t.add_row("wall time", f"{summary['seconds']:.2f} s")
    out.print(t)
