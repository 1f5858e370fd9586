"""What the sandbox draws: the report's chart builders applied to the preview's runs, the
differences with their intervals, and the rows of the key figures.

Charts are Vega-Lite dicts with their data inside (``report.charts.to_spec``), drawn in
the page by the Vega bundle scslab embeds in reports, or exported as PNG or SVG with
vl-convert.  The run charts (``run_views``) are built in a preview worker beside
replicate 0; the difference charts (``difference_views``) from the comparison table.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property

import altair as alt
import pandas as pd
import vl_convert as vlc

from scslab.app.config import BASELINE, VARIANT
from scslab.experiments.compare import Comparison
from scslab.metrics.figures import figure, interval, is_share
from scslab.report import charts
from scslab.report.data import RunView
from scslab.report.resident import ResidentLife, life
from scslab.run.result import RunResult
from scslab.scenario.schema import Scenario

# points per series in the preview's charts: about nine days apart over three years, so a move
# sends tens of kilobytes to the browser rather than the report's daily megabyte
PREVIEW_POINTS = 120

# the measures of the key-figures table and the first difference chart, in plain words
HEADLINE = {
    "listed_end": "on a black list at the end",
    "listings_new": "new listings",
    "residents_ever_listed": "residents ever listed",
    "residents_ever_wrongfully_listed": "residents ever wrongly listed",
    "wrongful_share_of_list_days": "wrongful share of list-days",
    "wrongful_blocks_per_100k": "wrongful blocks per 100,000 residents",
    "mean_days_to_correct_wrongful_listing": "days to correct a wrongful listing",
    "records_created_false": "false records",
    "records_created_misattributed": "misattributed records",
    "poverty_trap_share": "listed again after an income shock (poverty trap)",
    "acts_total_negative": "negative acts committed",
    "acts_total_speech": "speech acts (posts)",
}


@dataclass(frozen=True)
class ChartView:
    """One chart of the page: a key (its id), a title, a caption and the Vega-Lite spec."""

    key: str
    title: str
    caption: str
    spec: dict

    @cached_property
    def spec_json(self) -> str:
        """The spec as JSON text, as the page's chart widget takes it."""
        return json.dumps(self.spec, allow_nan=False)


@dataclass(frozen=True)
class RunViews:
    """The charts of replicate 0 of both arms, and the life of one resident."""

    charts: list[ChartView]
    life: ResidentLife | None


def stable_names(spec: dict) -> dict:
    """``spec`` with its datasets renamed ``data-0``, ``data-1``... in the order the spec
    first mentions them, so that the same chart with other rows differs only in its rows
    (the page then redraws it by swapping them, widgets.VegaChart)."""
    datasets = spec.get("datasets") or {}
    if not datasets:
        return spec
    rest = json.dumps({k: v for k, v in spec.items() if k != "datasets"})
    order = sorted(datasets, key=lambda n: (rest.find(json.dumps(n)), n))
    new = {old: f"data-{i}" for i, old in enumerate(order)}
    for old, name in new.items():
        rest = rest.replace(json.dumps(old), json.dumps(name))
    return {**json.loads(rest), "datasets": {new[n]: datasets[n] for n in order}}


def _view_spec(chart: alt.TopLevelMixin) -> dict:
    """A preview chart's spec: unvalidated (the report's tests check these builders) and
    with stable dataset names."""
    return stable_names(charts.to_spec(chart, validate=False))


def _spec(key: str) -> charts.ChartSpec:
    return next(c for c in charts.CHARTS if c.key == key)


def run_views(baseline: RunResult, variant: RunResult) -> RunViews:
    """List sizes, wrongful listings and disparate impact of replicate 0 of each arm, and
    the life of one resident (the report's builders)."""
    runs = [RunView.from_result(baseline, BASELINE), RunView.from_result(variant, VARIANT)]
    out = []
    with charts.points_per_series(PREVIEW_POINTS):
        for key in ("list_sizes", "wrongful_listings", "disparate_impact"):
            spec = _spec(key)
            chart = spec.build(runs)
            if chart is not None:
                out.append(ChartView(key, spec.title, spec.caption, _view_spec(chart)))
    one = life(runs)
    if one is not None:
        path = charts.score_path(runs, one.path)
        if path is not None:
            out.append(ChartView(
                "score_path", "The life of one resident: score and listings",
                f"Resident {one.resident}, {one.why}: their score in the baseline and in the "
                "variant (the same synthetic resident, the same randomness), and the days "
                "they spent on a black list in each.", _view_spec(path)))
    return RunViews(out, one)


