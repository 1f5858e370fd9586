"""Assemble the self-contained HTML report.

The page carries everything it shows: the Vega, Vega-Lite and vega-embed JavaScript
(the bundle shipped by ``vl-convert-python``), each chart's spec and data as inline JSON,
and its own CSS.  A Content-Security-Policy forbids every network request, so a report
opened offline or from an email attachment looks exactly as it does here.  Every text
taken from a scenario or a run directory goes through ``esc`` (HTML-escaped), and the
JSON inside ``<script>`` elements has ``<``, ``>`` and ``&`` written as ``\\u003c`` etc.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
from importlib import metadata
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import yaml

from scslab.files import atomic_write_text
from scslab.report import charts, resident, uncertainty, words
from scslab.report.data import ReportError, RunView, unique_labels
from scslab.run.options import RunOptions
from scslab.run.pipeline import run
from scslab.scenario.twin import system_off

CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
       "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; connect-src 'none'")

MAX_RECORD_ROWS = 80

EMBED_OPTIONS = {
    "renderer": "svg",
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
}


def esc(v: Any) -> str:
    return html.escape(str(v), quote=True)


def script_json(obj: Any) -> str:
    """JSON safe to put inside a <script> element."""
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False, default=str)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


@functools.lru_cache(maxsize=1)
def javascript_bundle() -> str:
    """Vega + Vega-Lite + vega-embed as one script, matching Altair's Vega-Lite version."""
    import vl_convert as vlc  # a 40 MB native library, loaded only to embed Vega

    want = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]  # "v6.4.1" -> "6.4"
    have = vlc.get_vegalite_versions()
    version = want if want in have else have[-1]
    bundle = vlc.javascript_bundle(vl_version=version)
    if "</script" in bundle.lower():  # would end the inline <script> early
        raise RuntimeError("the Vega bundle contains '</script'; cannot inline it")
    return bundle


