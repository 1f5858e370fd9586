"""Fixtures for the report tests: two small runs, a report of them, and pages opened in
headless Chromium (the ``chromium`` fixture is in tests/conftest.py)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

import scslab
from scslab.report.html import write_report

RESIDENTS = 3000


@dataclass
class Page:
    dom: str
    console: list[str]
    stderr: str


def browser_args(chromium: str, profile: Path) -> list[str]:
    return [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-extensions", f"--user-data-dir={profile}",
        # nothing may leave the machine even if the page tried: every host name fails
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--enable-logging=stderr", "--v=0", "--virtual-time-budget=20000",
    ]


CONSOLE = re.compile(r":CONSOLE[^\]]*\] (.*)")


def open_page(chromium: str, page: Path, tmp: Path) -> Page:
    """Load ``page``, let its scripts run, and return the DOM and the console messages."""
    r = subprocess.run([*browser_args(chromium, tmp / "profile-dom"), "--dump-dom",
                        page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    console = [m.group(1) for m in CONSOLE.finditer(r.stderr)]
    return Page(dom=r.stdout, console=console, stderr=r.stderr)


def screenshot(chromium: str, page: Path, png: Path, *, height: int = 7000) -> Path:
    r = subprocess.run([*browser_args(chromium, png.parent / "profile-shot"),
                        f"--window-size=1100,{height}", "--hide-scrollbars",
                        f"--screenshot={png}", page.resolve().as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    return png


@pytest.fixture(scope="session")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    """tiny at 3,000 residents, and the same with a stricter blacklist threshold."""
    root = tmp_path_factory.mktemp("runs")
    base = root / "tiny"
    strict = root / "strict"
    scslab.run("tiny", residents=RESIDENTS, out=base,
               command=f"scslab run tiny --residents {RESIDENTS} --out {base}")
    scslab.run("tiny", residents=RESIDENTS, sets=["policy.lists.blacklist.below=950"],
               out=strict, command=f"scslab run tiny --residents {RESIDENTS} "
               f"--set policy.lists.blacklist.below=950 --out {strict}")
    return base, strict


@pytest.fixture(scope="session")
def comparison_report(two_runs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    return write_report(list(two_runs), out, twin=True)
