"""``scslab targets``: a run's figures beside published ones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from scslab.cli.common import Scale, Seed, fail, out, run_options
from scslab.errors import ScslabError
from scslab.experiments.targets import (
    IN_SAMPLE,
    TargetsError,
    check_targets,
    holdout_cutoff,
    load_targets,
    sample_errors,
)
from scslab.outputs.rundir import MANIFEST
from scslab.run.pipeline import run
from scslab.run.result import load_run
from scslab.scenario.loader import load_scenario


def _figure(v: float, share: bool) -> str:
    return f"{v:.2%}" if share else f"{v:,.0f}"


def targets_command(
    run_ref: Annotated[str, typer.Argument(
        metavar="RUN", help="a run directory, or a scenario to run")],
    targets: Annotated[str | None, typer.Option(
        help="targets file or shipped set (default: the scenario's own)")] = None,
    holdout_after: Annotated[str | None, typer.Option(
        help="also read the holdout file; print figures dated after this date "
             "(YYYY-MM-DD) apart, as out-of-sample (default: the targets file's until: "
             "when it names a holdout file)")] = None,
    scale: Scale = None,
    seed: Seed = None,
) -> None:
    """Print a run's figures beside published ones; exit 1 if any misses tolerance."""
    try:
        after = None
        if holdout_after is not None:
            try:
                after = dt.date.fromisoformat(holdout_after)
            except ValueError:
                raise TargetsError(f"--holdout-after {holdout_after}: write a date "
                                   "YYYY-MM-DD") from None
        if (Path(run_ref) / MANIFEST).is_file():
            rr = load_run(run_ref)
            ref = targets or rr.manifest.get("scenario_name", "").replace("_", "-")
        else:
            ref = targets or load_scenario(run_ref).name
            load_targets(ref)  # a bad targets file is refused before the model runs
            rr = run(run_ref, run_options(scale=scale, seed=seed))
        after = after or holdout_cutoff(ref)
        df, tol = check_targets(rr, ref, holdout_after=after)
    except ScslabError as e:
        fail(e)
    title = (f"{rr.scenario.name} (scale {rr.manifest.get('scale', 1.0)}) against {ref}; "
             f"tolerance {tol:.0%}")
    samples = [IN_SAMPLE] if after is None else list(dict.fromkeys(df["sample"]))
    for sample in samples:
        part = df[df["sample"] == sample]
        if after is not None:
            side = "on or before" if sample == IN_SAMPLE else "after"
            title_s = f"{title}\n{sample}: figures dated {side} {after}"
        else:
            title_s = title
        table = Table(box=None, title=title_s)
        for col, width in (("target", 12), ("date", 10), ("published", 10), ("model", 10),
                           ("error", 9)):
            table.add_column(col, no_wrap=True, min_width=width)
        # sources are long (with addresses): one line each here, in full in the file
        table.add_column("source", no_wrap=True, overflow="ellipsis", max_width=24)
        for row in part.itertuples():
            mark = "" if row.within else " !"
            share = abs(row.published) < 1
            table.add_row(row.target, str(row.date or ""), _figure(row.published, share),
                          _figure(row.model, share), f"{row.error:+.1%}{mark}", row.source)
        out.print(table)
    if after is not None:
        for sample, r in sample_errors(df).iterrows():
            out.print(f"{sample}: {int(r['within'])} of {int(r['targets'])} within "
                      f"{tol:.0%}; mean |error| {r['mean_abs_error']:.1%}, "
                      f"largest {r['max_abs_error']:.1%}")
    if not df["within"].all():
        raise typer.Exit(1)