def table(header: list[str], rows: list[list[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def frame_table(df: pd.DataFrame, cls: str = "") -> str:
    return table(list(df.columns), df.astype(object).values.tolist(), cls)


# ---------------------------------------------------------------- sections


def scenario_section(runs: list[RunView]) -> str:
    parts = ['<section id="scenario"><h2>The scenario</h2>']
    seen: dict[str, str] = {}
    for r in runs:
        s = r.scenario
        h = r.manifest.get("scenario_hash", "")
        if h and h in seen:
            parts.append(f"<p>Run <b>{esc(r.label)}</b> uses the same scenario as "
                         f"<b>{esc(seen[h])}</b>.</p>")
            continue
        seen[h] = r.label
        title = esc(s.name) if len(runs) == 1 else f"{esc(r.label)}: {esc(s.name)}"
        parts.append(f'<div class="scenario"><h3>{title}</h3>')
        parts.append(f'<p class="description">{esc(s.description)}</p>')
        if s.sources:
            parts.append("<p><b>Sources</b></p><ul class=\"sources\">"
                         + "".join(f"<li>{esc(x)}</li>" for x in s.sources) + "</ul>")
        else:
            parts.append("<p><b>Sources</b>: none given.</p>")
        parts.append("<details><summary>Key parameters</summary>"
                     + table(["what", "setting"], [list(x) for x in words.key_parameters(s)],
                             "params") + "</details></div>")
    if len(runs) > 1:
        parts.append(differences(runs))
    parts.append("</section>")
    return "".join(parts)


def flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d}


def differences(runs: list[RunView]) -> str:
    """Scenario settings that differ between the runs, path by path."""
    flat = [flatten(r.manifest.get("scenario", {})) for r in runs]
    flat = [{k: v for k, v in f.items() if k not in ("description", "sources")} for f in flat]
    keys = sorted(set().union(*flat))
    rows = []
    for k in keys:
        vals = [f.get(k, "(not set)") for f in flat]
        if any(v != vals[0] for v in vals[1:]):
            rows.append([k, *[json.dumps(v, default=str) if not isinstance(v, str) else v
                              for v in vals]])
    if not rows:
        return "<p>The runs use identical scenario settings (they may differ in seed).</p>"
    return ("<h3>What differs between the runs</h3><div class=\"scroll\">"
            + table(["setting", *[r.label for r in runs]], rows, "diff") + "</div>")


def scale_banner(runs: list[RunView]) -> str:
    """What a scaled run stands for, said before any figure (empty when none is scaled)."""
    said: dict[tuple, list[str]] = {}  # (residents, scale) -> the runs it describes
    for r in runs:
        scale = float(r.manifest.get("scale", 1.0) or 1.0)
        if scale != 1.0:
            n = int(r.summary.get("residents", r.manifest.get("residents", 0)))
            said.setdefault((n, scale), []).append(r.label)
    if not said:
        return ""
    parts = []
    for (n, scale), names in said.items():
        who = ("This run" if len(runs) == 1 else
               "Every run" if len(names) == len(runs) else ", ".join(names))
        parts.append(f"{esc(who)} simulated {n:,} synthetic residents, {scale:.4g} of the "
                     f"scenario's population of about {n / scale:,.0f} (--scale {scale:g}).")
    return ('<p class="banner scale">' + " ".join(parts) + " Counts are shown as simulated "
            "and, in brackets, scaled up to the whole population (divided by the scale); "
            "rates, shares and per-100k figures need no scaling.</p>")


def key_figures(runs: list[RunView]) -> str:
    def fig(r: RunView, key: str, fmt: str, count: bool) -> str:
        v = r.summary.get(key)
        if v is None:
            return ""
        text = format(v, fmt)
        scale = float(r.manifest.get("scale", 1.0) or 1.0)
        if count and scale != 1.0:
            text += f" ({v / scale:,.0f} scaled up)"
        return text

    rows: list[list[str]] = []
    spec = [  # label, summary key, format, a count (scaled up beside a scaled run's)
        ("residents", "residents", ",", True), ("days", "days", ",", False),
        ("listed at end", "listed_end", ",", True),
        ("listed per 100k at end", "listed_per_100k_end", ",.0f", False),
        ("listed only through association at end", "listed_association_end", ",", True),
        ("new listings", "listings_new", ",", True),
        ("wrongful share of list-days", "wrongful_share_of_list_days", ".1%", False),
        ("wrongful share of association list-days",
         "wrongful_share_of_association_list_days", ".1%", False),
        ("obligations performed by residents", "obligations_performed_resident", ",", True),
        ("obligations performed by firms", "obligations_performed_firm", ",", True),
        ("lawful posts lost to the system", "lawful_speech_lost", ",.0f", True),
        ("accounts removed at end", "accounts_removed_end", ",", True),
        ("records created", "records_created", ",", True),
        ("false records", "records_created_false", ",", True),
        ("misattributed records", "records_created_misattributed", ",", True),
        ("wrongful blocks per 100k", "wrongful_blocks_per_100k", ",.0f", False),
    ]
    for label, key, fmt, count in spec:
        if any(key in r.summary for r in runs):
            rows.append([label, *[fig(r, key, fmt, count) for r in runs]])
    actions = list(dict.fromkeys(a for r in runs for a in r.summary.get("blocked", {})))
    for a in actions:
        cells = []
        for r in runs:
            b = r.summary.get("blocked", {}).get(a)
            w = r.summary.get("blocked_wrongful", {}).get(a)
            if b is None:
                cells.append("")
                continue
            text = f"{b:,}" + ("" if w is None else f" ({w:,} wrongful)")
            scale = float(r.manifest.get("scale", 1.0) or 1.0)
            if scale != 1.0:
                text += f"; scaled up {b / scale:,.0f}" + (
                    "" if w is None else f" ({w / scale:,.0f} wrongful)")
            cells.append(text)
        rows.append([f"blocked {a.replace('_', ' ')}", *cells])
    header = ["measure", *[r.label for r in runs]]
    return ('<section id="figures"><h2>Key figures</h2><div class="scroll">'
            + table(header, rows, "figures") + "</div></section>")


def charts_section(built: list[tuple[charts.ChartSpec, dict]], pool: DataPool
                   ) -> tuple[str, str]:
    blocks, data = [], []
    for spec, vl in built:
        cid = f"chart-{spec.key}"
        blocks.append(
            f'<section class="chart-block" id="sec-{esc(spec.key)}"><h2>{esc(spec.title)}</h2>'
            f'<p class="caption">{esc(spec.caption)}</p>'
            f'<div class="chart" id="{esc(cid)}" data-rendered="no"></div></section>')
        data.append(chart_script(cid, pool.take(vl)))
    return "".join(blocks), "".join(data)


def chart_script(cid: str, spec: dict) -> str:
    return (f'<script type="application/json" data-chart="{esc(cid)}">'
            f"{script_json(spec)}</script>")


class DataPool:
    """The rows of every chart of a page, stored once.

    Each chart's ``datasets`` are taken out of its spec (which keeps their names in
    ``usermeta.scslabData``), written column by column with repeated text stored once per
    column (``pack``), and a dataset whose rows equal another's is stored as a reference
    to it.  The page's script unpacks them for each chart before drawing it.  A report of
    six runs carries its timeseries once per chart instead of as one JSON object per row
    and point, which is most of its size.
    """

    def __init__(self):
        self.packed: dict[str, dict] = {}
        self._by_content: dict[str, str] = {}

    def take(self, spec: dict) -> dict:
        spec = dict(spec)
        datasets = spec.pop("datasets", {}) or {}
        for name, rows in datasets.items():
            packed = pack(rows)
            key = json.dumps(packed, sort_keys=True, default=str)
            same = self._by_content.get(key)
            if same is not None and same != name:
                self.packed[name] = {"same": same}
            else:
                self._by_content[key] = name
                self.packed[name] = packed
        if datasets:
            spec["usermeta"] = {**spec.get("usermeta", {}), "scslabData": sorted(datasets)}
        return spec

    def script(self) -> str:
        return (f'<script type="application/json" id="scslab-data">'
                f"{script_json(self.packed)}</script>")


def _compact(v):
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return None
        return float(f"{v:.6g}")
    return v


def pack(rows: list[dict]) -> dict:
    """Rows as columns: a column of text with few distinct values becomes ``levels`` and
    ``codes``; numbers keep 6 significant digits (more than any chart can show).

    >>> pack([{"run": "a", "v": 1.23456789}, {"run": "a", "v": 2}, {"run": "a", "v": 3}])
    {'n': 3, 'columns': {'run': {'levels': ['a'], 'codes': [0, 0, 0]}, 'v': [1.23457, 2, 3]}}
    """
    keys = list(dict.fromkeys(k for r in rows for k in r))
    columns: dict = {}
    for k in keys:
        values = [_compact(r.get(k)) for r in rows]
        if all(isinstance(v, str) or v is None for v in values):
            levels = list(dict.fromkeys(values))
            if 2 * len(levels) <= len(values):
                code = {v: i for i, v in enumerate(levels)}
                columns[k] = {"levels": levels, "codes": [code[v] for v in values]}
                continue
        columns[k] = values
    return {"n": len(rows), "columns": columns}


def resident_section(runs: list[RunView], pool: DataPool) -> tuple[str, str]:
    life = resident.life(runs)
    if life is None:
        return ("", "")
    parts = ['<section id="resident"><h2>The life of one resident</h2>',
             f"<p>Synthetic resident <b>#{esc(life.resident)}</b>, picked as "
             f"{esc(life.why)}. Every record the platform holds about them is listed with its "
             "provenance: <i>true</i> (they did it), <i>false</i> (it never happened) or "
             "<i>misattributed</i> (someone else did it).</p>"]
    attrs = "; ".join(f"{k}: {v}" for k, v in life.attributes.items())
    parts.append(f'<p class="attrs">{esc(attrs)}</p>')
    if life.outcome:
        o = life.outcome
        parts.append("<p>" + esc(
            f"Final score {o.get('final_score', '?')}; listed for {o.get('listed_days', 0)} "
            f"days, {o.get('wrongful_days', 0)} of them wrongly; "
            f"{o.get('blocked', 0)} attempts blocked"
            + (f"; {o['green_days']} days saved by the green channel" if o.get("green_days")
               else "")
            + ("; listed while an income shock lasted"
               if o.get("listings_during_shock") else "") + ".") + "</p>")
    parts.append("<h3>Records</h3>")
    shown = life.records.head(MAX_RECORD_ROWS)
    parts.append(frame_table(shown, "records") if len(shown) else "<p>No records.</p>")
    if len(life.records) > len(shown):
        parts.append(f"<p>... and {len(life.records) - len(shown):,} more records "
                     "(all are in records.parquet of the run directory).</p>")
    parts.append("<h3>List changes</h3>")
    parts.append(frame_table(life.list_changes, "records") if len(life.list_changes)
                 else "<p>Never listed.</p>")
    data = ""
    chart = charts.score_path(runs, life.path)
    if chart is not None:
        several = life.path["run"].nunique() > 1
        parts.append("<h3>Score over time</h3><p class=\"caption\">Rebuilt from the records "
                     "above (a record counts from the day it reaches the platform until it "
                     "expires or is removed)"
                     + (", in every run that traced this resident; lines overlap where the "
                        "runs agree." if several else ".") + "</p>")
        parts.append('<div class="chart" id="chart-resident-score" data-rendered="no"></div>')
        data = chart_script("chart-resident-score", pool.take(charts.to_spec(chart)))
    parts.append("</section>")
    return "".join(parts), data


def reproduce_section(runs: list[RunView]) -> str:
    parts = ['<section id="reproduce"><h2>Reproduce these runs</h2>',
             "<p>Each run is reproduced exactly by its command with the same scslab version "
             "(results do not depend on shards or machine). The scenario as it was resolved "
             "is included: save it as a file and run it to reproduce the run even if the "
             "shipped scenario has changed since.</p>"]
    for r in runs:
        m = r.manifest
        cmd = m.get("command", "")
        seed = m.get("seed", r.scenario.seed)
        if cmd and "--seed" not in cmd:
            cmd = f"{cmd} --seed {seed}"
        if "twin" in r.cache:
            cmd += ("\n# the system-off twin was run by the report itself, at the same seed, "
                    "population and period: scslab report ... --twin")
        versions = ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items())
        scen = yaml.safe_dump(m.get("scenario", {}), sort_keys=False, allow_unicode=True,
                              width=100)
        parts.append(
            f'<div class="run"><h3>{esc(r.label)}</h3>'
            f'<pre class="command">{esc(cmd)}</pre>'
            + table(["", ""], [["seed", seed],
                               ["scenario sha256", m.get("scenario_hash", "")],
                               ["created", m.get("created", "")],
                               ["versions", versions]], "meta")
            + f"<details><summary>Resolved scenario (YAML)</summary><pre>{esc(scen)}</pre>"
            "</details></div>")
    parts.append("</section>")
    return "".join(parts)


CSS = """
:root { --ink:#1d2430; --muted:#5b6574; --line:#dde2e8; --accent:#8a1c1c; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); margin: 0; background: #f6f7f9; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 20px 60px; background: #fff;
  box-shadow: 0 0 0 1px var(--line); }
h1 { font-size: 28px; margin: 8px 0 4px; }
h2 { font-size: 21px; margin: 36px 0 6px; padding-top: 12px; border-top: 2px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 6px; }
.lede { color: var(--muted); margin-top: 0; }
.banner { background: #fff6e5; border: 1px solid #f0d9a8; padding: 8px 12px; border-radius: 6px; }
.caption { color: var(--muted); margin: 0 0 10px; }
.description { white-space: pre-wrap; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13.5px; }
.scroll { max-width: 100%; overflow-x: auto; }
table.diff td, table.diff th { overflow-wrap: break-word; min-width: 4em; }
table.diff td:first-child { max-width: 22em; overflow-wrap: anywhere; }
.chart { max-width: 100%; overflow-x: auto; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px 4px 0; text-align: left;
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
table.figures td:not(:first-child), table.figures th:not(:first-child) { text-align: right; }
table.records { font-size: 12.5px; }
pre { background: #f3f4f6; padding: 10px 12px; border-radius: 6px; overflow-x: auto;
  font-size: 12.5px; white-space: pre-wrap; word-break: break-word; }
pre.command { font-size: 14px; background: #1d2430; color: #f6f7f9; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
.chart { min-height: 60px; }
.chart[data-rendered="failed"] { color: #b00020; }
details summary { cursor: pointer; color: var(--accent); }
footer { color: var(--muted); font-size: 13px; margin-top: 40px; }
"""

SCRIPT = """
(function () {
  var options = %s;
  var poolNode = document.getElementById("scslab-data");
  var pool = poolNode ? JSON.parse(poolNode.textContent) : {};
  function rows(name) {  // a fresh copy for each chart: Vega marks the rows it is given
    var p = pool[name];
    while (p && p.same !== undefined) { p = pool[p.same]; }
    var out = new Array(p.n), k, i, c;
    for (i = 0; i < p.n; i++) { out[i] = {}; }
    for (k in p.columns) {
      c = p.columns[k];
      if (Array.isArray(c)) { for (i = 0; i < p.n; i++) { out[i][k] = c[i]; } }
      else { for (i = 0; i < p.n; i++) { out[i][k] = c.levels[c.codes[i]]; } }
    }
    return out;
  }
  var nodes = document.querySelectorAll('script[type="application/json"][data-chart]');
  var tasks = Array.prototype.map.call(nodes, function (node) {
    var id = node.getAttribute("data-chart");
    var el = document.getElementById(id);
    var spec;
    try {
      spec = JSON.parse(node.textContent);
      var names = (spec.usermeta && spec.usermeta.scslabData) || [];
      if (names.length) { spec.datasets = {}; }
      names.forEach(function (n) { spec.datasets[n] = rows(n); });
    } catch (err) { return Promise.reject(err); }
    return vegaEmbed(el, spec, options).then(function () {
      el.setAttribute("data-rendered", "yes");
      // where the chart was drawn and the room it had (what the browser tests check)
      var svg = el.querySelector("svg"), box = (svg || el).getBoundingClientRect();
      el.setAttribute("data-box", [box.left + window.scrollX, box.top + window.scrollY,
                                   box.width, box.height].map(Math.round).join(","));
      el.setAttribute("data-room", String(el.clientWidth));
    }).catch(function (err) {
      el.setAttribute("data-rendered", "failed");
      el.textContent = "This chart could not be drawn: " + err;
      console.error("scslab report: chart " + id + " failed:", err);
    });
  });
  Promise.allSettled(tasks).then(function () {
    document.body.setAttribute("data-charts-done", String(nodes.length));
  });
})();
"""


def build_report(runs: list[RunView], *, title: str | None = None) -> str:
    """The whole report of one run or several as one HTML string."""
    if not runs:
        raise ValueError("a report needs at least one run")
    names = ", ".join(r.label for r in runs)
    title = title or (f"scslab report: {names}" if len(runs) > 1 else
                      f"scslab report: {runs[0].label}")
    pool = DataPool()
    built = charts.build_all(runs)
    chart_html, chart_data = charts_section(built, pool)
    res_html, res_data = resident_section(runs, pool)
    nav = [("scenario", "Scenario"), ("figures", "Key figures")]
    nav += [(f"sec-{s.key}", s.title) for s, _ in built]
    if res_html:
        nav.append(("resident", "One resident"))
    nav.append(("reproduce", "Reproduce"))
    lede = (f"{len(runs)} run{'s' if len(runs) > 1 else ''} of scslab "
            f"{esc(_scslab_version())}, report made {esc(_now())}.")
    body = [scale_banner(runs), scenario_section(runs), key_figures(runs), chart_html,
            res_html, reproduce_section(runs)]
    return page(title, lede, nav, body, [chart_data, res_data], pool)


def page(title: str, lede: str, nav: list[tuple[str, str]], body: list[str],
         chart_data: list[str], pool: DataPool) -> str:
    """A self-contained report page: the sections, the charts' specs, their data stored once
    (``DataPool``), one copy of the Vega bundle, and the script that draws the charts.
    ``lede`` is HTML (callers escape what they put in it)."""
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta name="generator" content="{GENERATOR}">',  # scslab replaces only its own
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f"<style>{CSS}</style>",
        "</head><body>",
        "<main>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="lede">{lede}</p>',
        '<p class="banner">Every resident in these runs is synthetic: simulated people in a '
        "simulated city. Nothing here describes a real person.</p>",
        "<nav>" + "".join(f'<a href="#{esc(a)}">{esc(b)}</a>' for a, b in nav) + "</nav>",
        *body,
        "<footer>Made by <code>scslab report</code>. The charts are interactive (hover for "
        "values, the menu exports an image) and work offline: this file loads nothing from "
        "the network.</footer>",
        "</main>",
        pool.script(),
        *chart_data,
        f"<script>{javascript_bundle()}</script>",
        f"<script>{SCRIPT % script_json(EMBED_OPTIONS)}</script>",
        "</body></html>",
    ])


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


