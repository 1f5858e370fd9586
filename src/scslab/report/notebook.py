"""Charts in notebooks: ``RunResult.plot()`` and ``Comparison.plot()``.

Registered with :mod:`scslab.drawing` when scslab is imported, so results (a layer below
the report) can draw themselves without importing it.  Altair and the chart builders load
only when a chart is first drawn: they take about half a second to import, which a
command-line run never needs.
"""

from __future__ import annotations

from scslab.drawing import register_drawer


def draw_run(result, chart: str = "list_sizes"):
    """One report chart of one run (``scslab.report.charts.CHARTS`` keys)."""
    from scslab.report.charts import chart_for  # altair: loaded on first chart

    return chart_for(result, chart)


def draw_comparison(comp, measures: list[str] | None = None):
    """Each scenario's difference from the first, with its interval over replicates, one
    panel per measure."""
    import altair as alt  # loaded on first chart

    keys = measures or [m for m in ("wrongful_share_of_list_days", "listed_end",
                                    "wrongful_blocks_per_100k", "listings_new")
                        if m in set(comp.table["measure"])]
    df = comp.table[comp.table["measure"].isin(keys)
                    & (comp.table["scenario"] != comp.labels[0])]
    base = alt.Chart(df).encode(y=alt.Y("scenario:N", sort=comp.labels, title=None))
    points = base.mark_point(filled=True).encode(
        x=alt.X("difference:Q", title=f"difference from {comp.labels[0]}"),
        tooltip=["measure", "scenario", "value", "difference", "lo", "hi"])
    bars = base.mark_rule().encode(x="lo:Q", x2="hi:Q")
    return (bars + points).properties(width=320, height=24 * len(comp.labels)).facet(
        row=alt.Row("measure:N", sort=keys, title=None)).resolve_scale(x="independent")


register_drawer("run", draw_run)
register_drawer("comparison", draw_comparison)
