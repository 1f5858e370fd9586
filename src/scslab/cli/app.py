"""``scslab app``: the policy sandbox in the browser (docs/app.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scslab.cli.common import console, fail
from scslab.errors import ScslabError


def app_command(
    port: Annotated[int, typer.Option(help="port to serve on", min=1, max=65535)] = 8765,
    host: Annotated[str, typer.Option(
        help="address to serve on (default: this machine only)")] = "127.0.0.1",
    out: Annotated[Path, typer.Option(
        "--out", help="where full-scale runs write their run directories")] = Path("runs/app"),
    workers: Annotated[int | None, typer.Option(
        help="preview worker processes (default: the cores available, at most 2; 0: none)",
        min=0)] = None,
) -> None:
    """Serve the policy sandbox: move the levers of a scenario and see, against the
    baseline and with intervals, who is listed, wrongly listed and sanctioned.

    The page's address holds the whole configuration; its Reproduce panel gives the
    scslab commands behind every number.
    """
    try:  # solara and its web server load for this command only
        from scslab.app.server import serve
    except ModuleNotFoundError as e:
        fail(ScslabError(f"scslab app needs the optional package {e.name!r}: install it with "
                         "pip install \".[app]\" (from the source tree) and try again"))

    try:
        serve(host=host, port=port, out=out, workers=workers,
              log=lambda m: console.print(m, markup=False, highlight=False, soft_wrap=True))
    except ScslabError as e:
        fail(e)
    except OSError as e:  # the port is taken, say
        fail(ScslabError(f"cannot serve on {host}:{port}: {e.strerror or e}"))
