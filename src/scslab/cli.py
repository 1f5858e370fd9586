"""The ``scslab`` command line.  Every user error exits with code 2 and a clear message,
never a traceback."""

from __future__ import annotations

import importlib
import json
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from scslab.errors import ScslabError

app = typer.Typer(
    name="scslab",
    help="A laboratory for studying social credit systems over synthetic populations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out = Console()

# Commands that live beside the module they drive register themselves here.
COMMAND_MODULES: list[str] = [
    "scslab.compare",
    "scslab.calibrate",
    "scslab.report.cli",
    "scslab.metrics.targets",
    "scslab.explain",
]


def fail(err: ScslabError) -> None:
    sys.stderr.write(f"error: {err}\n")
    raise typer.Exit(code=err.exit_code)


@app.command("scenarios")
def scenarios_cmd() -> None:
    """List the shipped scenarios with their one-line descriptions."""
    from scslab.scenario.loader import load_scenario, shipped_scenarios

    table = Table("scenario", "residents", "description", box=None)
    for name in shipped_scenarios():
        try:
            s = load_scenario(name)
        except ScslabError as e:  # a broken shipped file must not hide the others
            table.add_row(name, "?", f"(invalid: {e})")
            continue
        first = s.description.split(". ")[0].rstrip(".") + "."
        table.add_row(name, f"{s.population.residents:,}", first)
    out.print(table)


@app.command("validate")
def validate_cmd(
    file: Annotated[str, typer.Argument(help="scenario file or shipped name")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="a.b.c=VALUE override")] = None,
) -> None:
    """Check a scenario file; exit 0 if it is valid, 2 with the problems if not."""
    from scslab.scenario.loader import load_scenario

    try:
        s = load_scenario(file, sets=set_)
    except ScslabError as e:
        fail(e)
    out.print(f"{file}: valid scenario '{s.name}' ({s.population.residents:,} residents, "
              f"{s.n_days} days from {s.start})")


@app.command("show")
def show_cmd(
    scenario: Annotated[str, typer.Argument(help="scenario file or shipped name")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="a.b.c=VALUE override")] = None,
) -> None:
    """Print the resolved scenario (after extends: and --set) as YAML."""
    from scslab.scenario.loader import load_scenario

    try:
        s = load_scenario(scenario, sets=set_)
    except ScslabError as e:
        fail(e)
    from scslab.scenario.loader import scenario_data

    data = scenario_data(s)
    sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))


@app.command("run")
def run_cmd(
    scenario: Annotated[str, typer.Argument(help="shipped scenario name or path")] = "tiny",
    out_dir: Annotated[Path | None, typer.Option("--out", help="run directory")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed", min=0)] = None,
    residents: Annotated[int | None, typer.Option(help="override population", min=1)] = None,
    scale: Annotated[float | None, typer.Option(
        help="multiply the population by F (counts also reported scaled up)")] = None,
    days: Annotated[int | None, typer.Option(help="override the period", min=1)] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="a.b.c=VALUE override")] = None,
    shards: Annotated[int | None, typer.Option(
        help="sets of units the run is cut into (default: from size and workers)", min=1)] = None,
    workers: Annotated[int | None, typer.Option(
        help="run on an embedded local Dask cluster of N worker processes", min=1)] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="run on an existing Dask cluster, e.g. tcp://host:8786")] = None,
    threads: Annotated[int, typer.Option(
        help="run units on N threads of this process (same tables; not with Dask)",
        min=1)] = 1,
    replicates: Annotated[int, typer.Option(
        help="K runs with seeds seed..seed+K-1 in DIR/rep-000...", min=1)] = 1,
    sweep: Annotated[str | None, typer.Option(
        help="a.b.c=V1,V2,...: one run per value in DIR/a.b.c=V1 ...")] = None,
    resume: Annotated[Path | None, typer.Option(
        help="finish a killed run (or batch) at DIR from its checkpoint")] = None,
    trace: Annotated[
        bool | None,
        typer.Option("--trace/--no-trace", help="write records, list events, residents"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Run a scenario and write its run directory (default: runs/SCENARIO).

    Shards run in this process, or on Dask with --workers/--scheduler (docs/scaling.md);
    finished shards are checkpointed, so a killed run continues with --resume DIR.
    """
    from scslab import api, batch
    from scslab.engine.budget import check_budget
    from scslab.engine.distributed import dask_client

    command = "scslab " + " ".join(sys.argv[1:])
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
    if threads > 1 and (workers or scheduler or is_batch):
        fail(ScslabError(
            f"--threads {threads} runs units on threads of this process; it does not combine "
            "with --workers or --scheduler (Dask runs shards in worker processes) or with "
            "--replicates/--sweep. Use one or the other."))
    if resume is not None and not is_batch and batch.is_complete(resume) and not (
            batch.checkpoint_path(resume) / "checkpoint.json").exists():
        out.print(f"{resume}: the run is already complete; nothing to resume")
        return
    shared = scheduler is None  # on this machine, workers save their own checkpoints
    try:
        cm = None
        if resume is None and not is_batch:
            cm = api.prepare(scenario, seed=seed, residents=residents, days=days, sets=set_,
                             trace=trace, scale=scale)
            target = out_dir or Path("runs") / cm.scenario.name
            check_budget(cm, out=target, workers=workers or 1, threads=threads)
        with dask_client(workers, scheduler) as client, progress:
            if is_batch and resume is not None:
                table_path, table = batch.run_batch("", resume, resume=True, client=client,
                                                    shared_disk=shared, advance_for=track)
            elif is_batch:
                table_path, table = batch.run_batch(
                    scenario, out_dir or Path("runs") / Path(scenario).stem, seed=seed,
                    residents=residents, days=days, sets=set_, trace=trace, scale=scale,
                    shards=shards, replicates=replicates, sweep=sweep, client=client,
                    shared_disk=shared, command=command, advance_for=track)
            elif resume is not None:
                rr = batch.resume_run(resume, client=client, shared_disk=shared,
                                      advance_for=track, threads=threads)
            else:
                rr = batch.run_to_dir(cm, target, shards=shards, client=client,
                                      shared_disk=shared, command=command,
                                      advance=track(cm, cm.scenario.name), threads=threads)
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


@app.command("summary")
def summary_cmd(run_dir: Annotated[Path, typer.Argument(help="a run directory")]) -> None:
    """Print a run directory's summary as JSON."""
    from scslab.outputs.rundir import read_summary

    try:
        summary = read_summary(run_dir)
    except ScslabError as e:
        fail(e)
    out.print_json(json.dumps(summary))


for _mod in COMMAND_MODULES:
    importlib.import_module(_mod).register(app)


def main() -> None:  # pragma: no cover - console entry
    app()
