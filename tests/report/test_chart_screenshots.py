"""Every chart of the report, as a reader sees it at 1280 and at 800 pixels (issue 17.6).

One headless-Chromium DOM dump and one full-page screenshot per page and width: the page's
script records where each chart was drawn (``data-box``) and the room it had
(``data-room``), and each chart's test crops its own picture from the screenshot.  The
pictures are kept in the pytest temp directory (the path is printed) for a person to
look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scslab.report.charts import CHARTS
from scslab.report.comparison import write_comparison_report

from .conftest import browser_args

WIDTHS = (1280, 800)
PAGE_HEIGHT = 16000  # taller than either report, so one screenshot holds every chart
CHART = re.compile(r'<div class="chart[^"]*" id="(chart-[^"]+)"([^>]*)>')


def _attrs(text: str) -> dict[str, str]:
    return dict(re.findall(r'([\w-]+)="([^"]*)"', text))


def shoot(chromium: str, page: Path, width: int, out: Path) -> tuple[dict, Image.Image]:
    """The charts' attributes after drawing, and the page's screenshot, at ``width``."""
    import subprocess

    size = f"--window-size={width},{PAGE_HEIGHT}"
    r = subprocess.run([*browser_args(chromium, out / f"profile-dom-{width}"), size,
                        "--dump-dom", page.resolve().as_uri()],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    charts = {cid: _attrs(rest) for cid, rest in CHART.findall(r.stdout)}
    png = out / f"{page.stem}-{width}.png"
    r = subprocess.run([*browser_args(chromium, out / f"profile-shot-{width}"), size,
                        "--hide-scrollbars", f"--screenshot={png}", page.resolve().as_uri()],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    return charts, Image.open(png).convert("RGB")


@pytest.fixture(scope="module")
def shots(chromium, comparison_report, comparison_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("screenshots")
    cmp_page = write_comparison_report([comparison_dir[0]], out / "comparison.html")
    taken = {}
    for width in WIDTHS:
        for page in (comparison_report, cmp_page):
            charts, image = shoot(chromium, page, width, out)
            for cid, attrs in charts.items():
                taken[(cid, width)] = (attrs, image)
    print(f"chart screenshots: {out}")
    return out, taken


KEYS = [f"chart-{c.key}" for c in CHARTS] + ["chart-resident-score", "chart-differences"]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("cid", KEYS)
def test_chart_is_drawn_whole_and_fits_the_page(shots, cid, width):
    out, taken = shots
    assert (cid, width) in taken, f"{cid} is not on the page"
    attrs, image = taken[(cid, width)]
    assert attrs.get("data-rendered") == "yes", attrs
    left, top, w, h = (int(v) for v in attrs["data-box"].split(","))
    room = int(attrs["data-room"])
    # the chart fits its column: nothing runs off the page or hides behind a scrollbar
    assert w <= room + 1, f"{cid} is {w} px wide in a column of {room} px at {width} px"
    assert left >= 0 and left + w <= width
    assert h >= 60
    crop = image.crop((left, top, left + w, top + h))
    crop.save(out / f"{cid}-{width}.png")
    pixels = np.asarray(crop)
    ink = (pixels.min(axis=2) < 200).mean()  # share of pixels that are not near-white
    colours = len(np.unique(pixels.reshape(-1, 3) // 16, axis=0))
    assert ink > 0.02, f"{cid} at {width} px looks blank ({ink:.1%} ink)"
    assert colours >= 8, f"{cid} at {width} px has {colours} colours"
