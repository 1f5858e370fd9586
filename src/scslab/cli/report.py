"""``scslab report``: one self-contained HTML file of one run or several."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scslab.cli.common import fail, print_path
from scslab.errors import ScslabError
from scslab.outputs.rundir import read_manifest
from scslab.report.html import write_report
from scslab.report.uncertainty import directory_kind


def report_command(
    run_dirs: Annotated[list[Path], typer.Argument(
        help="one or more run directories, or sensitivity, calibration or draws "
             "directories")],
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write")] = (
        Path("report.html")),
    title: Annotated[str | None, typer.Option(help="the report's title")] = None,
    twin: Annotated[bool, typer.Option(
        "--twin", help="also run each run's system-off twin (same population and seed) "
                       "to show deterrence and chilling; takes as long as the run")] = False,
) -> None:
    """Write a self-contained HTML report of one run, or a comparison of several."""
    try:
        for d in run_dirs:
            if directory_kind(d) is None:  # sensitivity, calibration, draws: their own pages
                read_manifest(d)
        path = write_report(run_dirs, output, title=title, twin=twin)
    except ScslabError as e:
        fail(e)
    except OSError as e:
        fail(ScslabError(f"{output}: cannot write the report: {e.strerror or e}"))
    print_path("report", path.resolve())
