"""The report as a reader meets it: opened in headless Chromium, offline."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import scslab
from scslab.report.charts import CHARTS
from scslab.report.html import write_report
from scslab.scenario.loader import load_scenario, scenario_data
from scslab.scenario.schema import Scenario

from .conftest import open_page, screenshot


class Charts(HTMLParser):
    """Collects every chart container and what vega-embed put inside it."""

    def __init__(self):
        super().__init__()
        self.charts: dict[str, dict] = {}
        self.stack: list[str | None] = []
        self.body: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        if tag == "div" and "chart" in (a.get("class") or "").split():
            self.charts[a["id"]] = {"rendered": a.get("data-rendered"), "svg": 0, "marks": 0}
            self.stack.append(a["id"])
        elif self.stack and tag not in VOID:
            self.stack.append(None)
        current = next((c for c in reversed(self.stack) if c), None)
        if current and tag == "svg":
            self.charts[current]["svg"] += 1
        if current and tag == "path" and "mark" in (a.get("aria-roledescription") or ""):
            self.charts[current]["marks"] += 1
        if current and tag == "g" and "mark-" in (a.get("class") or ""):
            self.charts[current]["marks"] += 1

    def handle_endtag(self, tag):
        if self.stack and tag not in VOID:
            self.stack.pop()


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


def charts_in(dom: str) -> Charts:
    p = Charts()
    p.feed(dom)
    return p


def test_every_chart_renders_without_console_errors(chromium, comparison_report, tmp_path):
    html = comparison_report.read_text()
    expected = set(re.findall(r'data-chart="([^"]+)"', html))
    # every builder has data in these runs (with their twins), plus the resident's score path
    assert expected == {f"chart-{c.key}" for c in CHARTS} | {"chart-resident-score"}

    page = open_page(chromium, comparison_report, tmp_path)
    found = charts_in(page.dom)
    assert found.body.get("data-charts-done") == str(len(expected)), "rendering did not finish"
    assert set(found.charts) == expected
    for cid, c in found.charts.items():
        assert c["rendered"] == "yes", f"{cid}: {c}"
        assert c["svg"] >= 1, f"{cid}: vega-embed drew no <svg>"
        assert c["marks"] >= 1, f"{cid}: the chart has no marks"
    assert page.console == [], "the browser console reported:\n" + "\n".join(page.console)

    png = screenshot(chromium, comparison_report, tmp_path / "report.png")
    assert png.stat().st_size > 100_000  # a blank page compresses to a few kB
    print(f"screenshot: {png}")


def test_content_security_policy_blocks_any_network_request(chromium, comparison_report,
                                                            tmp_path):
    """The report forbids network loads itself: a remote image slipped into a copy of it is
    refused by the browser (and the refusal reaches the console that the render test
    watches), while the charts still draw."""
    html = comparison_report.read_text()
    tampered = tmp_path / "tampered.html"
    tampered.write_text(html.replace(
        "<main>", '<main><img id="remote" src="https://example.invalid/pixel.png">', 1))
    page = open_page(chromium, tampered, tmp_path)
    assert any("Content Security Policy" in m and "example.invalid" in m
               for m in page.console), page.console
    assert all(c["rendered"] == "yes" for c in charts_in(page.dom).charts.values())


HOSTILE = "<script>alert(1)</script>"
TITLE_PAYLOAD = "</script><script>document.title='pwned'</script>"
ONERROR = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory) -> tuple[Path, Scenario]:
    data = scenario_data(load_scenario("tiny"))
    data["name"] = "hostile"
    data["description"] = f"A scenario whose description holds {HOSTILE} and & < > signs."
    data["sources"] = [ONERROR, f"see {TITLE_PAYLOAD}"]
    data["population"]["residents"] = 600
    data["population"]["units"] = 2
    data["population"]["attributes"]["district"] = {"categories": [TITLE_PAYLOAD, ONERROR]}
    data["policy"]["lists"]["blacklist"]["description"] = ONERROR
    s = Scenario.model_validate(data)
    root = tmp_path_factory.mktemp("hostile")
    scslab.run(s, out=root / "run", command=f"scslab run hostile.yaml {HOSTILE}")
    return write_report([root / "run"], root / "report.html"), s


def test_scenario_text_is_shown_as_text_not_run(chromium, hostile_report, tmp_path):
    report, s = hostile_report
    html = report.read_text()
    # escaped in the file: the payloads never appear as markup
    assert HOSTILE not in html and ONERROR not in html and TITLE_PAYLOAD not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    page = open_page(chromium, report, tmp_path)
    assert "data-pwned" not in page.dom.split("<body", 1)[1].split(">", 1)[0]
    assert "<title>pwned</title>" not in page.dom
    # the browser shows the description as text, exactly as written
    p = re.search(r'<p class="description">(.*?)</p>', page.dom, re.S)
    assert p is not None
    shown = p.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert shown == s.description
    # the category names went through the charts' inline JSON and are drawn as labels
    found = charts_in(page.dom)
    assert all(c["rendered"] == "yes" for c in found.charts.values()), found.charts
    assert page.console == [], page.console
    # only the report's own scripts exist: chart specs, their data, the bundle, the loader
    n_scripts = len(re.findall(r"<script\b", page.dom))
    assert n_scripts == len(found.charts) + 3  # + the data pool
