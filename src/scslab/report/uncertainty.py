"""Report pages of the directories that carry uncertainty: a sensitivity analysis, a
calibration's posterior, a run's parameter draws.

Each page builder takes the directory's tables and manifest and returns its sections as
HTML and its charts as Vega-Lite specs, in the same shape as the run report's sections,
so ``report/html.py`` puts them in one self-contained page:

* sensitivity: for each headline measure, the parameters ranked by total effect (``ST``
  or ``mu_star``) with their 95% intervals, beside the seed noise;
* calibration: each parameter's prior against its posterior, the posterior predictive
  bands (50% and 90%) of each target's measure over time against the published
  figures, and the identifiability table;
* draws: each headline figure's median and 90% interval, and how much of its width
  comes from parameters and how much from seeds.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from scslab.errors import ScslabError
from scslab.experiments.draws import read_draws
from scslab.experiments.posterior import read_posterior
from scslab.experiments.sensitivity import NOISE, TOTAL, headline_measures, read_sensitivity
from scslab.report.charts import WIDE, inline, to_spec

KINDS = ("sensitivity", "calibration", "draws")
MAX_PARAMETERS = 25  # bars per ranked chart; the parquet has every parameter
GRID = 200  # points of a prior's density curve


@dataclass
class Section:
    """One part of a page: its anchor, title, HTML and charts (id -> Vega-Lite spec)."""

    key: str
    title: str
    html: str
    charts: dict[str, dict]


def esc(v) -> str:
    return html.escape(str(v), quote=True)


def directory_kind(path: str | Path) -> str | None:
    """``sensitivity``, ``calibration`` or ``draws`` for such a directory, else None."""
    mf = Path(path) / "manifest.json"
    try:
        kind = json.loads(mf.read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError, AttributeError):
        return None
    return kind if kind in KINDS else None


def _chart_div(cid: str) -> str:
    return f'<div class="chart" id="{esc(cid)}" data-rendered="no"></div>'


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _g(v, digits: int = 3) -> str:
    if v is None or not isinstance(v, int | float) or not math.isfinite(v):
        return "-"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.{digits}g}"


# ---------------------------------------------------------------- sensitivity


def ranked_chart(table: pd.DataFrame, method: str, measure: str) -> alt.TopLevelMixin | None:
    """The parameters of one measure by total effect, largest first, with intervals."""
    total = TOTAL[method]
    t = table[(table["measure"] == measure) & (table["index"] == total)
              & (table["parameter"] != NOISE)].dropna(subset=["value"])
    if t.empty:
        return None
    t = t.sort_values("value", ascending=False).head(MAX_PARAMETERS)
    data = inline(t[["parameter", "value", "lo", "hi"]])
    order = list(t["parameter"])
    y = alt.Y("parameter:N", sort=order, title=None, axis=alt.Axis(labelLimit=420))
    bars = alt.Chart(data).mark_bar(color="#4c78a8").encode(
        y=y, x=alt.X("value:Q", title=total),
        tooltip=["parameter:N", alt.Tooltip("value:Q", format=".3g"),
                 alt.Tooltip("lo:Q", format=".3g"), alt.Tooltip("hi:Q", format=".3g")])
    rules = alt.Chart(data).mark_rule(color="#1d2430").encode(y=y, x="lo:Q", x2="hi:Q")
    layers = [bars, rules]
    noise = table[(table["measure"] == measure) & (table["parameter"] == NOISE)
                  & (table["index"] == total)]
    if method == "morris" and len(noise) and math.isfinite(noise["value"].iloc[0]):
        floor = inline(noise[["value"]].rename(columns={"value": "noise"}))
        layers.append(alt.Chart(floor).mark_rule(color="#b00020", strokeDash=[4, 3]).encode(
            x="noise:Q", tooltip=[alt.Tooltip("noise:Q", format=".3g",
                                              title="seed noise floor")]))
    return alt.layer(*layers).properties(width=WIDE - 420, height=16 * len(t) + 10)


def sensitivity_sections(table: pd.DataFrame, manifest: dict) -> list[Section]:
    method = manifest["method"]
    total = TOTAL[method]
    measures = manifest.get("measures") or sorted(set(table["measure"]))
    shown = headline_measures(measures) or measures[:6]
    k = len(manifest.get("parameters", {}))
    intro = (f"<p>{esc(manifest.get('scenario_name', ''))}: {esc(method)} analysis of "
             f"{k} unknown parameter(s), {manifest.get('design_points', '?')} points x "
             f"{manifest.get('replicates', 1)} seed(s) on common random numbers, and "
             f"{manifest.get('noise_runs', '?')} runs of the scenario's own values at further "
             "seeds for the seed noise. Bars are the total effect "
             + ("(ST: the share of the measure's variance a parameter explains with all its "
                "interactions)" if method == "sobol" else
                "(mu_star: the mean absolute change of the measure when the parameter moves "
                "across two thirds of its range; the dashed red line is the change seed noise "
                "alone would show)")
             + "; black lines their 95% intervals.</p>")
    rows = [[p, spec.get("distribution", ""), spec.get("why", "")]
            for p, spec in manifest.get("parameters", {}).items()]
    sections = [Section("sens-params", "Unknown parameters",
                        intro + f"<details><summary>The {k} unknowns, their distributions and "
                        "why</summary>" + _table(["parameter", "distribution", "why"], rows)
                        + "</details>", {})]
    for i, m in enumerate(shown):
        chart = ranked_chart(table, method, m)
        if chart is None:
            continue
        noise = table[(table["measure"] == m) & (table["parameter"] == NOISE)
                      & (table["index"] == "noise_share")]["value"]
        share = float(noise.iloc[0]) if len(noise) else math.nan
        note = (f"Seed noise is {share:.1%} of this measure's variance over the design"
                + (": the indices mostly measure noise." if share > 0.5 else ".")
                if math.isfinite(share) else "")
        cid = f"chart-sens-{i}"
        sections.append(Section(f"sens-{i}", m,
                                f'<p class="caption">Ranked by {esc(total)}. {esc(note)}</p>'
                                + _chart_div(cid), {cid: to_spec(chart)}))
    return sections


# ---------------------------------------------------------------- calibration


def prior_posterior_chart(post, path: str) -> alt.TopLevelMixin:
    """One parameter: the prior's density (line) against the posterior's weighted
    histogram (bars), on the prior's central 99%."""
    d = post.prior[path]
    lo, hi = (float(v) for v in d.ppf([0.005, 0.995]))
    v = post.particles[path].to_numpy(dtype=float)
    w = post.particles["weight"].to_numpy(dtype=float)
    lo, hi = min(lo, float(v.min())), max(hi, float(v.max()))
    edges = np.linspace(lo, hi, 31)
    dens, _ = np.histogram(v, bins=edges, weights=w, density=True)
    bars = pd.DataFrame({"x0": edges[:-1], "x1": edges[1:], "density": dens})
    grid = np.linspace(lo, hi, GRID)
    curve = pd.DataFrame({"x": grid, "density": np.exp(d.logpdf(grid))})
    curve = curve[np.isfinite(curve["density"])]
    x = alt.X("x0:Q", title=None, scale=alt.Scale(domain=[lo, hi]))
    hist = alt.Chart(inline(bars)).mark_rect(color="#4c78a8", opacity=0.7).encode(
        x=x, x2="x1:Q", y=alt.Y("density:Q", title="density"),
        tooltip=[alt.Tooltip("x0:Q", format=".3g", title="from"),
                 alt.Tooltip("x1:Q", format=".3g", title="to"),
                 alt.Tooltip("density:Q", format=".3g")])
    line = alt.Chart(inline(curve)).mark_line(color="#8a1c1c").encode(
        x=alt.X("x:Q", scale=alt.Scale(domain=[lo, hi])), y="density:Q")
    return alt.layer(hist, line).properties(width=WIDE // 2 - 40, height=140,
                                            title=alt.TitleParams(path, fontSize=11))


