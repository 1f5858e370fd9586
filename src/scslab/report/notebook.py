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
    panel per measure, and the zero line."""
    from scslab.report.charts import comparison_chart, with_data  # altair: on first chart

    chart = comparison_chart(comp.table, comp.labels, level=comp.level, measures=measures)
    if chart is None:
        raise ValueError("none of these measures is in the comparison: "
                         + ", ".join(measures or []))
    return with_data(chart)


register_drawer("run", draw_run)
register_drawer("comparison", draw_comparison)
