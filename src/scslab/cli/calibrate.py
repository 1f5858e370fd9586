"""``scslab calibrate``: fit scenario parameters to published figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from scslab.cli.common import (
    Days,
    Residents,
    Scale,
    Sets,
    command_line,
    console,
    fail,
    out,
    print_path,
    run_options,
)
from scslab.errors import ScslabError
from scslab.experiments.calibrate import (
    CALIBRATED_MARK,
    CalibrationError,
    calibrate,
    write_calibrated,
)
from scslab.files import replace_file_problem


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.6g}"


def _bounds_option(text: str | None, n: int) -> list[tuple[float, float]] | None:
    if not text:
        return None
    items = [b for b in text.split(",") if b]
    if len(items) != n:
        raise CalibrationError(f"--bounds: give one LO:HI per parameter ({n}), comma-separated")
    bounds = []
    for b in items:
        try:
            lo, hi = b.split(":")
            bounds.append((float(lo), float(hi)))
        except ValueError:
            raise CalibrationError(f"--bounds {b}: write LO:HI") from None
    return bounds


def date_option(name: str, text: str | None) -> dt.date | None:
    """A --OPTION YYYY-MM-DD value as a date (None if not given)."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CalibrationError(f"{name} {text}: write a date YYYY-MM-DD") from None


def _check_out_file(path: Path, force: bool) -> None:
    problem = replace_file_problem(path, CALIBRATED_MARK)
    if problem and not force:
        raise CalibrationError(f"{path}: {problem}; choose another --out, or pass --force to "
                               "replace it")


def calibrate_command(
    scenario: Annotated[str, typer.Argument(help="shipped scenario name or path")],
    targets: Annotated[str, typer.Option(help="targets YAML file or shipped target set")],
    params: Annotated[str, typer.Option(help="comma-separated dotted scenario paths")],
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="calibrated scenario YAML (default: NAME-calibrated.yaml)")] = None,
    bounds: Annotated[str | None, typer.Option(
        help="LO:HI per parameter, comma-separated (default: start/20 to start*20)")] = None,
    start: Annotated[str | None, typer.Option(
        help="starting values, comma-separated (default: the scenario's)")] = None,
    residents: Residents = None,
    scale: Scale = None,
    days: Days = None,
    seed: Annotated[int | None, typer.Option(help="first seed", min=0)] = None,
    replicates: Annotated[int, typer.Option(help="seeds averaged per evaluation", min=1)] = 1,
    max_evals: Annotated[int, typer.Option(help="most model evaluations", min=2)] = 40,
    set_: Sets = None,
    until: Annotated[str | None, typer.Option(
        help="fit only targets dated on or before this date (YYYY-MM-DD)")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="replace an existing --out file that scslab did not write")] = False,
) -> None:
    """Fit scenario parameters to published figures and write a calibrated scenario."""
    options = run_options(seed=seed, residents=residents, scale=scale, days=days, sets=set_)
    try:
        cutoff = date_option("--until", until)
        if out_file is not None:  # before the fit, which takes many runs
            _check_out_file(out_file, force)
        plist = [p.strip() for p in params.split(",") if p.strip()]
        bnds = _bounds_option(bounds, len(plist))
        x0 = None
        if start:
            try:
                x0 = [float(v) for v in start.split(",")]
            except ValueError:
                raise CalibrationError(f"--start {start}: numbers, comma-separated") from None
        res = calibrate(
            scenario, targets, plist, options, bounds=bnds, start=x0,
            replicates=replicates, max_evals=max_evals, until=cutoff,
            on_eval=lambda n, x: console.print(
                f"[dim]evaluation {n}: "
                + ", ".join(f"{escape(k)}={v:.6g}" for k, v in x.items()) + "[/dim]"),
        )
        target = out_file or Path(f"{res.scenario.name}-calibrated.yaml")
        _check_out_file(target, force)
        path = write_calibrated(res, scenario, target, targets_ref=str(targets),
                                command=command_line())
    except ScslabError as e:
        fail(e)
    pt = Table(box=None, title="fit")
    pt.add_column("parameter", no_wrap=True)
    for c in ("start", "fitted", "bounds"):
        pt.add_column(c, no_wrap=True)
    for p in res.params:
        lo, hi = res.bounds[p]
        pt.add_row(escape(p), f"{res.start[p]:.6g}", f"{res.fitted[p]:.6g}",
                   f"{lo:.4g} to {hi:.4g}")
    out.print(pt)
    tt = Table(box=None)
    for c in ("target", "value", "model (start)", "model (fitted)", "error"):
        tt.add_column(c, no_wrap=True)
    for row in res.table.itertuples(index=False):
        tt.add_row(escape(row.target), _num(row.value), _num(row.model_start),
                   _num(row.model_fitted), f"{row.relative_error:+.1%}")
    out.print(tt)
    for row in res.table.itertuples(index=False):
        if row.source:
            out.print(f"  {row.target}: {row.source}", soft_wrap=True, markup=False,
                      highlight=False)
    out.print(f"{res.evaluations} evaluations, cost {res.cost:.4g} ({res.message})")
    print_path("calibrated scenario", path)
