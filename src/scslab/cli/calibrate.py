"""``scslab calibrate``: what published figures say about a scenario's unknown parameters:
a posterior by ABC-SMC (``--method abc``, the default) or a least-squares fit (``lsq``)."""

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
    Scheduler,
    Sets,
    Threads,
    Workers,
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
from scslab.experiments.posterior import Posterior, calibrate_abc, write_posterior
from scslab.files import replace_file_problem

METHODS = ("abc", "lsq")


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.6g}"


def _g3(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


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
    params: Annotated[str | None, typer.Option(
        help="comma-separated dotted scenario paths (abc default: every path of the "
             "scenario's uncertain: block)")] = None,
    method: Annotated[str, typer.Option(
        help="abc: a posterior by ABC-SMC; lsq: a least-squares point fit")] = "abc",
    out_path: Annotated[Path | None, typer.Option(
        "--out", help="abc: output directory (default NAME-calibration); lsq: calibrated "
                      "scenario YAML (default NAME-calibrated.yaml)")] = None,
    bounds: Annotated[str | None, typer.Option(
        help="LO:HI per parameter, comma-separated (abc: uniform priors instead of the "
             "declared ones; lsq default: start/20 to start*20)")] = None,
    start: Annotated[str | None, typer.Option(
        help="lsq: starting values, comma-separated (default: the scenario's)")] = None,
    residents: Residents = None,
    scale: Scale = None,
    days: Days = None,
    seed: Annotated[int | None, typer.Option(help="first seed", min=0)] = None,
    particles: Annotated[int, typer.Option(help="abc: particles of the posterior",
                                           min=4)] = 100,
    generations: Annotated[int, typer.Option(help="abc: most SMC generations", min=1)] = 8,
    max_runs: Annotated[int | None, typer.Option(
        help="abc: most model runs of the fit (default 50 x particles)", min=1)] = None,
    predictive: Annotated[int, typer.Option(
        help="abc: posterior draws run again for the predictive bands", min=0)] = 50,
    replicates: Annotated[int, typer.Option(
        help="lsq: seeds averaged per evaluation", min=1)] = 1,
    max_evals: Annotated[int, typer.Option(help="lsq: most model evaluations", min=2)] = 40,
    set_: Sets = None,
    threads: Threads = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    until: Annotated[str | None, typer.Option(
        help="fit only targets dated on or before this date (YYYY-MM-DD); later figures "
             "stay out of the fit, for an honest holdout")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="lsq: replace an existing --out file that scslab did not write")
    ] = False,
) -> None:
    """Calibrate scenario parameters to published figures.

    abc (default): priors from the scenario's uncertain: block (or --bounds), a posterior
    by ABC-SMC with each run at its own seed; writes DIR/posterior.parquet,
    DIR/predictive.parquet, DIR/calibrated.yaml and DIR/manifest.json, and prints how
    well the targets pin each parameter down.  lsq: a least-squares point fit on common
    seeds, written as a scenario that extends the original.
    """
    options = run_options(seed=seed, residents=residents, scale=scale, days=days, sets=set_)
    if method not in METHODS:
        fail(CalibrationError(f"--method {method}: choose abc or lsq"))
    plist = [p.strip() for p in (params or "").split(",") if p.strip()]
    try:
        cutoff = date_option("--until", until)
    except ScslabError as e:
        fail(e)
    if method == "lsq":
        _lsq(scenario, targets, plist, options, out_path, bounds, start, replicates, max_evals,
             cutoff, force)
        return
    try:
        if start:
            raise CalibrationError("--start is for --method lsq (abc starts from the priors)")
        if out_path is not None and out_path.suffix in (".yaml", ".yml"):
            raise CalibrationError(f"--out {out_path}: --method abc writes a directory "
                                   "(posterior.parquet, predictive.parquet, calibrated.yaml)")
        if threads is not None and (workers or scheduler):
            raise CalibrationError("--threads runs points in this process; it does not "
                                   "combine with --workers or --scheduler")
        bnds = _bounds_option(bounds, len(plist)) if bounds else None
        post = calibrate_abc(
            scenario, targets, plist or None, options, bounds=bnds, particles=particles,
            generations=generations, max_runs=max_runs, predictive=predictive,
            threads=threads, workers=workers, scheduler=scheduler, command=command_line(),
            until=cutoff, on_generation=lambda g: console.print(
                f"[dim]generation {g.index}: tolerance {g.tolerance:.4g}, "
                f"{g.accepted}/{g.runs} runs kept[/dim]"),
        )
        target = out_path or Path(f"{post.scenario.name}-calibration")
        path = write_posterior(post, target, scenario_ref=scenario, targets_ref=str(targets),
                               command=command_line())
    except ScslabError as e:
        fail(e)
    print_posterior(post)
    print_path("calibration", path)
    print_path("calibrated scenario", path / "calibrated.yaml")


def print_posterior(post: Posterior) -> None:
    """Identifiability, the fit at each target, and the strong correlations."""
    t = Table(box=None, title="posterior (90% intervals)", title_justify="left")
    t.add_column("parameter", overflow="fold", min_width=16)
    for c in ("prior 90%", "median", "posterior 90%", "width ratio"):
        t.add_column(c, no_wrap=True)
    for r in post.identifiability.itertuples(index=False):
        t.add_row(escape(r.parameter), f"{_g3(r.prior_lo)}-{_g3(r.prior_hi)}", _g3(r.median),
                  f"{_g3(r.lo)}-{_g3(r.hi)}", f"{r.width_ratio:.2f}")
    out.print(t)
    if len(post.fit):
        f = Table(box=None, title="targets against the posterior predictive",
                  title_justify="left")
        f.add_column("target", overflow="fold", min_width=12)
        for c in ("published", "median", "90% band", "inside"):
            f.add_column(c, no_wrap=True)
        for r in post.fit.itertuples(index=False):
            f.add_row(escape(r.target), _g3(r.published), _g3(r.median),
                      f"{_g3(r.p05)}-{_g3(r.p95)}", "yes" if r.within_90 else "NO")
        out.print(f)
    strong = post.correlations[post.correlations["correlation"].abs() >= 0.5]
    for r in strong.itertuples(index=False):
        out.print(f"correlated in the posterior ({r.correlation:+.2f}): {r.parameter} and "
                  f"{r.other}: the targets fix a combination of the two", soft_wrap=True,
                  markup=False, highlight=False)
    mf = post.manifest
    out.print(f"{mf['runs']:,} runs in {mf['seconds']:.1f} s; {mf['stopped']}; effective "
              f"sample size {mf['effective_sample_size']}", soft_wrap=True)
    if mf.get("weights_collapsed"):
        out.print(f"warning: the importance weights have collapsed (effective sample size "
                  f"{mf['effective_sample_size']} of {mf.get('particles', '?')} particles): the "
                  "intervals above describe a few particles, not a posterior. Judge what the "
                  "targets pin down from the final population's equal-weight spread "
                  "(identifiability columns equal_lo, equal_hi, equal_width_ratio in the "
                  "manifest), and calibrate fewer parameters or with more particles.",
                  soft_wrap=True, markup=False, highlight=False)


def _lsq(scenario, targets, plist, options, out_file, bounds, start, replicates, max_evals,
         cutoff, force):
    """The least-squares fit (``--method lsq``): the command as it was before ABC."""
    try:
        if out_file is not None:  # before the fit, which takes many runs
            _check_out_file(out_file, force)
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
