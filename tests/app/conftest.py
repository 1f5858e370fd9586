"""The sandbox served for the browser tests: ``python -m scslab app`` on a free local
port (a subprocess, as a user starts it), and Playwright driving Debian's chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_out(tmp_path_factory):
    """Where the app's full-scale runs write (its ``--out``)."""
    return tmp_path_factory.mktemp("app-runs")


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, app_out):
    """Start ``scslab app`` and wait until it says where it serves."""
    port = free_port()
    out = app_out
    log = tmp_path_factory.mktemp("app-log") / "app.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scslab", "app", "--port", str(port), "--out", str(out)],
            stdout=fh, stderr=subprocess.STDOUT, env=dict(os.environ))
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 150
        while url not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"scslab app did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def browser(chromium):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield b
        b.close()


class Watched:
    """A page with its console errors and every host it asked for; a request to any
    host but this machine is recorded and aborted."""

    def __init__(self, browser, width: int = 1280):
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.errors: list[str] = []
        self.hosts: set[str] = set()
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _route(self, route):
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:")):
            return route.continue_()
        self.hosts.add(host)
        if host in LOCAL_HOSTS:
            return route.continue_()
        return route.abort()

    def close(self):
        self.context.close()


@pytest.fixture
def watched(browser):
    w = Watched(browser)
    yield w
    w.close()
