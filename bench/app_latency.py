"""How long the sandbox takes from a lever's move to every chart redrawn, in a real browser.

For each source tree (``--src``, default ``src``) this starts ``python -m scslab app`` on a
free local port with that tree first on PYTHONPATH, opens the page in Debian's chromium
through Playwright, and moves the blacklist threshold of ``tiny`` to each of ``--values``
in turn (typed in its field, then Enter).  Every value is new to the app, so every move
runs its variant (three replicates) rather than reading a cache.  For each move it times,
from the key press:

* runs: what the page says the preview took (the three replicates of the variant and
  the comparison, on the server);
* status: the page says the preview of the new configuration is ready (the runs, the
  comparison and Solara's update of the page);
* charts: every chart on the page is drawn by Vega for the new configuration (the time a
  user waits).

Several trees are measured side by side: their apps run at the same time and the moves
alternate between them, so both meet the same machine load.  The load average is printed
before and after.

    python bench/app_latency.py
    python bench/app_latency.py --src /tmp/app-before/src --src src --values 950,920,880
"""

from __future__ import annotations

import argparse
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

READY = """(q) => {
  const s = document.querySelector('.scslab-status');
  return !!s && s.dataset.state === 'ready' && s.dataset.key === q;
}"""
DRAWN = """(q) => {
  const s = document.querySelector('.scslab-status');
  if (!s || s.dataset.state !== 'ready' || s.dataset.key !== q) return false;
  const c = [...document.querySelectorAll('.scslab-chart')];
  return c.length > 0 && c.every((e) => e.dataset.rendered === 'yes' && e.dataset.key === q);
}"""
TIMEOUT = 120_000  # ms


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class App:
    """``scslab app`` from one source tree, in a subprocess."""

    def __init__(self, src: str, scratch: Path):
        self.src = src
        self.port = free_port()
        self.log = scratch / f"app-{self.port}.log"
        env = dict(os.environ, PYTHONPATH=str(Path(src).resolve()))
        with open(self.log, "w") as fh:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "scslab", "app", "--port", str(self.port),
                 "--out", str(scratch / f"runs-{self.port}")],
                stdout=fh, stderr=subprocess.STDOUT, env=env)
        self.url = f"http://127.0.0.1:{self.port}/"

    def wait(self) -> None:
        deadline = time.monotonic() + 300
        while self.url not in self.log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"scslab app ({self.src}) did not start:\n"
                                 f"{self.log.read_text()[-3000:]}")
            time.sleep(0.3)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def move(page, value: str) -> tuple[float, float, float]:
    """Type ``value`` in the threshold field, press Enter; seconds of the runs, to ready,
    to drawn."""
    box = page.locator(".item-below-blacklist input[type=text]")
    box.fill(value)
    q = f"scenario=tiny&seed=2021&below.blacklist={value}"
    t0 = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(READY, arg=q, timeout=TIMEOUT, polling=10)
    ready = time.perf_counter() - t0
    page.wait_for_function(DRAWN, arg=q, timeout=TIMEOUT, polling=10)
    drawn = time.perf_counter() - t0
    said = re.search(r"Ready \(([0-9.]+) s\)", page.inner_text(".scslab-status"))
    return float(said.group(1)) if said else math.nan, ready, drawn


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", action="append", help="a source tree (may repeat); default src")
    ap.add_argument("--values", default="950,920,880,940,860,910,930",
                    help="blacklist thresholds to move to, each once (comma-separated)")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    srcs = args.src or ["src"]
    values = args.values.split(",")
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
          f"load {load()}")
    with tempfile.TemporaryDirectory(prefix="scslab-app-latency-") as tmp:
        apps = [App(s, Path(tmp)) for s in srcs]
        try:
            for a in apps:
                a.wait()
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium,
                                            args=["--no-sandbox"])
                pages = []
                for a in apps:
                    page = browser.new_page(viewport={"width": 1280, "height": 900})
                    page.goto(a.url)
                    page.wait_for_function(DRAWN, arg="scenario=tiny&seed=2021",
                                           timeout=TIMEOUT)
                    pages.append(page)
                times: dict[str, list[tuple[float, float, float]]] = {s: [] for s in srcs}
                for v in values:
                    for s, page in zip(srcs, pages, strict=True):
                        runs, ready, drawn = move(page, v)
                        times[s].append((runs, ready, drawn))
                        print(f"  {s}: below {v}: runs {runs:.2f} s, ready {ready:.2f} s, "
                              f"charts {drawn:.2f} s", flush=True)
                browser.close()
        finally:
            for a in apps:
                a.stop()
    print(f"load after: {load()}")
    print(f"\n{'source tree':32} {'moves':>5} {'runs':>7} {'ready':>7} {'charts':>7} "
          f"{'charts (min-max)':>17}   (medians, seconds)")
    for s, ts in times.items():
        runs, ready, drawn = ([t[i] for t in ts] for i in range(3))
        print(f"{s:32} {len(ts):5d} {statistics.median(runs):7.2f} "
              f"{statistics.median(ready):7.2f} {statistics.median(drawn):7.2f} "
              f"{min(drawn):8.2f}-{max(drawn):.2f}")


if __name__ == "__main__":
    main()
