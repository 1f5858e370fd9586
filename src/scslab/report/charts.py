"""Chart builders: small functions from runs to one Altair chart, or ``None``.

Each builder takes the runs of a report (``RunView`` objects, see ``report/data.py``) and
returns an Altair chart, or ``None`` when none of the runs has the data it needs (a column
or table added by a later version, or a run written without tracing).  ``CHARTS`` lists
them in report order with a title and a plain-words caption; to add a chart, write a
builder and append a ``ChartSpec``.

Every chart carries its data inline, so the report needs no files and no network.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd

from scslab.experiments.twin import behaviour_table
from scslab.metrics.figures import figure, interval, is_share
from scslab.report.data import RunView

MAX_POINTS_PER_SERIES = 1500  # longer runs are thinned to every k-th day (last day kept)
# sizes that fit a page 800 px wide (the report's column is at most 1000 px)
WIDE = 600
FACET_WIDTH = 270
PANEL_WIDTH = 170  # small multiples, three to a row
PANEL_HEIGHT = 110
RUN_COLORS = "tableau10"  # ten distinguishable colours, one per run
WARM_UP_DAYS = 90  # the wrongful share is over the past 90 days, drawn from day 90 on
AXIS_CONFIG = {"labelOverlap": "greedy", "labelSeparation": 6, "labelFlush": True}


@dataclass(frozen=True)
class ChartSpec:
    key: str
    title: str
    caption: str
    build: Callable[[list[RunView]], alt.TopLevelMixin | None]


# ---------------------------------------------------------------- helpers


def records(df: pd.DataFrame) -> list[dict]:
    """Plain JSON-able rows: NaN becomes null, numpy scalars become Python numbers (a
    column at a time: pandas' own row-by-row conversion cost tens of ms a chart)."""
    columns = []
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        values = col.tolist()
        missing = col.isna().to_numpy()
        if missing.any():
            values = [None if m else v for v, m in zip(values, missing, strict=True)]
        columns.append(values)
    names = list(df.columns)
    if not names:
        return [{} for _ in range(len(df))]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


_DATA: dict[str, list[dict]] = {}
_NAMES = itertools.count()


def inline(df: pd.DataFrame) -> alt.Data:
    """A named data reference; the rows are attached when the spec is made (``to_spec``,
    ``with_data``), so Altair does not validate thousands of rows one by one."""
    name = f"scslab-{next(_NAMES)}"
    _DATA[name] = records(df)
    return alt.Data(name=name)


def _data_names(d) -> set[str]:
    found: set[str] = set()
    if isinstance(d, dict):
        data = d.get("data")
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            found.add(data["name"])
        for v in d.values():
            found |= _data_names(v)
    elif isinstance(d, list):
        for v in d:
            found |= _data_names(v)
    return found


def with_data(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The chart with its rows inside it (``datasets``), to display or save on its own."""
    names = _data_names(chart.to_dict(validate=False))
    chart = chart.configure_axis(**AXIS_CONFIG)
    chart.datasets = {n: _DATA.pop(n) for n in names if n in _DATA}
    return chart


def labels(runs: list[RunView]) -> list[str]:
    return [r.label for r in runs]


# a caller drawing many charts quickly (the app's preview) asks for fewer points; a context
# variable, so a report written on another thread at the same time keeps its own
_points_per_series: ContextVar[int] = ContextVar("points_per_series",
                                                 default=MAX_POINTS_PER_SERIES)


@contextmanager
def points_per_series(n: int) -> Iterator[None]:
    """Within the block, series are thinned to at most ``n`` points (last day kept)."""
    token = _points_per_series.set(n)
    try:
        yield
    finally:
        _points_per_series.reset(token)


def thin(ts: pd.DataFrame) -> pd.DataFrame:
    n = len(ts)
    most = _points_per_series.get()
    if n <= most:
        return ts
    k = int(np.ceil(n / most))
    keep = np.zeros(n, dtype=bool)
    keep[::k] = True
    keep[-1] = True
    return ts[keep]


def flat_runs_dropped(v: np.ndarray) -> np.ndarray:
    """Rows to keep so that a line through them is unchanged: drop the inside points of
    runs of equal values (first and last kept), which cuts most days of a quiet series."""
    keep = np.ones(len(v), dtype=bool)
    if len(v) > 2:
        keep[1:-1] = (v[1:-1] != v[:-2]) | (v[1:-1] != v[2:])
    return keep


def long_series(runs: list[RunView], columns: Callable[[RunView, pd.DataFrame], dict],
                *, cumulative: bool = False) -> pd.DataFrame | None:
    """Long-form rows (run, date, series, value) from each run's timeseries.

    ``columns(run, ts)`` maps a series label to a timeseries column; runs without any of
    their columns are left out, and ``None`` is returned if no run has one.
    """
    parts = []
    for r in runs:
        ts = r.table("timeseries")
        if ts is None or "date" not in ts:
            continue
        cols = {k: c for k, c in columns(r, ts).items() if c in ts}
        if not cols:
            continue
        dates = pd.to_datetime(ts["date"]).dt.strftime("%Y-%m-%d")
        for name, col in cols.items():
            v = ts[col].astype(float)
            if cumulative:
                v = v.cumsum()
            one = thin(pd.DataFrame({"run": r.label, "date": dates.values,
                                     "series": name, "value": v.values}))
            parts.append(one[flat_runs_dropped(one["value"].to_numpy())])
    if not parts:
        return None
    return pd.concat(parts, ignore_index=True)


def by_run(chart: alt.Chart, runs: list[RunView], *, height: int = 260) -> alt.TopLevelMixin:
    """One panel for one run; side-by-side panels (shared scales) for several."""
    if len(runs) == 1:
        return chart.properties(width=WIDE, height=height)
    return chart.properties(width=FACET_WIDTH, height=height - 40).facet(
        facet=alt.Facet("run:N", sort=labels(runs), title=None,
                        header=alt.Header(labelFontSize=13, labelFontWeight="bold")),
        columns=min(len(runs), 2),
    )


def run_color(runs: list[RunView], **legend) -> alt.Color:
    """One colour per run (up to ten distinguishable ones), legend below the chart."""
    return alt.Color("run:N", sort=labels(runs), title=None,
                     scale=alt.Scale(scheme=RUN_COLORS),
                     legend=alt.Legend(orient="bottom", labelLimit=0, **legend))


def tips(*fields: str | alt.Tooltip) -> list[alt.Tooltip]:
    """Tooltip channels from shorthands (``"run:N"``) or Tooltips: Altair wraps a shorthand
    string by rebuilding its table of schema classes, about 10 ms a string, which made up
    most of the time a chart took to build."""
    return [f if isinstance(f, alt.Tooltip) else alt.Tooltip(f) for f in fields]


def panels(chart: alt.Chart, field: str, order: list[str], *, columns: int = 3
           ) -> alt.TopLevelMixin:
    """Small multiples: one panel per value of ``field``, each with its own y axis (a small
    series is not flattened by a large one), titles above the panels."""
    return chart.properties(width=PANEL_WIDTH, height=PANEL_HEIGHT).facet(
        facet=alt.Facet(f"{field}:N", sort=order, title=None,
                        header=alt.Header(labelOrient="top", labelAnchor="start",
                                          labelFontSize=12, labelFontWeight="bold",
                                          labelLimit=PANEL_WIDTH + 40)),
        columns=columns, spacing={"row": 14, "column": 12},
    ).resolve_scale(y="independent")


def attribute_picker(attrs: list[str]) -> alt.Parameter:
    attrs = [a for a in attrs if a != "all"] + [a for a in attrs if a == "all"]
    return alt.param(
        name="attribute", value=attrs[0],
        bind=alt.binding_select(options=attrs, name="group attribute: "),
    )


def by_attribute(parts: list[pd.DataFrame]) -> tuple[pd.DataFrame, alt.Parameter]:
    """Per-group rows of several runs as one table with text attributes and groups, and a
    picker over its attributes."""
    df = pd.concat(parts, ignore_index=True)
    df["attribute"] = df["attribute"].astype(str)
    df["group"] = df["group"].astype(str)
    return df, attribute_picker(list(dict.fromkeys(df["attribute"])))


# ---------------------------------------------------------------- builders


def list_sizes(runs: list[RunView]) -> alt.TopLevelMixin | None:
    """Residents on a black list by their own route and only through association, and
    members of each list, day by day: one panel per list with its own axis, one colour
    per run."""

    def cols(r: RunView, ts: pd.DataFrame) -> dict:
        out = {"listed (own records, score or firm)": "listed"}
        if "listed_association" in ts.columns:
            out["listed only through association"] = "listed_association"
        names = list(r.scenario.policy.lists) or [
            c.removeprefix("list_") for c in ts.columns if c.startswith("list_")]
        out.update({f"list: {n}": f"list_{n}" for n in names})
        return out

    df = long_series(runs, cols)
    if df is None:
        return None
    chart = alt.Chart(inline(df)).mark_line(interpolate="step-after").encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%Y", tickCount="year")),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(tickCount=4)),
        color=run_color(runs),
        tooltip=tips("run:N", "date:T", "series:N", alt.Tooltip("value:Q", format=",.0f")),
    )
    return panels(chart, "series", list(dict.fromkeys(df["series"])))


def _sanction_data(runs: list[RunView]) -> pd.DataFrame | None:
    def cols(r: RunView, ts: pd.DataFrame) -> dict:
        out = {}
        for a in r.scenario.actions:
            out[f"{a}: all"] = f"blocked_{a}"
            out[f"{a}: wrongful"] = f"blocked_wrongful_{a}"
        return out

    df = long_series(runs, cols, cumulative=True)
    if df is None or not df["value"].any():
        return None
    df[["action", "kind"]] = df["series"].str.rsplit(": ", n=1, expand=True)
    df["action"] = df["action"].str.replace("_", " ")
    return df.drop(columns="series")


def _sanction_panels(runs: list[RunView], kind: str, title: str) -> alt.TopLevelMixin | None:
    df = _sanction_data(runs)
    if df is None:
        return None
    chart = alt.Chart(inline(df)).transform_filter(f"datum.kind == '{kind}'").mark_line(
    ).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%Y", tickCount="year")),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(tickCount=4)),
        color=run_color(runs),
        tooltip=tips("run:N", "date:T", "action:N", alt.Tooltip("value:Q", format=",.0f")),
    )
    return panels(chart, "action", list(dict.fromkeys(df["action"])))


def sanctions(runs: list[RunView]) -> alt.TopLevelMixin | None:
    """Cumulative blocked attempts, one panel per kind of action."""
    return _sanction_panels(runs, "all", "blocked (cumulative)")


def wrongful_sanctions(runs: list[RunView]) -> alt.TopLevelMixin | None:
    """Cumulative blocks of wrongly listed residents, one panel per kind of action, each
    on its own axis (they are a small part of all blocks)."""
    return _sanction_panels(runs, "wrongful", "wrongful (cumulative)")


def wrongful_listings(runs: list[RunView]) -> alt.TopLevelMixin | None:
    """Wrongly listed residents, and the wrongful share of list-days over the past
    ``WARM_UP_DAYS`` days (drawn from that day on: in the first weeks a handful of
    listings makes the share jump between 0 and 1)."""
    parts = []
    for r in runs:
        ts = r.table("timeseries")
        if ts is None or not {"listed", "listed_wrongful", "date"} <= set(ts.columns):
            continue
        listed = ts["listed"].astype(float).rolling(WARM_UP_DAYS, min_periods=1).sum()
        wrong = ts["listed_wrongful"].astype(float).rolling(WARM_UP_DAYS, min_periods=1).sum()
        share = np.where((np.arange(len(ts)) >= WARM_UP_DAYS - 1) & (listed > 0),
                         wrong / listed.where(listed > 0, 1), np.nan)
        one = pd.DataFrame({
            "run": r.label,
            "date": pd.to_datetime(ts["date"]).dt.strftime("%Y-%m-%d").values,
            "wrongful": ts["listed_wrongful"].astype(float).values,
            "share": share,
        })
        parts.append(thin(one))
    if not parts:
        return None
    df = pd.concat(parts, ignore_index=True)
    base = alt.Chart(inline(df)).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%Y", tickCount="year")),
        color=run_color(runs),
    )
    half = (WIDE - 60) // 2
    count = base.mark_line(interpolate="step-after").encode(
        y=alt.Y("wrongful:Q", title="residents wrongly listed"),
        tooltip=tips("run:N", "date:T", alt.Tooltip("wrongful:Q", format=",.0f")),
    ).properties(width=half, height=200)
    share = base.transform_filter("isValid(datum.share)").mark_line().encode(
        y=alt.Y("share:Q", title=f"wrongful share, past {WARM_UP_DAYS} days",
                axis=alt.Axis(format=".0%", tickCount=5)),
        tooltip=tips("run:N", "date:T", alt.Tooltip("share:Q", format=".1%")),
    ).properties(width=half, height=200)
    return alt.hconcat(count, share, spacing=30).resolve_scale(x="shared")


def records_by_provenance(runs: list[RunView]) -> alt.TopLevelMixin | None:
    """Cumulative false and misattributed records: the data errors behind wrongful lists;
    a panel for each, one colour per run."""

    def cols(r: RunView, ts: pd.DataFrame) -> dict:
        return {"false records": "records_created_false",
                "misattributed records": "records_created_misattributed"}

    df = long_series(runs, cols, cumulative=True)
    if df is None:
        return None
    chart = alt.Chart(inline(df)).mark_line().encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%Y", tickCount="year")),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(tickCount=4)),
        color=run_color(runs),
        tooltip=tips("run:N", "date:T", "series:N", alt.Tooltip("value:Q", format=",.0f")),
    )
    return panels(chart, "series", ["false records", "misattributed records"], columns=2)


def score_distributions(runs: list[RunView]) -> alt.TopLevelMixin | None:
    """Final scores by group: the share of each group in each 10-point bin."""
    parts = []
    for r in runs:
        s = r.table("scores")
        if s is None or not {"attribute", "group", "score_from", "residents"} <= set(s.columns):
            continue
        s = s.copy()
        total = s.groupby(["attribute", "group"])["residents"].transform("sum")
        s["share"] = s["residents"] / total
        s["run"] = r.label
        parts.append(s[["run", "attribute", "group", "score_from", "residents", "share"]])
    if not parts:
        return None
    df, pick = by_attribute(parts)
    chart = alt.Chart(inline(df)).mark_line(interpolate="step-after").encode(
        x=alt.X("score_from:Q", title="final score (10-point bins)",
                scale=alt.Scale(zero=False)),
        y=alt.Y("share:Q", title="share of the group", axis=alt.Axis(format="%")),
        color=alt.Color("group:N", title="group", sort=None,
                        scale=alt.Scale(scheme="tableau10"),
                        legend=alt.Legend(orient="bottom", columns=5, labelLimit=0)),
        tooltip=tips("run:N", "attribute:N", "group:N", "score_from:Q",
                     alt.Tooltip("residents:Q", format=","),
                     alt.Tooltip("share:Q", format=".2%")),
    ).add_params(pick).transform_filter("datum.attribute == attribute")
    return by_run(chart, runs, height=240)


def group_measure(measure: str, title: str, fmt: str) -> Callable:
    """A bar chart of one ``groups`` measure per group, with the runs side by side."""

    def build(runs: list[RunView]) -> alt.TopLevelMixin | None:
        parts = []
        for r in runs:
            g = r.table("groups")
            if g is None or "measure" not in g:
                continue
            g = g[g["measure"] == measure]
            if "period" in g:
                g = g[g["period"] == "run"]
            if len(g):
                parts.append(g.assign(run=r.label)[["run", "attribute", "group", "value"]])
        if not parts:
            return None
        df, pick = by_attribute(parts)
        return alt.Chart(inline(df)).mark_bar().encode(
            y=alt.Y("group:N", title=None, sort=None),
            x=alt.X("value:Q", title=title, axis=alt.Axis(format=fmt, tickCount=5)),
            yOffset=alt.YOffset("run:N", sort=labels(runs)),
            color=run_color(runs),
            tooltip=tips("run:N", "attribute:N", "group:N", alt.Tooltip("value:Q", format=fmt)),
        ).add_params(pick).transform_filter("datum.attribute == attribute").properties(
            width=WIDE - 120, height=alt.Step(max(8, 22 // len(runs))),
        )

    build.__name__ = f"group_{measure}"
    return build


def disparate_impact(runs: list[RunView]) -> alt.TopLevelMixin | None:
    """Each group's listing rate relative to its attribute's reference (first) category,
    with 95% intervals (Katz's log method for a ratio of two proportions); the reference
    group is drawn at 1."""
    z = 1.959963984540054
    parts = []
    for r in runs:
        g = r.table("groups")
        if g is None or not {"attribute", "group", "measure", "value"} <= set(g.columns):
            continue
        if "period" in g:
            g = g[g["period"] == "run"]
        w = g[g["measure"].isin(["residents", "ever_listed"])].pivot_table(
            index=["attribute", "group"], columns="measure", values="value", aggfunc="sum")
        if not {"residents", "ever_listed"} <= set(w.columns):
            continue
        w = w.reset_index()
        w = w[w["group"].astype(str) != "all"]
        attrs = r.scenario.population.attributes
        for attr, sub in w.groupby("attribute", sort=False):
            cats = [str(c) for c in attrs[attr].categories] if attr in attrs else \
                list(sub["group"].astype(str))
            sub = sub.set_index(sub["group"].astype(str)).reindex(cats).dropna()
            if len(sub) < 2:
                continue
            ref = sub.index[0]
            n0, x0 = sub.loc[ref, "residents"], sub.loc[ref, "ever_listed"]
            if min(x0, n0) <= 0:
                continue
            parts.append({"run": r.label, "attribute": str(attr), "group": f"{ref} (reference)",
                          "order": 0, "reference": ref, "ratio": 1.0, "lo": None, "hi": None,
                          "listed": int(x0), "residents": int(n0)})
            for order, (grp, row) in enumerate(sub.iloc[1:].iterrows(), start=1):
                n1, x1 = row["residents"], row["ever_listed"]
                if min(x1, n1) <= 0:
                    continue
                ratio = (x1 / n1) / (x0 / n0)
                se = np.sqrt(max(1 / x1 - 1 / n1 + 1 / x0 - 1 / n0, 0.0))
                parts.append({"run": r.label, "attribute": str(attr), "group": grp,
                              "order": order, "reference": ref, "ratio": ratio,
                              "lo": ratio * np.exp(-z * se), "hi": ratio * np.exp(z * se),
                              "listed": int(x1), "residents": int(n1)})
    if not parts or all(p["lo"] is None for p in parts):
        return None
    df = pd.DataFrame(parts)
    attrs = list(dict.fromkeys(df["attribute"]))
    pick = attribute_picker(attrs)
    order = labels(runs)
    data = alt.Chart(inline(df)).transform_filter("datum.attribute == attribute")
    base = data.encode(
        y=alt.Y("group:N", title=None, sort=alt.EncodingSortField("order", op="min"),
                axis=alt.Axis(labelLimit=200)),
        yOffset=alt.YOffset("run:N", sort=order),
        color=run_color(runs),
    )
    # a log axis (a ratio of 2 and of 1/2 are as far from 1) fitted to the groups shown
    x_scale = alt.Scale(type="log", nice=False, padding=12)
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("lo:Q", title="listing rate relative to the reference group (log scale)",
                scale=x_scale, axis=alt.Axis(tickCount=6, format=".2~f")),
        x2=alt.X2("hi:Q"),
    )
    dots = base.mark_point(filled=True, size=60).encode(
        x=alt.X("ratio:Q"),
        shape=alt.ShapeValue("circle", condition={"test": "datum.lo == null",
                                                  "value": "diamond"}),
        tooltip=tips("run:N", "attribute:N", "group:N", "reference:N",
                     alt.Tooltip("ratio:Q", format=".2f"), alt.Tooltip("lo:Q", format=".2f"),
                     alt.Tooltip("hi:Q", format=".2f"), alt.Tooltip("listed:Q", format=","),
                     alt.Tooltip("residents:Q", format=",")),
    )
    one = data.mark_rule(color="#555", strokeDash=[4, 3]).encode(x=alt.XDatum(1.0))
    return alt.layer(bars, dots, one).add_params(pick).properties(
        width=WIDE - 160, height=alt.Step(max(10, 26 // len(runs))))


def behaviour_vs_twin(runs: list[RunView]) -> alt.TopLevelMixin | None:
    """Acts with the system on against its system-off twin (same population and seed):
    fewer negative acts is deterrence, fewer speech acts is chilling.  Each bar is
    labelled with its change; several runs are told apart by colour."""

    parts = []
    for r in runs:
        twin = r.cache.get("twin")
        if twin is None or "acts" not in r.summary or "acts" not in twin.summary:
            continue
        tab = behaviour_table(r.summary["acts"], twin.summary["acts"], r.scenario)
        tab = tab[np.isfinite(tab["relative_change"])]
        if len(tab):
            parts.append(tab.assign(run=r.label))
    if not parts:
        return None
    df = pd.concat(parts, ignore_index=True)
    effect = {"speech": "speech: chilling", "negative": "negative: deterrence",
              "positive": "positive"}
    df["kind"] = df["kind"].map(effect).fillna(df["kind"])
    df["act_label"] = df["act"].str.replace("_", " ") + " (" + df["kind"] + ")"
    df["label"] = [f"{v:+.1%}" for v in df["relative_change"]]
    order = labels(runs)
    several = len(runs) > 1
    color = run_color(runs) if several else alt.Color(
        "kind:N", title="kind of act", legend=alt.Legend(orient="bottom"),
        scale=alt.Scale(domain=list(effect.values()), range=["#9467bd", "#d62728", "#2ca02c"]))
    base = alt.Chart().encode(
        y=alt.Y("act_label:N", title=None, sort=None, axis=alt.Axis(labelLimit=280)),
        yOffset=alt.YOffset("run:N", sort=order),
    )
    bars = base.mark_bar().encode(
        x=alt.X("relative_change:Q", title="acts with the system, relative to without it",
                axis=alt.Axis(format="+.0%", tickCount=5), scale=alt.Scale(nice=True)),
        color=color,
        tooltip=tips("run:N", "act:N", "kind:N", alt.Tooltip("system_on:Q", format=","),
                     alt.Tooltip("system_off:Q", format=","),
                     alt.Tooltip("relative_change:Q", format="+.1%")),
    )
    # each bar's change written at its end, outside the bar
    right = base.transform_filter("datum.relative_change >= 0").mark_text(
        fontSize=10, color="#333", align="left", dx=3).encode(x=alt.X("relative_change:Q"),
                                                              text=alt.Text("label:N"))
    left = base.transform_filter("datum.relative_change < 0").mark_text(
        fontSize=10, color="#333", align="right", dx=-3).encode(x=alt.X("relative_change:Q"),
                                                                text=alt.Text("label:N"))
    zero = alt.Chart().mark_rule(color="#555").encode(x=alt.XDatum(0))
    return alt.layer(bars, right, left, zero, data=inline(df)).properties(
        width=WIDE - 300, height=alt.Step(max(10, 20 // len(runs))))


def score_path(runs: list[RunView], path: pd.DataFrame | None) -> alt.TopLevelMixin | None:
    """One resident's score over time (one line per run) above a strip that shows when
    they were on a black list in each run."""
    if path is None or len(path) == 0:
        return None
    df = path.copy()
    order = [r for r in labels(runs) if r in set(df["run"])]
    ends = []
    for _, g in df.groupby("run", sort=False):
        nxt = g["date"].shift(-1)
        ends.extend(nxt.fillna(g["date"].iloc[-1]).tolist())
    df["until"] = ends
    line = alt.Chart(inline(df)).mark_line(interpolate="step-after", strokeWidth=2).encode(
        x=alt.X("date:T", title=None),
        y=alt.Y("score:Q", title="score", scale=alt.Scale(zero=False)),
        color=run_color(runs),
        tooltip=tips("run:N", "date:T", "score:Q", "listed:N"),
    ).properties(width=WIDE, height=200)
    listed = df[df["listed"] == "yes"]
    if len(listed) == 0:
        return line
    strip = alt.Chart(inline(listed)).mark_bar(height=12).encode(
        x=alt.X("date:T", title=None),
        x2=alt.X2("until:T"),
        y=alt.Y("run:N", sort=order, title="on a black list"),
        color=run_color(runs),
        tooltip=tips("run:N", alt.Tooltip("date:T", title="from"),
                     alt.Tooltip("until:T", title="until")),
    ).properties(width=WIDE, height=alt.Step(18))
    return alt.vconcat(line, strip).resolve_scale(x="shared")


COMPARISON_MEASURES = ("wrongful_share_of_list_days", "listed_end", "listed_association_end",
                       "listings_new",
                       "residents_ever_wrongfully_listed", "wrongful_blocks_per_100k",
                       "records_created_false", "records_created_misattributed")


def comparison_data(table: pd.DataFrame, labels: list[str],
                    measures: list[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Rows of a comparison chart: each scenario's difference from the first, per measure,
    with shares in percentage points; and the panels' titles in order."""
    present = list(dict.fromkeys(table["measure"]))
    keys = [m for m in (measures or COMPARISON_MEASURES) if m in present]
    if not keys and measures is None:  # none of the headline measures: every measure
        keys = present
    df = table[table["measure"].isin(keys) & (table["scenario"] != labels[0])].copy()
    share = df["measure"].map(is_share)
    k = np.where(share, 100.0, 1.0)
    for c in ("difference", "lo", "hi"):
        df[c] = df[c].astype(float) * k
    unit = {m: f"{m.replace('_', ' ')} (percentage points)" if is_share(m)
            else m.replace("_", " ") for m in keys}
    df["panel"] = df["measure"].map(unit)
    df["value_text"] = [figure(v, share=s) for v, s in zip(df["value"], share, strict=True)]
    df["difference_text"] = [figure(v / kk, share=s, signed=True)
                             for v, kk, s in zip(df["difference"], k, share, strict=True)]
    df["interval_text"] = [interval(lo / kk, hi / kk, share=s) or "none (one replicate)"
                           for lo, hi, kk, s in zip(df["lo"], df["hi"], k, share, strict=True)]
    cols = ["panel", "measure", "scenario", "difference", "lo", "hi", "value_text",
            "difference_text", "interval_text"]
    return df[cols], [unit[m] for m in keys]


def comparison_chart(table: pd.DataFrame, labels: list[str], *, level: float = 0.95,
                     measures: list[str] | None = None) -> alt.TopLevelMixin | None:
    """Each scenario's difference from the first with its interval over the paired
    replicates, one panel per measure (titles above, never cut), and the zero line: a
    difference whose interval crosses it is not distinguishable from no change."""
    df, panels = comparison_data(table, labels, measures)
    if len(df) == 0:
        return None
    others = labels[1:]
    base = alt.Chart().encode(y=alt.Y("scenario:N", sort=others, title=None,
                                      axis=alt.Axis(labelLimit=260)))
    # no y: a rule with only x spans the whole panel
    zero = alt.Chart().mark_rule(color="#8a1c1c", strokeDash=[5, 3], strokeWidth=1.5).encode(
        x=alt.XDatum(0))
    bars = base.mark_rule(strokeWidth=2, color="#4c78a8").encode(
        x=alt.X("lo:Q", title=f"difference from {labels[0]} ({level:.0%} interval)",
                scale=alt.Scale(zero=True, nice=True)),
        x2=alt.X2("hi:Q"))
    dots = base.mark_point(filled=True, size=70, color="#1f3b73").encode(
        x=alt.X("difference:Q"),
        tooltip=[alt.Tooltip("measure:N"), alt.Tooltip("scenario:N"),
                 alt.Tooltip("value_text:N", title="value"),
                 alt.Tooltip("difference_text:N", title="difference"),
                 alt.Tooltip("interval_text:N", title=f"{level:.0%} interval")])
    return alt.layer(zero, bars, dots, data=inline(df)).properties(
        width=WIDE - 200, height=alt.Step(22)).facet(
        facet=alt.Facet("panel:N", sort=panels, title=None,
                        header=alt.Header(labelOrient="top", labelAnchor="start",
                                          labelLimit=0, labelFontSize=13,
                                          labelFontWeight="bold", labelPadding=6)),
        columns=1, spacing=18).resolve_scale(x="independent")


CHARTS: list[ChartSpec] = [
    ChartSpec("list_sizes", "List sizes over time",
              "Residents on a black list through their own records, score or firm, those "
              "listed only through association (a household member), and the members of "
              "each list (residents, or "
              "firms on firm lists; red lists included), day by day. Each panel has its own "
              "axis; wrongly listed residents are in the Wrongful listings chart.",
              list_sizes),
    ChartSpec("sanctions", "Sanctions by kind",
              "Attempts at each action blocked because the resident was on a black list, "
              "added up over time; one panel per action, each with its own axis.",
              sanctions),
    ChartSpec("wrongful_sanctions", "Wrongful sanctions by kind",
              "The blocked attempts of residents whose listing was wrongful (they would not "
              "be listed on true records alone), added up over time; each panel has its own "
              "axis, as these are a small part of all blocks.",
              wrongful_sanctions),
    ChartSpec("wrongful_listings", "Wrongful listings",
              "Left: residents on a black list who would not be there if the platform held "
              "only true records. Right: of all the days residents spent on black lists in "
              f"the past {WARM_UP_DAYS} days, the share that was wrongful; drawn from day "
              f"{WARM_UP_DAYS} on, because in the first weeks a handful of listings makes a "
              "day-by-day share jump between 0% and 100%.",
              wrongful_listings),
    ChartSpec("records_by_provenance", "Data errors",
              "False records (about acts that never happened) and misattributed records "
              "(a real act put on the wrong resident), added up over time.",
              records_by_provenance),
    ChartSpec("score_distributions", "Score distributions by group",
              "Final scores of each group, as the share of the group in each 10-point bin. "
              "Choose the group attribute below the chart.",
              score_distributions),
    ChartSpec("listing_rate", "Listing rate by group",
              "Share of each group ever put on a black list during the run. "
              "Choose the group attribute below the chart.",
              group_measure("listing_rate", "share ever listed", ".0%")),
    ChartSpec("disparate_impact", "Disparate impact",
              "How much more (or less) likely each group was to be put on a black list than "
              "the attribute's reference group (its first category, the diamond at 1 on the "
              "dashed line), with a 95% interval (Katz). Ratios below 0.8 or above 1.25 fail "
              "the four-fifths rule of thumb. Choose the group attribute below the chart.",
              disparate_impact),
    ChartSpec("behaviour_vs_twin", "Behaviour against the system-off twin",
              "Acts committed with the system, relative to the same synthetic population "
              "and seed with the system switched off (no platform, lists or sanctions): "
              "fewer negative acts is deterrence, fewer speech acts is chilling. Shown when "
              "the report was made with --twin.",
              behaviour_vs_twin),
    ChartSpec("blocked_per_100k", "Blocked attempts by group",
              "Blocked attempts per 100,000 residents of each group over the whole run.",
              group_measure("blocked_per_100k", "blocked attempts per 100k residents", ",.0f")),
]


def build_all(runs: list[RunView]) -> list[tuple[ChartSpec, dict]]:
    """Every chart that has data in these runs, as (spec, Vega-Lite dict)."""
    out = []
    for spec in CHARTS:
        chart = spec.build(runs)
        if chart is not None:
            out.append((spec, to_spec(chart)))
    return out


def to_spec(chart: alt.TopLevelMixin, *, validate: bool = True) -> dict:
    """The Vega-Lite dict, without the ``$schema`` URL (nothing is fetched anyway);
    ``validate=False`` skips Altair's schema check (the same dict, made faster, for a
    chart whose builder is checked elsewhere)."""
    d = chart.to_dict(validate=validate)
    d.pop("$schema", None)
    config = d.setdefault("config", {})
    config["axis"] = {**AXIS_CONFIG, **config.get("axis", {})}
    datasets = d.setdefault("datasets", {})
    for n in _data_names(d):
        if n in _DATA:
            datasets[n] = _DATA.pop(n)
    return d


def chart_for(result, key: str = "list_sizes") -> alt.TopLevelMixin:
    """One report chart of one ``RunResult``, with its data inside (``RunResult.plot``)."""
    spec = next((c for c in CHARTS if c.key == key), None)
    if spec is None:
        raise ValueError(f"unknown chart {key!r}; choose one of: "
                         + ", ".join(c.key for c in CHARTS))
    chart = spec.build([RunView.from_result(result)])
    if chart is None:
        raise ValueError(f"this run has no data for the chart {key!r}")
    return with_data(chart)
