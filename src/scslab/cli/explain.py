"""``scslab explain``: one synthetic resident's life, with the rule behind each change."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scslab.cli.common import fail
from scslab.errors import ScslabError
from scslab.report.explain import explain_resident
from scslab.run.result import load_run


def explain_command(
    run_dir: Annotated[Path, typer.Argument(help="a run directory written with --trace")],
    resident: Annotated[int, typer.Option(help="synthetic resident id", min=0)],
) -> None:
    """Tell one synthetic resident's life: records, score, tier, lists, and the rule
    behind each change."""
    try:
        lines = explain_resident(load_run(run_dir), resident)
    except ScslabError as err:
        fail(err)
    for line in lines:
        print(line)
