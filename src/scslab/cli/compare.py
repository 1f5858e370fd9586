"""``scslab compare``: scenarios on the same synthetic population, and how to print them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from scslab.cli.common import (
    Days,
    OutDir,
    Residents,
    Scale,
    Seed,
    console,
    fail,
    out,
    print_path,
    run_options,
)
from scslab.errors import ScslabError
from scslab.experiments.compare import CompareError, Comparison, build_specs, compare
from scslab.experiments.draws import compare_draws

# what is printed without --all/--only (the parquet always has every measure)
PRINTED = ("listed_mean_last_100_days", "listed_end", "listings_new",
           "residents_ever_listed", "residents_ever_wrongfully_listed",
           "wrongful_share_of_list_days", "wrongful_blocks_per_100k",
           "mean_days_to_correct_wrongful_listing", "records_created", "blocked_",
           "green_channel_days_saved_", "acts_total_", "poverty_trap_share", "listing_rate",
           "wrongful_listing_rate", "mean_score", "green_channel_benefit", "di_listing_rate[",
           "di_blocked_per_resident[")


def _fmt(v: float) -> str:
    if v is None or not np.isfinite(v):
        return "-"
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 100:
        return f"{v:,.1f}"
    return f"{v:.4g}"


def render(comp: Comparison, *, measures_filter: str | None = None,
           everything: bool = False) -> Table:
    """A rich Table of the comparison (one block of rows per measure): the measures whose
    name contains ``measures_filter``, else everything or the :data:`PRINTED` ones."""
    pct = f"{comp.level:.0%}"
    t = Table(box=None, title=f"comparison, seed {comp.seed}, {comp.replicates} replicate(s)")
    t.add_column("measure", no_wrap=True)
    t.add_column("scenario", no_wrap=True)
    for name in ("value", "difference", f"{pct} interval"):
        t.add_column(name, justify="right" if name != f"{pct} interval" else "left")
    tab = comp.table
    if measures_filter:
        tab = tab[tab["measure"].str.contains(measures_filter, regex=False)]
    elif not everything:
        tab = tab[tab["measure"].map(
            lambda m: m in PRINTED or any(m.startswith(p) for p in PRINTED if p[-1] in "_["))]
    last = None
    for row in tab.itertuples(index=False):
        shown = row.measure if row.measure != last else ""
        last = row.measure
        if row.scenario == comp.labels[0]:
            diff, iv = "(reference)", ""
        else:
            diff = _fmt(row.difference)
            iv = "" if not np.isfinite(row.lo) else f"[{_fmt(row.lo)}, {_fmt(row.hi)}]"
        t.add_row(escape(shown), escape(row.scenario), _fmt(row.value), diff, iv)
    return t


def compare_command(
    scenarios: Annotated[list[str], typer.Argument(
        help="scenarios to compare (name, path, run directory, off:REF, LABEL=REF); "
             "the first is the reference")],
    replicates: Annotated[int, typer.Option(help="replicates (seeds seed..seed+K-1)",
                                            min=1)] = 1,
    seed: Seed = None,
    residents: Residents = None,
    scale: Scale = None,
    days: Days = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="[LABEL:|N:]a.b.c=VALUE override (all scenarios without a prefix)")
    ] = None,
    out_dir: OutDir = None,
    level: Annotated[float, typer.Option(help="interval level", min=0.5, max=0.999)] = 0.95,
    interval: Annotated[str, typer.Option(help="t or percentile")] = "t",
    reference: Annotated[list[str] | None, typer.Option(
        help="reference group for disparate impact, ATTR=CATEGORY (default: first "
             "category)")] = None,
    only: Annotated[str | None, typer.Option(
        help="print only measures whose name contains this text")] = None,
    all_: Annotated[bool, typer.Option(
        "--all", help="print every measure (the parquet always has them all)")] = False,
    shards: Annotated[int, typer.Option(help="sets of units per run", min=1)] = 1,
    draws: Annotated[int | None, typer.Option(
        help="N draws of the first scenario's uncertain parameters, the same in every "
             "scenario: values and differences become 90% intervals over parameters and "
             "seeds", min=2)] = None,
    posterior: Annotated[Path | None, typer.Option(
        help="with --draws: draw from this calibration directory's posterior")] = None,
) -> None:
    """Compare scenarios on the same synthetic population (common random numbers)."""
    refs = {}
    for item in reference or []:
        if "=" not in item:
            fail(CompareError(f"--reference {item}: write ATTR=CATEGORY"))
        k, v = item.split("=", 1)
        refs[k] = v
    if interval not in ("t", "percentile"):
        fail(CompareError(f"--interval {interval}: choose t or percentile"))
    options = run_options(seed=seed, residents=residents, scale=scale, days=days, sets=set_)
    try:
        total = len(build_specs(scenarios, set_)) * replicates
        done = [0]

        def tick(label, r):
            done[0] += 1
            console.print(f"[dim]ran {escape(label)} replicate {r} ({done[0]}/{total})[/dim]")

        if draws is not None or posterior is not None:
            if draws is None:
                raise CompareError("--posterior DIR draws parameters: give --draws N too")
            comp = compare_draws(scenarios, options, draws=draws, posterior=posterior,
                                 replicates=replicates, out=out_dir,
                                 on_run=lambda n, total: console.print(
                                     f"[dim]runs: {n}/{total}[/dim]")
                                 if n == total or n % 20 == 0 else None)
        else:
            comp = compare(scenarios, options, replicates=replicates, level=level,
                           interval=interval, reference=refs, shards=shards, out=out_dir,
                           on_run=tick)
    except ScslabError as e:
        fail(e)
    out.print(render(comp, measures_filter=only, everything=all_))
    for n in comp.notes:
        console.print(f"[yellow]note:[/yellow] {escape(n)}")
    if out_dir is not None:
        print_path("comparison", out_dir / "comparison.parquet")