def predictive_chart(pred: pd.DataFrame, series: str) -> alt.TopLevelMixin | None:
    """One target series over time: 90% and 50% bands, the median, the published values."""
    p = pred[pred["series"] == series].copy()
    if p.empty:
        return None
    p["date"] = pd.to_datetime(p["date"]).dt.strftime("%Y-%m-%d")
    data = inline(p)
    x = alt.X("date:T", title=None)
    layers = [
        alt.Chart(data).mark_area(color="#4c78a8", opacity=0.2).encode(
            x=x, y=alt.Y("p05:Q", title=series), y2="p95:Q"),
        alt.Chart(data).mark_area(color="#4c78a8", opacity=0.35).encode(x=x, y="p25:Q",
                                                                        y2="p75:Q"),
        alt.Chart(data).mark_line(color="#1d2430").encode(
            x=x, y="median:Q", tooltip=["date:T", alt.Tooltip("median:Q", format=",.4g"),
                                        alt.Tooltip("p05:Q", format=",.4g"),
                                        alt.Tooltip("p95:Q", format=",.4g")]),
    ]
    pub = p[p["published"].notna() & (p["target"] != "")]
    if len(pub):
        layers.append(alt.Chart(inline(pub)).mark_point(
            color="#b00020", filled=True, size=60, shape="diamond").encode(
            x=x, y="published:Q", tooltip=["target:N", "date:T",
                                           alt.Tooltip("published:Q", format=",.4g")]))
    return alt.layer(*layers).properties(width=WIDE, height=220)


