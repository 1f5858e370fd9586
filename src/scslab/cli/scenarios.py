"""``scslab scenarios``, ``validate``, ``show`` and ``summary``: look at scenarios and runs
without running anything."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.table import Table

from scslab.cli.common import Sets, fail, out
from scslab.errors import ScslabError
from scslab.outputs.rundir import read_summary
from scslab.scenario.loader import load_scenario, scenario_data, shipped_scenarios


def scenarios_command() -> None:
    """List the shipped scenarios with their one-line descriptions."""
    table = Table("scenario", "residents", "description", box=None)
    for name in shipped_scenarios():
        try:
            s = load_scenario(name)
        except ScslabError as e:  # a broken shipped file must not hide the others
            table.add_row(name, "?", f"(invalid: {e})")
            continue
        first = s.description.split(". ")[0].rstrip(".") + "."
        table.add_row(name, f"{s.population.residents:,}", first)
    out.print(table)


def validate_command(
    file: Annotated[str, typer.Argument(help="scenario file or shipped name")],
    set_: Sets = None,
) -> None:
    """Check a scenario file; exit 0 if it is valid, 2 with the problems if not."""
    try:
        s = load_scenario(file, sets=set_)
    except ScslabError as e:
        fail(e)
    out.print(f"{file}: valid scenario '{s.name}' ({s.population.residents:,} residents, "
              f"{s.n_days} days from {s.start})")


def show_command(
    scenario: Annotated[str, typer.Argument(help="scenario file or shipped name")],
    set_: Sets = None,
) -> None:
    """Print the resolved scenario (after extends: and --set) as YAML."""
    try:
        s = load_scenario(scenario, sets=set_)
    except ScslabError as e:
        fail(e)
    sys.stdout.write(yaml.safe_dump(scenario_data(s), sort_keys=False, allow_unicode=True,
                                    width=100))


def summary_command(run_dir: Annotated[Path, typer.Argument(help="a run directory")]) -> None:
    """Print a run directory's summary as JSON."""
    try:
        summary = read_summary(run_dir)
    except ScslabError as e:
        fail(e)
    out.print_json(json.dumps(summary))