# ---------------------------------------------------------------- differences


def measure_label(measure: str, scenario: Scenario | None = None) -> str:
    """A measure in plain words (the table and charts of the page)."""
    if measure in HEADLINE:
        return HEADLINE[measure]
    if measure.startswith("blocked_wrongful_"):
        return "wrongly blocked: " + measure.removeprefix("blocked_wrongful_").replace("_", " ")
    if measure.startswith("blocked_"):
        return "blocked: " + measure.removeprefix("blocked_").replace("_", " ")
    if measure.startswith("di_listing_rate["):
        inner = measure.removeprefix("di_listing_rate[").removesuffix("]")
        attr, _, groups = inner.partition("=")
        group, _, ref = groups.partition("/")
        return f"listing rate, {attr.replace('_', ' ')} {group} / {ref}"
    return measure.replace("_", " ")


def sanction_measures(s: Scenario, table: pd.DataFrame) -> list[str]:
    present = set(table["measure"])
    return [f"blocked_{a}" for a in s.policy.sanctions if f"blocked_{a}" in present]


def disparity_measures(table: pd.DataFrame) -> list[str]:
    return [m for m in dict.fromkeys(table["measure"]) if m.startswith("di_listing_rate[")]


def difference_chart(df: pd.DataFrame, order: list[str], *, title: str, level: float
                     ) -> alt.TopLevelMixin:
    """The variant's difference from the baseline for each measure (rows of
    ``report.charts.comparison_data`` with a ``label``), one row each in ``order``, with
    its interval over the paired replicates and the zero line; one axis for all (measures
    of one unit)."""
    base = alt.Chart().encode(y=alt.Y("label:N", sort=order, title=None,
                                      axis=alt.Axis(labelLimit=320)))
    zero = alt.Chart().mark_rule(color="#8a1c1c", strokeDash=[5, 3], strokeWidth=1.5).encode(
        x=alt.XDatum(0))
    bars = base.mark_rule(strokeWidth=2, color="#4c78a8").encode(
        x=alt.X("lo:Q", title=f"{title}: variant minus baseline ({level:.0%} interval)",
                scale=alt.Scale(zero=True, nice=True)),
        x2=alt.X2("hi:Q"))
    dots = base.mark_point(filled=True, size=70, color="#1f3b73").encode(
        x=alt.X("difference:Q"),
        tooltip=[alt.Tooltip("label:N", title="measure"),
                 alt.Tooltip("value_text:N", title="variant"),
                 alt.Tooltip("difference_text:N", title="difference"),
                 alt.Tooltip("interval_text:N", title=f"{level:.0%} interval")])
    return alt.layer(zero, bars, dots, data=charts.inline(df)).properties(
        width=charts.WIDE - 260, height=alt.Step(22))


