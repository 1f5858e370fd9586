"""The report's content, without a browser: URLs, sections, skipping, the resident panel."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser

import altair as alt
import pandas as pd
import pytest

import scslab
from scslab.report import charts, resident
from scslab.report.data import RunView
from scslab.report.html import build_report

URL_ATTRS = {"src", "href", "action", "formaction", "srcset", "poster", "data", "background",
             "xlink:href", "ping", "manifest", "codebase", "cite", "longdesc", "usemap"}
REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)


class Attrs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.csp: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = a.get("content")
        for k, v in attrs:
            if k in URL_ATTRS and v is not None:
                self.urls.append((tag, k, v))


def test_html_references_no_external_url(comparison_report):
    html = comparison_report.read_text()
    p = Attrs()
    p.feed(html)
    # the only URL attributes are in-page anchors
    assert p.urls and all(v.startswith("#") for _, _, v in p.urls), p.urls
    assert not [u for u in p.urls if REMOTE.match(u[2]) or u[2].startswith(("http", "data:"))]
    assert "link" not in p.tags and "iframe" not in p.tags and "img" not in p.tags
    # every <script> is inline: no src
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I)
    # the CSS loads nothing
    css = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert "url(" not in css and "@import" not in css
    # chart specs carry their data: no data URL, no remote schema
    specs = re.findall(r'<script type="application/json" data-chart="[^"]+">(.*?)</script>',
                       html, re.S)
    assert specs
    for text in specs:
        spec = json.loads(text)
        assert "$schema" not in spec
        assert '"url"' not in text
        assert "http://" not in text and "https://" not in text
    # and the page forbids the browser any network request
    assert p.csp and "default-src 'none'" in p.csp and "connect-src 'none'" in p.csp
    assert "http" not in p.csp


def test_comparison_shows_the_difference_figures_and_commands(two_runs, comparison_report):
    html = comparison_report.read_text()
    base, strict = (scslab.load_run(d) for d in two_runs)
    diff = html.split("What differs between the runs", 1)[1].split("</table>", 1)[0]
    assert "policy.lists.blacklist.below" in diff
    assert re.search(r"<td>900(\.0)?</td><td>950(\.0)?</td>", diff)
    figures = html.split('id="figures"', 1)[1].split("</table>", 1)[0]
    row = re.search(r"<tr><td>listed at end</td><td>([^<]*)</td><td>([^<]*)</td></tr>", figures)
    assert row.groups() == (f"{base.summary['listed_end']:,}", f"{strict.summary['listed_end']:,}")
    assert base.summary["listed_end"] < strict.summary["listed_end"]
    for r in (base, strict):
        assert f"{r.manifest['command']} --seed {r.manifest['seed']}" in html
        assert r.manifest["scenario_hash"] in html
    assert html.count("<h3>tiny: tiny</h3>") == 1 and "<h3>strict: tiny</h3>" in html


def test_resident_score_path_rebuilt_from_records_matches_the_engine(two_runs):
    view = RunView.from_dir(two_runs[0])
    res = view.table("residents")
    rebuilt = [resident.score_series(view, int(i))[-1] for i in res["resident"]]
    assert rebuilt == res["final_score"].tolist()


def test_resident_panel_picks_the_longest_wrongful_listing(two_runs):
    view = RunView.from_dir(two_runs[0])
    res = view.table("residents")
    life = resident.life([view])
    rec = view.table("records")
    bad = set(rec.loc[rec["provenance"].astype(str) != "true", "subject"])
    candidates = res[res["resident"].isin(bad) & (res["wrongful_days"] > 0)]
    assert len(candidates) > 0
    assert life.why.startswith("the resident wrongly listed for longest because of")
    assert life.outcome["wrongful_days"] == candidates["wrongful_days"].max()
    assert life.resident == candidates.sort_values(
        ["wrongful_days", "resident"], ascending=[False, True])["resident"].iloc[0]
    assert life.final_score_matches
    # the panel shows the false or misattributed record behind the listing
    assert set(life.records["provenance"]) & {"false", "misattributed"}
    assert (life.list_changes["change"] == "listed").any()
    assert set(life.path["run"]) == {view.label}


def _without(view: RunView, drop_tables=(), drop_prefixes=()) -> RunView:
    tables = {k: v for k, v in view._tables.items() if k not in drop_tables}
    ts = tables["timeseries"]
    tables["timeseries"] = ts[[c for c in ts.columns if not c.startswith(tuple(drop_prefixes))]
                              ] if drop_prefixes else ts
    return RunView(label=view.label, result=view.result, _tables=tables)


def test_charts_without_their_data_are_skipped(two_runs):
    full = RunView.from_dir(two_runs[0])
    all_keys = [s.key for s, _ in charts.build_all([full])]
    assert all_keys == [c.key for c in charts.CHARTS if c.key != "behaviour_vs_twin"]

    bare = _without(full, drop_tables=("scores", "groups", "records", "list_events",
                                       "residents"),
                    drop_prefixes=("blocked_", "records_created_"))
    keys = [s.key for s, _ in charts.build_all([bare])]
    assert keys == ["list_sizes", "wrongful_listings"]
    html = build_report([bare])
    assert 'id="resident"' not in html and "chart-sanctions" not in html
    assert 'data-chart="chart-list_sizes"' in html
    # a builder returns None, not an empty chart, when no run has its data
    assert charts.sanctions([bare]) is None and charts.score_distributions([bare]) is None


def test_a_new_table_in_a_run_dir_reaches_the_builders(two_runs, tmp_path):
    import shutil

    d = tmp_path / "run"
    shutil.copytree(two_runs[0], d)
    extra = pd.DataFrame({"attribute": ["sex"], "group": ["female"], "ratio": [1.2]})
    extra.to_parquet(d / "disparate_impact.parquet")
    manifest = json.loads((d / "manifest.json").read_text())
    manifest["tables"] = sorted([*manifest["tables"], "disparate_impact.parquet"])
    (d / "manifest.json").write_text(json.dumps(manifest))
    view = RunView.from_dir(d)
    assert view.table("disparate_impact")["ratio"].tolist() == [1.2]
    assert view.table("no_such_table") is None


def test_plot_returns_an_altair_chart_of_list_sizes(two_runs):
    r = scslab.load_run(two_runs[0])
    chart = r.plot()
    assert isinstance(chart, alt.FacetChart)  # one panel per list, each with its own axis
    spec = chart.to_dict()
    assert spec["facet"]["field"] == "series" and spec["resolve"]["scale"]["y"] == "independent"
    rows = [row for values in spec["datasets"].values() for row in values]
    series = {row["series"] for row in rows}
    own = "listed (own records, score or firm)"
    assert {own, "list: blacklist", "list: court"} <= series
    last = max(row["date"] for row in rows if row["series"] == own)
    final = [row["value"] for row in rows if row["series"] == own and row["date"] == last]
    assert final == [r.summary["listed_end"]]
    assert isinstance(r.plot("score_distributions"), alt.Chart)


def test_wrongful_share_is_over_the_past_90_days_from_day_90(two_runs):
    view = RunView.from_dir(two_runs[0])
    ts = view.table("timeseries")
    spec = charts.to_spec(charts.wrongful_listings([view]))
    rows = [row for values in spec["datasets"].values() for row in values]
    by_date = {row["date"]: row["share"] for row in rows}
    dates = pd.to_datetime(ts["date"]).dt.strftime("%Y-%m-%d").tolist()
    assert all(by_date[d] is None for d in dates[:89] if d in by_date)
    for day in (89, 200, len(ts) - 1):
        window = ts.iloc[day - 89: day + 1]
        expected = window["listed_wrongful"].sum() / window["listed"].sum()
        assert by_date[dates[day]] == pytest.approx(expected, rel=1e-12)


def test_cli_run_points_to_report_and_report_writes_the_file(tmp_path):
    def scslab_cli(*args):
        return subprocess.run([sys.executable, "-m", "scslab", *args], capture_output=True,
                              text=True, cwd=tmp_path)

    run = scslab_cli("run", "tiny", "--residents", "400", "--days", "60", "--out", "r", "-q")
    assert run.returncode == 0, run.stderr
    assert f"scslab report {tmp_path / 'r'} -o report.html" in run.stdout

    rep = scslab_cli("report", "r", "-o", "out/report.html")
    assert rep.returncode == 0, rep.stderr
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "scslab report: r" in page

    bad = scslab_cli("report", "r", "nowhere", "-o", "x.html")
    assert bad.returncode == 2
    assert "nowhere" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "x.html").exists()


def test_twin_chart_matches_an_independent_system_off_run(two_runs):
    from scslab.experiments.twin import behaviour_table
    from scslab.report.html import add_twin
    from scslab.scenario.twin import system_off

    view = RunView.from_dir(two_runs[0])
    assert charts.behaviour_vs_twin([view]) is None  # no twin, no chart
    add_twin(view)
    m = view.manifest
    off = scslab.run(system_off(view.scenario), seed=m["seed"], residents=m["residents"],
                     days=m["days"])
    assert off.summary["listed_end"] == 0 and sum(off.summary["blocked"].values()) == 0
    expected = behaviour_table(view.summary["acts"], off.summary["acts"], view.scenario)
    spec = charts.to_spec(charts.behaviour_vs_twin([view]))
    rows = {row["act"]: row for values in spec["datasets"].values() for row in values}
    for e in expected.itertuples():
        if e.system_off:
            assert rows[e.act]["system_on"] == e.system_on
            assert rows[e.act]["system_off"] == e.system_off
            assert abs(rows[e.act]["relative_change"] - e.relative_change) < 1e-12
    # tiny switches deterrence and chilling on: the system lowers negative acts and speech
    negative = expected[expected["kind"] == "negative"]
    assert negative["system_on"].sum() < negative["system_off"].sum()


def test_disparate_impact_draws_the_reference_group(two_runs):
    view = RunView.from_dir(two_runs[0])
    spec = charts.to_spec(charts.disparate_impact([view]))
    rows = [row for values in spec["datasets"].values() for row in values]
    refs = [row for row in rows if row["group"].endswith("(reference)")]
    attrs = {row["attribute"] for row in rows}
    assert {row["attribute"] for row in refs} == attrs
    assert all(row["ratio"] == 1.0 and row["order"] == 0 for row in refs)
    assert {row["group"] for row in refs if row["attribute"] == "hukou"} == {"local (reference)"}
    x = spec["layer"][0]["encoding"]["x"]["scale"]
    assert x["type"] == "log" and x["nice"] is False  # fitted to the groups, not 0.1-10


def test_page_stores_each_dataset_once(comparison_report):
    html = comparison_report.read_text()
    specs = [json.loads(t) for t in re.findall(
        r'<script type="application/json" data-chart="[^"]+">(.*?)</script>', html, re.S)]
    assert specs and all("datasets" not in s for s in specs)
    pool = json.loads(re.search(r'id="scslab-data">(.*?)</script>', html, re.S).group(1))
    used = [n for s in specs for n in s["usermeta"]["scslabData"]]
    assert sorted(used) == sorted(pool)
    # the sanctions and wrongful-sanctions panels read the same rows: stored once
    assert sum("same" in p for p in pool.values()) >= 1
    assert html.count("window.vegaEmbed=") == 1 and len(html) < 3_000_000  # one copy of Vega
