"""``scslab report``: one self-contained HTML file of one run or several."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scslab.cli.common import fail, print_path
from scslab.errors import ScslabError
from scslab.files import replace_file_problem
from scslab.outputs.rundir import read_manifest
from scslab.report.html import OWN_MARK, write_report


def report_command(
    run_dirs: Annotated[list[Path], typer.Argument(help="one or more run directories")],
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write")] = (
        Path("report.html")),
    title: Annotated[str | None, typer.Option(help="the report's title")] = None,
    twin: Annotated[bool, typer.Option(
        "--twin", help="also run each run's system-off twin (same population and seed) "
                       "to show deterrence and chilling; takes as long as the run")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="replace an existing file that scslab did not write")] = False,
) -> None:
    """Write a self-contained HTML report of one run, or a comparison of several."""
    try:
        problem = replace_file_problem(output, OWN_MARK)
        if problem and not force:
            raise ScslabError(f"{output}: {problem}; choose another -o, or pass --force to "
                              "replace it")
        for d in run_dirs:
            read_manifest(d)
        path = write_report(run_dirs, output, title=title, twin=twin)
    except ScslabError as e:
        fail(e)
    except OSError as e:
        fail(ScslabError(f"{output}: cannot write the report: {e.strerror or e}"))
    print_path("report", path.resolve())