class DifferenceCharts:
    """The difference charts of a scenario: built once with Altair (validated), then
    redrawn on each move by swapping their rows, which is what changes."""

    def __init__(self):
        self._skeletons: dict[tuple, tuple[dict, str]] = {}

    def _drawn(self, key: tuple, df: pd.DataFrame, build) -> dict:
        hit = self._skeletons.get(key)
        if hit is None:
            spec = charts.to_spec(build(df))
            (name,) = spec["datasets"]
            hit = self._skeletons[key] = (spec, name)
        spec, name = hit
        return {**spec, "datasets": {name: charts.records(df)}}

    def views(self, comp: Comparison, scenario: Scenario) -> list[ChartView]:
        """The headline differences (one panel per measure: their units differ), sanctions
        by kind and disparate impact by group (one axis each), with their intervals."""
        out = []
        present = set(comp.table["measure"])
        head = [m for m in HEADLINE if m in present][:8]
        df, panels = charts.comparison_data(comp.table, comp.labels, head)
        if len(df):
            spec = self._drawn(("differences", tuple(head), comp.level), df, lambda d: (
                charts.comparison_chart(comp.table, comp.labels, level=comp.level,
                                        measures=head)))
            out.append(ChartView(
                "differences", "What the levers change",
                "Each figure of the variant minus the baseline, with its interval over the "
                "paired replicates; shares in percentage points. An interval that crosses "
                "the dashed zero line is not distinguishable from no change.", spec))
        for key, measures, title, heading, caption in (
                ("sanctions", sanction_measures(scenario, comp.table), "blocked attempts",
                 "Sanctions by kind",
                 "Attempts blocked because the resident was listed, over the whole period: "
                 "the variant minus the baseline for each kind, with its interval."),
                ("disparity", disparity_measures(comp.table), "listing-rate ratio",
                 "Disparate impact by group: the change",
                 "How the ratio of each group's listing rate to its reference group's "
                 "changes (variant minus baseline), with its interval; the chart of the "
                 "ratios themselves is below.")):
            df, _ = charts.comparison_data(comp.table, comp.labels, measures)
            if not len(df):
                continue
            df = df.assign(label=[measure_label(m, scenario) for m in df["measure"]])
            order = [measure_label(m, scenario) for m in measures]
            spec = self._drawn((key, tuple(measures), comp.level), df, lambda d, o=order,
                               t=title: difference_chart(d, o, title=t, level=comp.level))
            out.append(ChartView(key, heading, caption, spec))
        return out


def shown_measures(scenario: Scenario, measures: list[str]) -> list[str]:
    """The measures the page shows (the comparison table is built for these only)."""
    present = dict.fromkeys(measures)
    wanted = [*HEADLINE, *(f"blocked_{a}" for a in scenario.policy.sanctions)]
    return [m for m in wanted if m in present] + [
        m for m in present if m.startswith("di_listing_rate[")]


# ---------------------------------------------------------------- key figures


@dataclass(frozen=True)
class FigureRow:
    """One row of the key figures: raw values for checks, and their text."""

    measure: str
    label: str
    baseline: float
    variant: float
    difference: float
    lo: float
    hi: float
    text: tuple[str, str, str, str]  # baseline, variant, difference, interval


def key_figures(comp: Comparison, scenario: Scenario) -> list[FigureRow]:
    """Headline measures, sanctions by kind and disparate impact: each scenario's value
    and the difference with its interval."""
    t = comp.table
    wanted = ([m for m in HEADLINE] + sanction_measures(scenario, t) + disparity_measures(t))
    by = {(r.measure, r.scenario): r for r in t.itertuples(index=False)}
    rows = []
    for m in wanted:
        b, v = by.get((m, BASELINE)), by.get((m, VARIANT))
        if b is None or v is None:
            continue
        if not (math.isfinite(b.value) or math.isfinite(v.value)):
            continue
        share = is_share(m)
        rows.append(FigureRow(
            m, measure_label(m, scenario), float(b.value), float(v.value),
            float(v.difference), float(v.lo), float(v.hi),
            (figure(b.value, share=share), figure(v.value, share=share),
             figure(v.difference, share=share, signed=True),
             interval(v.lo, v.hi, share=share) or "none")))
    return rows


# ---------------------------------------------------------------- images


def chart_image(spec: dict, fmt: str) -> bytes:
    """A chart as ``png`` (twice the pixels, for screens) or ``svg``, drawn by vl-convert
    with the Vega-Lite version of the page's charts."""
    version = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]
    if version not in vlc.get_vegalite_versions():
        version = vlc.get_vegalite_versions()[-1]
    if fmt == "svg":
        return vlc.vegalite_to_svg(spec, vl_version=version).encode()
    if fmt == "png":
        return vlc.vegalite_to_png(spec, vl_version=version, scale=2)
    raise ValueError(f"unknown image format {fmt!r}; png or svg")
