"""``scslab sensitivity``: which unknown parameters move which measures (SALib)."""

from __future__ import annotations

import math
from typing import Annotated

import typer
from rich.markup import escape
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
    Workers,
    command_line,
    console,
    fail,
    out,
    print_path,
    run_options,
)
from scslab.errors import ScslabError
from scslab.experiments.sensitivity import (
    INDICES,
    NOISE,
    TOTAL,
    Sensitivity,
    SensitivityError,
    headline_measures,
    sensitivity,
    write_sensitivity,
)
from scslab.scenario.uncertainty import uniform_range

TOP = 12  # parameters printed per measure (the parquet has them all)


def parse_params(items: list[str] | None) -> dict | None:
    """``PATH=LO:HI`` ranges as uniform distributions."""
    if not items:
        return None
    params = {}
    for item in items:
        path, eq, rng = item.partition("=")
        lo, colon, hi = rng.partition(":")
        try:
            if not (eq and colon and path.strip()):
                raise ValueError
            params[path.strip()] = uniform_range(float(lo), float(hi),
                                                 why="range given with --param")
        except ValueError:
            raise SensitivityError(f"--param {item}: write PATH=LO:HI with LO < HI, e.g. "
                                   "acts.negative.rate.per_day=0.0005:0.002") from None
    return params


def _num(v: float) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def render(res: Sensitivity, measure: str, top: int = TOP) -> Table:
    """One measure's parameters ranked by total effect, with 95% intervals; the seed
    noise last."""
    ranked = res.ranked(measure)
    first, second = INDICES[res.method]
    t = Table(box=None, title=f"{measure}: ranked by {TOTAL[res.method]}", title_justify="left")
    t.add_column("parameter", overflow="fold", min_width=16)
    for idx in (TOTAL[res.method], first if TOTAL[res.method] != first else second):
        t.add_column(idx, justify="right", no_wrap=True)
        t.add_column("95% interval", no_wrap=True)
    params = ranked.drop(index=NOISE, errors="ignore")
    shown = params.head(top)
    order = [TOTAL[res.method], first if TOTAL[res.method] != first else second]
    for name, row in shown.iterrows():
        cells = []
        for idx in order:
            cells += [_num(row.get(idx)),
                      f"{_num(row.get(f'{idx}_lo'))}-{_num(row.get(f'{idx}_hi'))}"]
        t.add_row(escape(str(name)), *cells)
    if len(params) > top:
        t.add_row(f"... {len(params) - top} more in sensitivity.parquet", *[""] * 4)
    if NOISE in ranked.index:
        row = ranked.loc[NOISE]
        share = row.get("noise_share")
        label = (f"seed noise: {_num(100 * share)}% of the variance"
                 if share is not None and math.isfinite(share) else "seed noise")
        if res.method == "morris":
            t.add_row(escape(label), _num(row.get("mu_star")),
                      f"{_num(row.get('mu_star_lo'))}-{_num(row.get('mu_star_hi'))}",
                      _num(row.get("sigma")), "")
        else:
            t.add_row(escape(label), "", "", "", "")
    return t


def sensitivity_command(
    scenario: Annotated[str, typer.Argument(help="shipped scenario name or path")],
    out_dir: OutDir = None,
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="PATH=LO:HI uniform range (default: the scenario's uncertain: "
                        "block)")] = None,
    measure: Annotated[list[str] | None, typer.Option(
        "--measure", help="a measure of comparison.parquet to analyse (default: all; the "
                          "headline ones are printed)")] = None,
    method: Annotated[str, typer.Option(help="sobol or morris")] = "sobol",
    samples: Annotated[int | None, typer.Option(
        help="sobol: base sample N, a power of 2 (default 64); morris: trajectories r "
             "(default 10)", min=2)] = None,
    replicates: Annotated[int, typer.Option(
        help="seeds per point (common to every point), averaged", min=1)] = 1,
    noise_runs: Annotated[int, typer.Option(
        help="runs of the scenario's own values at further seeds, for the seed noise",
        min=2)] = 10,
    residents: Residents = None,
    scale: Scale = None,
    days: Days = None,
    seed: Seed = None,
    set_: Sets = None,
    threads: Threads = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
) -> None:
    """Global sensitivity of the measures to the scenario's unknown parameters.

    Every point of the design runs at the same seeds; the scenario's own values also run
    at --noise-runs seeds, so the seed noise is set beside the indices.  Writes
    DIR/sensitivity.parquet, DIR/samples.parquet and DIR/manifest.json.
    """
    if out_dir is None:
        fail(SensitivityError("give --out DIR for the analysis"))
    options = run_options(seed=seed, residents=residents, scale=scale, days=days, sets=set_)
    try:
        if threads is not None and (workers or scheduler):
            raise SensitivityError("--threads runs points in this process; it does not "
                                   "combine with --workers or --scheduler")
        params = parse_params(param)
        step = [0]

        def tick(done: int, total: int) -> None:
            every = max(1, total // 20)
            if done == total or done // every > step[0]:
                step[0] = done // every
                console.print(f"[dim]runs: {done}/{total}[/dim]")

        res = sensitivity(scenario, options, params=params, measures=measure, method=method,
                          samples=samples, replicates=replicates, noise_runs=noise_runs,
                          threads=threads, workers=workers, scheduler=scheduler,
                          on_run=tick, command=command_line())
        path = write_sensitivity(res, out_dir)
    except ScslabError as e:
        fail(e)
    shown = measure or headline_measures(res.measures)
    for m in shown:
        out.print(render(res, m))
        out.print()
    for n in res.notes:
        console.print(f"[yellow]note:[/yellow] {escape(n)}")
    mf = res.manifest
    out.print(f"{mf['runs']} runs ({mf['design_points']} points x {mf['replicates']} seed(s) "
              f"+ {mf['noise_runs']} seed-noise runs) in {mf['seconds']:.1f} s, "
              f"the event loop {mf['simulate_seconds']:.1f} s (summed over threads)")
    print_path("analysis", path)