def calibration_sections(post) -> list[Section]:
    mf = post.manifest
    idn = post.identifiability
    gens = mf.get("generations", [])
    intro = (f"<p>{esc(mf.get('scenario_name', ''))} calibrated to "
             f"{len(post.targets)} published figure(s) by ABC-SMC: {mf.get('particles')} "
             f"particles, {len(gens)} generation(s), {mf.get('runs', 0):,} runs, each at its "
             f"own seed; {esc(mf.get('stopped', ''))}; effective sample size "
             f"{mf.get('effective_sample_size')}.</p>"
             "<p>A width ratio is the posterior's 90% interval over the prior's: near 1, the "
             "targets say little about that parameter; near 0, they pin it down.</p>")
    rows = [[r["parameter"], r["prior"], f"{_g(r['prior_lo'])} to {_g(r['prior_hi'])}",
             _g(r["median"]), f"{_g(r['lo'])} to {_g(r['hi'])}", f"{r['width_ratio']:.2f}"]
            for r in idn.to_dict(orient="records")]
    html_ = intro + _table(["parameter", "prior", "prior 90%", "posterior median",
                            "posterior 90%", "width ratio"], rows)
    strong = post.correlations[post.correlations["correlation"].abs() >= 0.5]
    if len(strong):
        html_ += "<p>Strong posterior correlations (the targets fix a combination):</p>"
        html_ += _table(["parameter", "and", "correlation"],
                        [[r.parameter, r.other, f"{r.correlation:+.2f}"]
                         for r in strong.itertuples(index=False)])
    sections = [Section("cal-identifiability", "What the targets pin down", html_, {})]
    charts = {}
    for i, p in enumerate(post.paths):
        charts[f"chart-prior-{i}"] = to_spec(prior_posterior_chart(post, p))
    sections.append(Section(
        "cal-prior", "Prior against posterior",
        '<p class="caption">Red line: the prior density; blue bars: the posterior '
        "(weighted particles).</p>" + "".join(_chart_div(c) for c in charts), charts))
    fit_rows = [[r["target"], r["at"] if isinstance(r.get("at"), str) else "end of run",
                 _g(r["published"], 4), _g(r["median"], 4),
                 f"{_g(r['p05'], 4)} to {_g(r['p95'], 4)}",
                 "yes" if r["within_90"] else "no", r.get("source", "")]
                for r in post.fit.to_dict(orient="records")] if len(post.fit) else []
    pred_charts = {}
    for i, series in enumerate(pd.unique(post.predictive["series"])
                               if len(post.predictive) else []):
        c = predictive_chart(post.predictive, series)
        if c is not None:
            pred_charts[f"chart-pred-{i}"] = to_spec(c)
    pred_html = ('<p class="caption">Posterior predictive: posterior draws run again at fresh '
                 "seeds; dark band 50%, light band 90%, line the median; red diamonds the "
                 "published figures.</p>"
                 + "".join(_chart_div(c) for c in pred_charts)
                 + (_table(["target", "date", "published", "median", "90% band",
                            "inside", "source"], fit_rows) if fit_rows else ""))
    sections.append(Section("cal-predictive", "Predictive bands against the published figures",
                            pred_html, pred_charts))
    return sections


# ---------------------------------------------------------------- draws


def draws_sections(d) -> list[Section]:
    mf = d.manifest
    rows = []
    for r in d.headline().to_dict(orient="records"):
        p = r["parameter_share"]
        rows.append([r["measure"], _g(r["median"], 4), f"{_g(r['lo'], 4)} to {_g(r['hi'], 4)}",
                     "-" if not math.isfinite(p) else f"{p:.0%}",
                     "-" if not math.isfinite(p) else f"{1 - p:.0%}"])
    intro = (f"<p>{esc(mf.get('scenario_name', ''))} at {mf['draws']} draws from the "
             f"{esc(mf['source'])}, every draw on the same {mf['replicates']} seed(s), and "
             f"{mf['noise_runs']} runs at further seeds for the seed noise. Intervals are "
             f"{mf['level']:.0%} over parameters and seeds.</p>")
    return [Section("draws", "Headline figures with intervals",
                    intro + _table(["measure", "median", f"{mf['level']:.0%} interval",
                                    "width from parameters", "from seeds"], rows), {})]


def sections_of(path: str | Path) -> tuple[str, list[Section]]:
    """The label and the sections of one uncertainty directory."""
    path = Path(path)
    kind = directory_kind(path)
    if kind == "sensitivity":
        res = read_sensitivity(path)
        return f"sensitivity: {path.name}", sensitivity_sections(res.table, res.manifest)
    if kind == "calibration":
        return f"calibration: {path.name}", calibration_sections(read_posterior(path))
    if kind == "draws":
        return f"draws: {path.name}", draws_sections(read_draws(path))
    raise ScslabError(f"{path}: not a sensitivity, calibration or draws directory")