GENERATOR = "scslab report"
OWN_MARK = f'<meta name="generator" content="{GENERATOR}">'.encode()


def add_twin(view: RunView) -> None:
    """Run the system-off twin of ``view`` (same population, seed and period, no system)
    and keep it in ``view.cache["twin"]`` for the builders that compare against it."""
    m = view.manifest
    view.cache["twin"] = run(system_off(view.scenario), RunOptions(
        seed=m.get("seed"), residents=m.get("residents"), days=m.get("days"), trace=False),
        command="(system-off twin, made by scslab report --twin)")


# ---- directories of uncertainty (report/uncertainty.py): sensitivity, calibration, draws


def build_uncertainty_report(paths: list[Path], *, title: str | None = None) -> str:
    """One page of the sections of each sensitivity, calibration or draws directory."""
    pool = DataPool()
    body, nav, data = [], [], []
    for p in paths:
        label, sections = uncertainty.sections_of(p)
        body.append(f"<h2>{esc(label)}</h2>")
        for sec in sections:
            nav.append((sec.key, sec.title))
            body.append(f'<section id="{esc(sec.key)}"><h3>{esc(sec.title)}</h3>'
                        f"{sec.html}</section>")
            data += [chart_script(cid, pool.take(spec)) for cid, spec in sec.charts.items()]
    title = title or "scslab report: " + ", ".join(Path(p).name for p in paths)
    lede = f"scslab {esc(_scslab_version())}, report made {esc(_now())}."
    return page(title, lede, nav, body, data, pool)


def write_uncertainty_report(paths: list, out, *, title: str | None = None,
                             twin: bool = False) -> Path:
    """Write the report of sensitivity, calibration or draws directories to ``out``."""
    if twin:
        raise ReportError("--twin runs a run's system-off twin; give run directories")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(out, build_uncertainty_report([Path(p) for p in paths],
                                                           title=title))


def write_report(run_dirs: list, out, *, title: str | None = None, twin: bool = False):
    """Load run directories and write their report to ``out``; returns the path.

    With ``twin`` each run's system-off twin is simulated first (as long as the run took)
    to show deterrence and chilling.
    """
    paths = [Path(p) for p in run_dirs]
    names = unique_labels([p.resolve().name for p in paths])
    runs = [RunView.from_dir(p, n) for p, n in zip(paths, names, strict=True)]
    if twin:
        for r in runs:
            add_twin(r)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(out, build_report(runs, title=title))


def _scslab_version() -> str:
    try:
        return metadata.version("scslab")
    except metadata.PackageNotFoundError:
        return "unknown"
