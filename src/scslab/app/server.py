"""Serve the sandbox: Solara's web server on one local address, nothing fetched from
outside the machine.

Before it binds the port it warms what a first visitor would wait for: the preview
workers load the engine's compiled kernel, the default scenario's baseline runs, and the
Vega bundle is built.  Solara is set up to stay on the machine: no usage telemetry, no
version check, production mode (no call to its website), and its page assets served from
its asset cache on this machine, filled before the first page (``app/assets.py``).
"""

from __future__ import annotations

import ipaddress
import os
import sys
import time
import warnings
from pathlib import Path

import solara.server.app
import solara.server.settings as settings
import solara.server.starlette
import uvicorn

from scslab.app.assets import ensure_page_assets
from scslab.app.config import DEFAULT_SCENARIO, Config
from scslab.app.fullrun import FullRuns
from scslab.app.page import SERVICES
from scslab.app.preview import Previewer
from scslab.app.screen import Screens
from scslab.app.views import DifferenceCharts
from scslab.app.widgets import bundle

APP = "scslab.app.page"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def configure_solara() -> None:
    """Keep Solara on this machine (see the module docstring)."""
    os.environ["SOLARA_APP"] = APP
    solara.server.app.apps["__default__"] = solara.server.app.AppScript(APP)
    settings.telemetry.mixpanel_enable = False
    settings.main.mode = "production"
    settings.theme.show_banner = False
    settings.theme.title = "scslab sandbox"
    # on plain http Solara says at every visit that it falls back to samesite=lax cookies,
    # which is what a local app wants
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")


def warm(services, scenario: str = DEFAULT_SCENARIO) -> float:
    """Start the preview workers and compute ``scenario``'s baseline; seconds taken."""
    t0 = time.perf_counter()
    bundle()
    preview = services.previewer.preview(Config(scenario))
    services.differences.views(preview.comparison, preview.variant)
    return time.perf_counter() - t0


def serve(*, host: str = "127.0.0.1", port: int = 8765, out: str | Path = "runs/app",
          workers: int | None = None, log=print) -> None:
    """Warm up, then serve the sandbox at ``http://host:port`` until interrupted."""
    configure_solara()
    SERVICES.previewer = Previewer(workers)
    SERVICES.fullruns = FullRuns(out)
    SERVICES.differences = DifferenceCharts()
    SERVICES.screens = Screens()
    if not is_loopback(host):
        log(f"warning: --host {host} makes the sandbox reachable from other machines; "
            "anyone who reaches it can run scenarios and read scenario files on this one")
    fetched = ensure_page_assets(log=log)
    if fetched:
        log(f"fetched Solara's page assets once, into its asset cache: {', '.join(fetched)}")
    log("warming up (the engine, the preview workers, the default baseline)...")
    seconds = warm(SERVICES)
    log(f"ready in {seconds:.1f} s")
    shown = f"[{host}]" if ":" in host else host
    log(f"scslab sandbox: http://{shown}:{port}/  (Ctrl-C stops it)")
    sys.stdout.flush()
    try:
        uvicorn.run(solara.server.starlette.app, host=host, port=port, log_level="warning",
                    timeout_graceful_shutdown=2)
    finally:
        SERVICES.previewer.close()
