"""``scslab targets``: a run's figures beside published ones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from scslab.cli.common import Scale, Seed, fail, out, run_options
from scslab.errors import ScslabError
from scslab.experiments.targets import check_targets, load_targets
from scslab.outputs.rundir import MANIFEST
from scslab.run.pipeline import run
from scslab.run.result import load_run
from scslab.scenario.loader import load_scenario


def targets_command(
    run_ref: Annotated[str, typer.Argument(
        metavar="RUN", help="a run directory, or a scenario to run")],
    targets: Annotated[str | None, typer.Option(
        help="targets file or shipped set (default: the scenario's own)")] = None,
    scale: Scale = None,
    seed: Seed = None,
) -> None:
    """Print a run's figures beside published ones; exit 1 if any misses tolerance."""
    try:
        if (Path(run_ref) / MANIFEST).is_file():
            rr = load_run(run_ref)
            ref = targets or rr.manifest.get("scenario_name", "").replace("_", "-")
        else:
            ref = targets or load_scenario(run_ref).name
            load_targets(ref)  # a bad targets file is refused before the model runs
            rr = run(run_ref, run_options(scale=scale, seed=seed))
        df, tol = check_targets(rr, ref)
    except ScslabError as e:
        fail(e)
    table = Table("target", "date", "published", "model", "error", "source", box=None,
                  title=f"{rr.scenario.name} (scale {rr.manifest.get('scale', 1.0)}) "
                        f"against {ref}; tolerance {tol:.0%}")
    for row in df.itertuples():
        mark = "" if row.within else " !"
        table.add_row(row.target, str(row.date or ""), f"{row.published:,.0f}",
                      f"{row.model:,.0f}", f"{row.error:+.1%}{mark}", row.source)
    out.print(table)
    if not df["within"].all():
        raise typer.Exit(1)
