"""``scslab compare``: scenarios on the same synthetic population, and how to print them."""

from __future__ import annotations

import re
import textwrap
from typing import Annotated

import typer
from rich.markup import escape

from scslab.cli.common import (
    Days,
    OutDir,
    Posterior,
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
from scslab.experiments.compare import (
    CompareError,
    Comparison,
    build_specs,
    compare,
    printed,
)
from scslab.experiments.draws import compare_draws
from scslab.metrics.figures import figure, interval, is_share

MIN_MEASURE_WIDTH = 16  # below this the measure gets a line of its own above its rows
GAP = "  "


def _wrap_name(name: str, width: int) -> list[str]:
    """A measure name cut into lines of at most ``width`` after ``_ [ / =`` (never inside a
    word unless a word alone is longer than the line)."""
    pieces = re.findall(r"[^_\[/=]*[_\[/=]|[^_\[/=]+$", name) or [name]
    lines, cur = [], ""
    for p in pieces:
        while len(p) > width:  # a word longer than the line: fold it
            if cur:
                lines.append(cur)
                cur = ""
            lines.append(p[:width])
            p = p[width:]
        if len(cur) + len(p) > width and cur:
            lines.append(cur)
            cur = ""
        cur += p
    if cur:
        lines.append(cur)
    return lines


def _selected(comp: Comparison, measures_filter: str | None, everything: bool):
    tab = comp.table
    if measures_filter:
        return tab[tab["measure"].str.contains(measures_filter, regex=False)]
    if everything:
        return tab
    return printed(tab)


def render(comp: Comparison, *, measures_filter: str | None = None,
           everything: bool = False, width: int = 80) -> str:
    """The comparison as text for a terminal ``width`` columns wide (one block of rows per
    measure): the measures whose name contains ``measures_filter``, else everything or the
    printed ones (:data:`scslab.experiments.compare.PRINTED`).

    Figures are never cut: measure names wrap to the room left beside them, and when even
    that is too narrow each measure's name gets a line of its own above its rows.  Shares
    are percentages and their differences percentage points.
    """
    ref = comp.labels[0]
    with_interval = comp.replicates > 1
    iv_head = f"{comp.level:.0%} interval"
    head = ["scenario", "value", "difference", *([iv_head] if with_interval else [])]
    rows: list[tuple[str, list[str]]] = []
    for row in _selected(comp, measures_filter, everything).itertuples(index=False):
        share = is_share(row.measure)
        cells = [row.scenario, figure(row.value, share=share)]
        if row.scenario == ref:
            cells += ["(reference)", *([""] if with_interval else [])]
        else:
            cells.append(figure(row.difference, share=share, signed=True))
            if with_interval:
                cells.append(interval(row.lo, row.hi, share=share) or "-")
        rows.append((row.measure, cells))
    widths = [max([len(head[i])] + [len(c[i]) for _, c in rows]) for i in range(len(head))]
    right = [False, True, True, False]

    def line(cells: list[str]) -> str:
        return GAP.join(c.rjust(w) if right[i] else c.ljust(w)
                        for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    rest = sum(widths) + len(GAP) * (len(widths) - 1)
    longest = max([len("measure")] + [len(m) for m, _ in rows])
    measure_w = min(longest, width - rest - len(GAP))
    side_by_side = measure_w >= min(longest, MIN_MEASURE_WIDTH)
    n = len(comp.labels)
    out = [f"comparison of {n} scenario{'s' if n != 1 else ''} on the same synthetic "
           f"population, seed {comp.seed}, {comp.replicates} replicate"
           f"{'s' if comp.replicates != 1 else ''}",
           f"difference: each scenario minus {ref}, paired replicate by replicate"
           + (f"; {iv_head} over the {comp.replicates} paired differences"
              if with_interval else "")]
    if not with_interval:
        out.append("no interval: one replicate shows no spread between seeds; run "
                   "--replicates 5 (or more) for intervals")
    if any(is_share(m) for m, _ in rows):
        out.append("shares are percentages; their differences are percentage points (pp)")
    out = [w for text in out for w in textwrap.wrap(text, max(width, 20))]
    out.append("")
    if side_by_side:
        out.append(("measure".ljust(measure_w) + GAP + line(head)).rstrip())
    else:
        out.append("measure")
        out.append(("  " + line(head)).rstrip())
    groups: dict[str, list[list[str]]] = {}
    for measure, cells in rows:
        groups.setdefault(measure, []).append(cells)
    for measure, block in groups.items():
        if side_by_side:
            names = _wrap_name(measure, measure_w)
            for i in range(max(len(names), len(block))):
                name = names[i] if i < len(names) else ""
                cells = line(block[i]) if i < len(block) else ""
                out.append((name.ljust(measure_w) + GAP + cells).rstrip())
        else:
            out.extend(_wrap_name(measure, max(width, 20)))
            out.extend(("  " + line(cells)).rstrip() for cells in block)
    return "\n".join(out)


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
    posterior: Posterior = None,
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
    out.print(render(comp, measures_filter=only, everything=all_, width=out.size.width),
              soft_wrap=True, markup=False, highlight=False)
    for n in comp.notes:
        console.print(f"[yellow]note:[/yellow] {escape(n)}")
    if out_dir is not None:
        print_path("comparison", out_dir / "comparison.parquet")
