"""``scslab app`` in a real browser: move a lever, wait for the charts, check the numbers
against the same configuration through ``scslab.api``, reload from the URL, and check the
console, the screenshots and that nothing is fetched from outside the machine."""

from __future__ import annotations

import math

import pytest

import scslab
from scslab.app.levers import sets_for
from scslab.errors import ScenarioError
from scslab.scenario.loader import load_scenario

from .conftest import LOCAL_HOSTS, Watched

TIMEOUT = 90_000  # ms: a cold preview on two busy cores


def wait_ready(page, key_part: str = "") -> None:
    """The preview of the URL's configuration is shown and every chart is drawn for it."""
    page.wait_for_function(
        """(part) => {
          const s = document.querySelector('.scslab-status');
          if (!s || s.dataset.state !== 'ready' || !s.dataset.key.includes(part)) return false;
          const charts = [...document.querySelectorAll('.scslab-chart')];
          return charts.length > 0 && charts.every(
            (c) => c.dataset.rendered === 'yes' && c.dataset.key === s.dataset.key);
        }""", arg=key_part, timeout=TIMEOUT)


def figures(page) -> dict[str, dict[str, float]]:
    """The key figures as the page holds them (the raw numbers behind the text)."""
    rows = page.eval_on_selector_all(".key-figures tr[data-measure]", """rows => rows.map(
        r => [r.dataset.measure, {baseline: r.dataset.baseline, variant: r.dataset.variant,
              difference: r.dataset.difference, lo: r.dataset.lo, hi: r.dataset.hi}])""")
    return {m: {k: float(v) for k, v in d.items()} for m, d in rows}


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-12)


SAME_AS_NEW = """async () => {
  // each chart as the page drew it (rows swapped into the drawn view after a move) and
  // the same spec drawn afresh, both as PNG
  const out = {};
  for (const el of document.querySelectorAll('.scslab-chart')) {
    const box = document.createElement('div');
    document.body.appendChild(box);
    const spec = JSON.parse(el.scslabSpec);
    const fresh = await window.vegaEmbed(box, spec, {renderer: 'svg', actions: false});
    out[el.dataset.chart] = [await el.scslabView.toImageURL('png'),
                             await fresh.view.toImageURL('png')];
    fresh.view.finalize();
    box.remove();
  }
  return out;
}"""


def non_blank(png: bytes) -> float:
    """The share of pixels that are not the page's background colour."""
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    colours = img.getcolors(maxcolors=1 << 20)
    background = max(colours)[0]
    return 1 - background / (img.width * img.height)


def test_a_lever_moves_the_numbers_the_api_computes_and_the_url_reproduces_them(
        app_url, browser, watched, tmp_path):
    page = watched.page
    page.goto(app_url)
    page.wait_for_url("**seed=2021", timeout=TIMEOUT)  # the URL always holds the seed
    wait_ready(page)
    assert "reduced scale" in page.inner_text(".scale")

    box = page.locator(".item-below-blacklist input[type=text]")
    box.fill("950")
    box.press("Enter")
    wait_ready(page, "below.blacklist=950")
    assert "below.blacklist=950" in page.url
    shown = figures(page)
    assert shown["listed_end"]["difference"] > 0  # a higher threshold lists more people

    # the same configuration through the API: the same numbers
    sets, _ = sets_for(load_scenario("tiny"), {"below.blacklist": "950"})
    comp = scslab.compare(["baseline=tiny", "variant=tiny"], seed=2021, replicates=3,
                          sets=[f"variant:{a}" for a in sets])
    by = {(r.measure, r.scenario): r for r in comp.table.itertuples(index=False)}
    for m, got in shown.items():
        b, v = by[(m, "baseline")], by[(m, "variant")]
        assert same(got["baseline"], b.value), m
        assert same(got["variant"], v.value), m
        assert same(got["difference"], v.difference), m
        assert same(got["lo"], v.lo) and same(got["hi"], v.hi), m
    assert {"listed_end", "residents_ever_wrongfully_listed", "blocked_flight"} <= set(shown)
    assert any(m.startswith("di_listing_rate[") for m in shown)
    for chart in ("differences", "sanctions", "disparity", "list_sizes",
                  "wrongful_listings", "disparate_impact", "score_path"):
        assert page.locator(f".chart-{chart} .scslab-chart .marks").count() == 1, chart
    # a chart redrawn by swapping its rows shows what the same spec drawn anew shows
    drawn = page.evaluate(SAME_AS_NEW)
    assert len(drawn) == 7
    for chart, (swapped, fresh) in drawn.items():
        assert swapped == fresh, chart
    reproduce = page.inner_text(".compare-command")
    assert "--set variant:policy.lists.blacklist.below=950 --seed 2021" in reproduce

    # the URL alone reproduces the numbers, in a fresh page
    again = Watched(browser, width=800)
    try:
        again.page.goto(page.url)
        wait_ready(again.page, "below.blacklist=950")
        assert figures(again.page) == shown
        for width, w in ((1280, watched), (800, again)):
            png = w.page.screenshot(full_page=True)
            (tmp_path / f"app-{width}.png").write_bytes(png)
            assert non_blank(png) > 0.03, width
            assert w.page.evaluate("document.documentElement.scrollWidth") <= width + 1
        assert again.errors == []
        assert again.hosts <= LOCAL_HOSTS
    finally:
        again.close()
    assert watched.errors == []
    assert watched.hosts <= LOCAL_HOSTS, watched.hosts


def test_a_bad_value_gets_the_command_lines_message_beside_the_field(app_url, watched):
    page = watched.page
    page.goto(app_url + "?scenario=tiny&seed=2021")
    wait_ready(page)
    box = page.locator(".item-enforcement input[type=text]")
    box.fill("1.5")
    box.press("Enter")
    page.wait_for_selector(".scslab-status[data-state=error]", timeout=TIMEOUT)
    shown = page.inner_text(".item-enforcement .field-error")
    sets, _ = sets_for(load_scenario("tiny"), {"enforcement": "1.5"})
    with pytest.raises(ScenarioError) as err:
        load_scenario("tiny", sets=sets)
    first = err.value.render().splitlines()[0]
    assert first in shown
    assert "1.5" in shown
    assert watched.errors == []
    assert watched.hosts <= LOCAL_HOSTS
