"""What every command shares: the two consoles, failing cleanly, and the options that
mean the same thing in every command (declared once here)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from scslab.errors import ScenarioError, ScslabError
from scslab.run.options import RunOptions

console = Console(stderr=True)  # progress and notes
out = Console()  # results


def fail(err: ScslabError) -> NoReturn:
    """Print a user error and exit with its code (2 for a user error), no traceback."""
    sys.stderr.write(f"error: {err}\n")
    raise typer.Exit(code=err.exit_code)


# what an interrupted command can be resumed from (set by ``scslab run`` once it knows)
_resumable: list[Path] = []


def resumable(path: Path) -> None:
    """Say that, once its checkpoint exists, the run at ``path`` can be resumed (Ctrl-C
    then prints how)."""
    _resumable[:] = [Path(path)]


def resumable_target() -> Path | None:
    """The run directory an interrupted ``scslab run`` can be resumed at, if any."""
    return _resumable[0] if _resumable else None


def command_line() -> str:
    """The command as typed, for manifests and reproduce sections."""
    return "scslab " + " ".join(sys.argv[1:])


def print_path(label: str, path) -> None:
    """``label: path`` on one line whatever the terminal width (paths are copied)."""
    out.print(f"{label}: {path}", soft_wrap=True, markup=False, highlight=False)


# ---- options shared by run, compare, calibrate, sensitivity, targets ----------------------
Seed = Annotated[int | None, typer.Option(help="random seed (default: the scenario's)", min=0)]
Residents = Annotated[int | None, typer.Option(help="override the population", min=1)]
Scale = Annotated[float | None, typer.Option(
    help="multiply residents and units by F (counts also reported scaled up)")]
Days = Annotated[int | None, typer.Option(help="override the period (days)", min=1)]
Sets = Annotated[list[str] | None, typer.Option("--set", help="a.b.c=VALUE override")]
Trace = Annotated[bool | None, typer.Option(
    "--trace/--no-trace", help="write records, list events, residents and firms")]
Threads = Annotated[int | None, typer.Option(
    help="threads of this process (default: the cores available; same tables for any "
         "count)", min=1)]
Workers = Annotated[int | None, typer.Option(
    help="run on an embedded local Dask cluster of N worker processes", min=1)]
Scheduler = Annotated[str | None, typer.Option(
    help="run on an existing Dask cluster, e.g. tcp://host:8786")]
Posterior = Annotated[Path | None, typer.Option(
    help="with --draws: draw from this calibration directory's posterior")]


def _out_path(raw: str) -> Path:
    """An --out value as a Path; the empty string (which Path would read as ".") is
    refused."""
    if not raw.strip():
        raise typer.BadParameter("is empty; give the directory to write to")
    return Path(raw)


OutDir = Annotated[Path | None, typer.Option("--out", help="output directory",
                                             parser=_out_path, metavar="DIR")]
Force = Annotated[bool, typer.Option(
    "--force", help="replace a run of another scenario at --out (never anything that is "
                    "not a scslab run)")]


def run_options(*, seed=None, residents=None, scale=None, days=None, sets=None,
                trace=None) -> RunOptions:
    """The shared options as one RunOptions (a bad value exits 2 with its message)."""
    try:
        return RunOptions(seed=seed, residents=residents, scale=scale, days=days,
                          sets=tuple(sets or ()), trace=trace)
    except ScenarioError as e:  # named as typed: --scale, not the API's "options"
        fail(ScenarioError([dict(p, file="command line", path=f"--{p['path']}")
                            if p.get("file") == "options" else p for p in e.problems]))
    except ScslabError as e:
        fail(e)
