"""``scslab report``: one self-contained HTML file of one run or several."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scslab.cli.common import fail, print_path
from scslab.errors import ScslabError
from scslab.files import replace_file_problem
from scslab.report.html import OWN_MARK
from scslab.report.kinds import kind_of, write_report_of


def report_command(
    run_dirs: Annotated[list[Path], typer.Argument(
        help="one or more run directories, or a comparison directory (compare --out), "
             "or sensitivity, calibration or draws directories")],
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write")] = (
        Path("report.html")),
    title: Annotated[str | None, typer.Option(help="the report's title")] = None,
    twin: Annotated[bool, typer.Option(
        "--twin", help="also run each run's system-off twin (same population and seed) "
                       "to show deterrence and chilling; takes as long as the run")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="replace an existing file that scslab did not write")] = False,
) -> None:
    """Write a self-contained HTML report of runs side by side, or of a comparison.

    The directories say what the report shows: run directories (scslab run --out) side by
    side, or a comparison directory (scslab compare --out) with its differences.
    """
    try:
        problem = replace_file_problem(output, OWN_MARK)
        if problem and not force:
            raise ScslabError(f"{output}: {problem}; choose another -o, or pass --force to "
                              "replace it")
        for d in run_dirs:
            kind_of(d)  # before any work: every directory is one scslab can read
        path = write_report_of(run_dirs, output, title=title, twin=twin)
    except ScslabError as e:
        fail(e)
    except OSError as e:
        fail(ScslabError(f"{output}: cannot write the report: {e.strerror or e}"))
    print_path("report", path.resolve())
