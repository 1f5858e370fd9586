"""The ``scslab`` command line: one file per command, assembled here.

The CLI is an extension of the library: it imports the library, and nothing in the library
imports it (docs/architecture.md).  Every failure is answered once, at the boundary
(``boundary.py``): a user error or an OSError exits 2 with a clear message, Ctrl-C exits
130 saying how to resume, a bug exits 3 with a short request to report it; a traceback
only with ``SCSLAB_DEBUG=1``.
"""

from __future__ import annotations

import typer

from scslab.cli.app import app_command
from scslab.cli.boundary import run_at_boundary
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
from scslab.cli.sensitivity import sensitivity_command
from scslab.cli.targets import targets_command
from scslab.cli.warmup import warmup_command


class ScslabApp(typer.Typer):
    """The typer app, called through the boundary: ``scslab`` (the console script),
    ``python -m scslab`` and ``app()`` all answer every failure the same way."""

    def __call__(self, *args, **kwargs):
        kwargs.setdefault("prog_name", "scslab")
        kwargs["standalone_mode"] = False
        run_at_boundary(lambda: typer.Typer.__call__(self, *args, **kwargs))


app = ScslabApp(
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
    ("sensitivity", sensitivity_command),
    ("targets", targets_command),
    ("report", report_command),
    ("explain", explain_command),
    ("warmup", warmup_command),
    ("app", app_command),
):
    app.command(_name)(_command)


def main() -> None:  # pragma: no cover - console entry
    """The ``scslab`` console script."""
    app()


__all__ = ["app", "main"]
