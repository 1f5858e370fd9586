"""The panels below the charts, in a real browser: the sensitivity screen, the full-scale
run in the background, and the downloads (charts as PNG and SVG, the run directories as
a zip, the report)."""

from __future__ import annotations

import io
import json
import math
import xml.etree.ElementTree as ET
import zipfile

import scslab
from scslab.app.levers import sets_for
from scslab.experiments.sensitivity import sensitivity
from scslab.run.options import RunOptions
from scslab.scenario.loader import load_scenario

from .conftest import LOCAL_HOSTS
from .test_browser import TIMEOUT, non_blank, wait_ready

# summary entries that time the run rather than describe it
TIMINGS = {"seconds", "resident_days_per_second"}


def download(page, selector: str) -> tuple[str, bytes]:
    """Click a download button; the file's suggested name and bytes."""
    with page.expect_download(timeout=TIMEOUT) as info:
        page.click(selector)
    d = info.value
    with open(d.path(), "rb") as fh:
        return d.suggested_filename, fh.read()


def test_the_sensitivity_screen_ranks_the_parameters_above_the_seed_noise(app_url, watched):
    page = watched.page
    page.goto(app_url + "?scenario=minimal&seed=1")
    wait_ready(page, "scenario=minimal")
    scenario = load_scenario("minimal")
    params = set(scenario.uncertain)
    assert f"{len(params)} uncertain parameters" in page.inner_text(
        ".parameter-intervals summary")
    # the screen ranks by the first key figure until another measure is chosen
    measure = page.get_attribute(".key-figures tr[data-measure]", "data-measure")

    page.click(".screen-start")
    page.wait_for_selector(".screen-state[data-state=running]", timeout=TIMEOUT)
    page.wait_for_selector(".screen-ranking", timeout=TIMEOUT)
    assert page.get_attribute(".screen-state", "data-state") == "done"
    assert page.get_attribute(".screen-state ~ [role=progressbar], [role=progressbar]:has("
                              "+ .screen-state)", "aria-valuenow") == "100"
    rows = page.eval_on_selector_all(
        ".screen-ranking tr", "rows => rows.slice(1).map(r => [...r.cells].map(c => c.innerText))")
    names = [r[0] for r in rows]
    assert set(names) == params | {"seeds"}
    assert names[-1] == "seeds"  # the yardstick comes last

    # the same screen through the library: the same mu* (the page shows four digits),
    # largest first
    shown_measure = page.inner_text(".screen-ranking h3")
    assert shown_measure.startswith("What moves")
    api = sensitivity(scenario, RunOptions(seed=1, scale=0.1), method="morris",
                             samples=4, noise_runs=4, measures=[measure], threads=1)
    ranked = api.ranked(measure)
    assert names == list(ranked.index)
    for name, mu_star, *_ in rows:
        want = float(ranked.loc[name, "mu_star"])
        assert mu_star == (f"{want:.4g}" if math.isfinite(want) else ""), name
    assert watched.errors == []
    assert watched.hosts <= LOCAL_HOSTS


def test_the_full_scale_run_goes_on_in_the_background_and_matches_the_api(
        app_url, app_out, watched):
    page = watched.page
    page.goto(app_url + "?scenario=tiny&seed=2021&below.blacklist=950")
    wait_ready(page, "below.blacklist=950")
    page.click(".fullrun-start")
    page.wait_for_selector(".fullrun-state[data-state=running]", timeout=TIMEOUT)
    # the page stays usable while it runs: a lever still moves the preview
    assert page.get_attribute(".scslab-status", "data-state") == "ready"
    page.wait_for_selector(".fullrun-state[data-state=done]", timeout=TIMEOUT)
    state = page.locator(".fullrun-state")
    assert state.get_attribute("data-done") == state.get_attribute("data-total")
    assert page.get_attribute(".fullrun [role=progressbar]", "aria-valuenow") == "100"

    (folder,) = [p for p in app_out.iterdir() if p.is_dir()]
    assert str(folder) in state.inner_text()
    sets, _ = sets_for(load_scenario("tiny"), {"below.blacklist": "950"})
    for arm, arm_sets in (("baseline", []), ("variant", sets)):
        shown = json.loads((folder / arm / "summary.json").read_text())
        api = scslab.run("tiny", RunOptions(seed=2021, sets=tuple(arm_sets))).summary
        api = json.loads(json.dumps(api))  # as written to the run directory
        assert {k: v for k, v in shown.items() if k not in TIMINGS} == {
            k: v for k, v in api.items() if k not in TIMINGS}, arm
        assert (folder / arm / "manifest.json").is_file()
    assert (folder / "report.html").is_file()

    name, data = download(page, "button[data-filename$='.zip']")
    assert name == f"{folder.name}.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = set(z.namelist())
        for arm in ("baseline", "variant"):
            assert f"{folder.name}/{arm}/manifest.json" in names
            manifest = json.loads(z.read(f"{folder.name}/{arm}/manifest.json"))
            assert manifest["seed"] == 2021
        assert f"{folder.name}/report.html" in names
    name, data = download(page, "button[data-filename$='-report.html']")
    assert data == (folder / "report.html").read_bytes()
    assert watched.errors == []
    assert watched.hosts <= LOCAL_HOSTS


def test_a_chart_downloads_as_png_and_svg(app_url, watched):
    page = watched.page
    page.goto(app_url + "?scenario=tiny&seed=2021")
    wait_ready(page)
    name, png = download(page, ".chart-list_sizes button[data-filename='list_sizes.png']")
    assert name == "list_sizes.png"
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    from PIL import Image

    img = Image.open(io.BytesIO(png))
    assert img.width > 400 and img.height > 100
    assert non_blank(png) > 0.01
    name, svg = download(page, ".chart-list_sizes button[data-filename='list_sizes.svg']")
    assert name == "list_sizes.svg"
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "listed" in svg.decode().lower()
    assert watched.errors == []
    assert watched.hosts <= LOCAL_HOSTS
