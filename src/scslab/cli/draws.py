"""``scslab run --draws N``: a scenario at N parameter draws, and the interval of every
headline figure (the run command hands over to :func:`draws_command`)."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.table import Table

from scslab.cli.common import command_line, console, fail, out, print_path
from scslab.errors import ScslabError
from scslab.experiments.draws import Draws, DrawsError, run_draws, share_text, write_draws
from scslab.run.options import RunOptions

LABELS = {
    "listed_mean_last_100_days": "listed (mean of the last 100 days)",
    "listed_end": "listed at end",
    "listings_new": "new listings",
    "wrongful_share_of_list_days": "wrongful share of list-days",
    "wrongful_blocks_per_100k": "wrongful blocks per 100k",
    "records_created": "records created",
}


def _fmt(measure: str, v: float) -> str:
    if v != v:  # nan
        return "-"
    if "share" in measure:
        return f"{v:.1%}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def render(d: Draws) -> Table:
    """Each headline measure: median, interval, and where its width comes from."""
    mf = d.manifest
    t = Table(box=None, title=f"{mf['draws']} draws from the {mf['source']}, "
                              f"{mf['level']:.0%} intervals", title_justify="left")
    t.add_column("measure", overflow="fold", min_width=16)
    for c in ("median", f"{mf['level']:.0%} interval", "width from"):
        t.add_column(c, no_wrap=True)
    for r in d.headline().to_dict(orient="records"):
        m = r["measure"]
        t.add_row(escape(LABELS.get(m, m)), _fmt(m, r["median"]),
                  f"{_fmt(m, r['lo'])} to {_fmt(m, r['hi'])}", share_text(r))
    return t


def draws_command(scenario: str, options: RunOptions, *, draws: int, posterior: Path | None,
                  out_dir: Path | None, replicates: int, noise_runs: int,
                  threads: int | None, workers: int | None, scheduler: str | None,
                  quiet: bool) -> None:
    """Run the draws, write their directory and print the intervals."""
    step = [0]

    def tick(done: int, total: int) -> None:
        every = max(1, total // 10)
        if not quiet and (done == total or done // every > step[0]):
            step[0] = done // every
            console.print(f"[dim]runs: {done}/{total}[/dim]")

    try:
        if threads is not None and (workers or scheduler):
            raise DrawsError("--threads runs draws in this process; it does not combine "
                             "with --workers or --scheduler")
        d = run_draws(scenario, options, draws=draws, posterior=posterior,
                      replicates=replicates, noise_runs=noise_runs, threads=threads,
                      workers=workers, scheduler=scheduler, on_run=tick,
                      command=command_line())
        target = out_dir or Path("runs") / f"{d.manifest['scenario_name']}_draws"
        path = write_draws(d, target)
    except ScslabError as e:
        fail(e)
    out.print(render(d))
    print_path("draws", path)
