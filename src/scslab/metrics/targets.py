"""Compare a run with published figures (a shipped or user targets file).

``scslab targets documented-china --scale 0.01`` runs the scenario at 1% of its
population and prints each published figure beside the model's, scaled back up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from scslab.errors import ScslabError


def check_targets(run, targets: str | Path) -> tuple[pd.DataFrame, float]:
    """One row per target: published value, model value, relative error, source; and the
    file's tolerance (relative, default 0.15)."""
    from scslab.calibrate import load_targets, model_value

    meta, tlist = load_targets(targets)
    tol = float(meta.get("tolerance", 0.15))
    rows = []
    for t in tlist:
        v = model_value(run, t)
        err = v / t.value - 1 if t.value else float("nan")
        rows.append({"target": t.name, "date": t.at, "published": t.value, "model": v,
                     "error": err, "within": abs(err) <= tol, "source": t.source})
    return pd.DataFrame(rows), tol


def register(app: typer.Typer) -> None:
    @app.command("targets")
    def targets_cmd(
        run: Annotated[str, typer.Argument(help="a run directory, or a scenario to run")],
        targets: Annotated[str | None, typer.Option(
            help="targets file or shipped set (default: the scenario's own)")] = None,
        scale: Annotated[float | None, typer.Option(help="population scale when running")] = None,
        seed: Annotated[int | None, typer.Option(help="random seed when running")] = None,
    ) -> None:
        """Print a run's figures beside published ones; exit 1 if any misses tolerance."""
        import sys

        from rich.console import Console
        from rich.table import Table

        from scslab import api
        from scslab.outputs.rundir import MANIFEST

        try:
            if (Path(run) / MANIFEST).is_file():
                rr = api.load_run(run)
            else:
                rr = api.run(run, scale=scale, seed=seed)
            ref = targets or rr.manifest.get("scenario_name", "").replace("_", "-")
            df, tol = check_targets(rr, ref)
        except ScslabError as e:
            sys.stderr.write(f"error: {e}\n")
            raise typer.Exit(2) from None
        table = Table("target", "date", "published", "model", "error", "source", box=None,
                      title=f"{rr.scenario.name} (scale {rr.manifest.get('scale', 1.0)}) "
                            f"against {ref}; tolerance {tol:.0%}")
        for row in df.itertuples():
            mark = "" if row.within else " !"
            table.add_row(row.target, str(row.date or ""), f"{row.published:,.0f}",
                          f"{row.model:,.0f}", f"{row.error:+.1%}{mark}", row.source)
        Console().print(table)
        if not df["within"].all():
            raise typer.Exit(1)
