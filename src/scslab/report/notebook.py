"""Charts in notebooks: ``RunResult.plot()`` and ``Comparison.plot()``.

Registered with :mod:`scslab.drawing` when scslab is imported, so results (a layer below
the report) can draw themselves without importing it.  Altair and the chart builders load
only when a chart is first drawn: they take about half a second to import, which a
command-line run never needs.

Offline charts.  Altair's default renderer writes a page that loads Vega from a CDN, so a
notebook opened without a network (or a CDN that is blocked) shows no chart.  The first
time scslab draws a chart it switches Altair, if you have not chosen a renderer yourself,
to its HTML renderer with the ``inline`` template: each chart carries the Vega bundle of
``vl-convert-python`` (the one the report embeds) and loads nothing.  We chose it over
Altair's ``jupyter`` renderer (it needs the anywidget package and a live kernel to draw)
and over the ``mimetype`` renderer (JupyterLab draws it with its own Vega, but the classic
notebook, VS Code and exported HTML do not) because it works in every front end and in
saved or exported notebooks.  The cost is about 0.9 MB per displayed chart in a saved
notebook; ``alt.renderers.enable("default")`` goes back to the CDN.
"""

from __future__ import annotations

from scslab.drawing import register_drawer


def inline_vega() -> None:
    """Make Altair's charts carry their Vega JavaScript, unless the user chose a renderer
    (see the module docstring)."""
    import altair as alt  # loaded on first chart

    if alt.renderers.active == "default" and not alt.renderers.options:
        alt.renderers.enable("html", template="inline")


def draw_run(result, chart: str = "list_sizes"):
    """One report chart of one run (``scslab.report.charts.CHARTS`` keys)."""
    from scslab.report.charts import chart_for  # altair: loaded on first chart

    inline_vega()
    return chart_for(result, chart)


def draw_comparison(comp, measures: list[str] | None = None):
    """Each scenario's difference from the first, with its interval over replicates, one
    panel per measure, and the zero line."""
    from scslab.report.charts import comparison_chart, with_data  # altair: on first chart

    inline_vega()
    chart = comparison_chart(comp.table, comp.labels, level=comp.level, measures=measures)
    if chart is None:
        raise ValueError("none of these measures is in the comparison: "
                         + ", ".join(measures or []))
    return with_data(chart)


register_drawer("run", draw_run)
register_drawer("comparison", draw_comparison)
