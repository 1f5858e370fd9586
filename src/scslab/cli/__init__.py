"""The ``scslab`` command line: one file per command, assembled here.

The CLI is an extension of the library: it imports the library, and nothing in the library
imports it (docs/architecture.md).  Every user error exits with code 2 and a clear
message, never a traceback.
"""

from __future__ import annotations

import typer

from scslab.cli.app import app_command
from scslab.cli.calibrate import calibrate_command
from scslab.cli.compare import compare_command
from scslab.cli.explain import explain_command
from scslab.cli.report import report_command
from scslab.cli.run import run_command
from scslab.cli.scenarios import (
    scenarios_command,
    show_command,
    summary_command,
    validate_command,
)
from scslab.cli.targets import targets_command

app = typer.Typer(
    name="scslab",
    help="A laboratory for studying social credit systems over synthetic populations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for _name, _command in (
    ("scenarios", scenarios_command),
    ("validate", validate_command),
    ("show", show_command),
    ("run", run_command),
    ("summary", summary_command),
    ("compare", compare_command),
    ("calibrate", calibrate_command),
    ("targets", targets_command),
    ("report", report_command),
    ("explain", explain_command),
    ("app", app_command),
):
    app.command(_name)(_command)


def main() -> None:  # pragma: no cover - console entry
    app()


__all__ = ["app", "main"]
