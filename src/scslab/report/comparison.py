"""The report of a comparison directory (``scslab compare ... --out DIR``).

One page: what was compared and how (common random numbers, replicates, the reference
scenario), each scenario's difference from the reference with its interval over the
paired replicates and the zero line, every printed measure as a table, and what
reproduces it.  It is built on the same page, data pool and Vega bundle as a run's
report (``report/html.py``).
"""

from __future__ import annotations

from pathlib import Path

from scslab.experiments.compare import Comparison, load_comparison, printed
from scslab.files import atomic_write_text
from scslab.metrics.figures import figure, interval, is_share
from scslab.report import charts
from scslab.report.data import ReportError
from scslab.report.html import DataPool, _now, _scslab_version, chart_script, esc, page, table


def _settings(comp: Comparison) -> str:
    n, k = len(comp.labels), comp.replicates
    text = (f"{n} scenarios ran on the same synthetic population with common random numbers "
            f"(each resident draws the same randomness in every scenario), {k} replicate"
            f"{'s' if k != 1 else ''} at seeds {comp.seed}"
            + (f" to {comp.seed + k - 1}" if k > 1 else "") + ". A difference is a scenario "
            f"minus <b>{esc(comp.labels[0])}</b>, replicate by replicate")
    if k > 1:
        text += (f"; its {comp.level:.0%} interval is over the {k} paired differences. An "
                 "interval that crosses the dashed zero line does not tell the change from "
                 "no change.")
    else:
        text += (". <b>No intervals</b>: one replicate shows no spread between seeds; "
                 "run the comparison with --replicates 5 (or more) for intervals.")
    return f"<p>{text}</p>"


def _scale_note(comp: Comparison) -> str:
    scale = {k: v for k, v in comp.meta.get("scale", {}).items() if v not in (None, 1, 1.0)}
    if not scale:
        return ""
    residents = comp.meta.get("residents", {})
    parts = [f"{esc(lab)} simulated {residents.get(lab, 0):,} residents (--scale {s:g})"
             for lab, s in scale.items()]
    return ('<p class="banner scale">Scaled runs: ' + "; ".join(parts) + ". Counts below "
            "are as simulated, not scaled up to the whole population; differences of rates "
            "and shares need no scaling.</p>")


def measures_table(comp: Comparison) -> str:
    rows = []
    last = None
    for row in printed(comp.table).itertuples(index=False):
        share = is_share(row.measure)
        ref = row.scenario == comp.labels[0]
        rows.append([
            "" if row.measure == last else row.measure, row.scenario,
            figure(row.value, share=share),
            "(reference)" if ref else figure(row.difference, share=share, signed=True),
            "" if ref else interval(row.lo, row.hi, share=share),
        ])
        last = row.measure
    head = ["measure", "scenario", "value", "difference",
            f"{comp.level:.0%} interval" if comp.replicates > 1 else "interval (none)"]
    return '<div class="scroll">' + table(head, rows, "figures measures") + "</div>"


def reproduce(comp: Comparison) -> str:
    m = comp.meta
    rows = [[lab, (m.get("scenario_hashes") or {}).get(lab, ""),
             f"{(m.get('residents') or {}).get(lab, '')}",
             f"{(m.get('days') or {}).get(lab, '')}"] for lab in comp.labels]
    seeds = ", ".join(str(s) for s in m.get("seeds", [comp.seed]))
    return ('<section id="reproduce"><h2>Reproduce this comparison</h2>'
            f"<p>Seeds {esc(seeds)}. Run <code>scslab compare</code> with the same scenarios, "
            "seed, replicates and options; each scenario's resolved settings are identified "
            "by its sha256 below.</p><div class=\"scroll\">"
            + table(["scenario", "scenario sha256", "residents", "days"], rows, "meta")
            + "</div></section>")


def build_comparison_report(comp: Comparison, *, title: str | None = None) -> str:
    """The report of a comparison as one HTML string."""
    title = title or f"scslab comparison: {', '.join(comp.labels)}"
    pool = DataPool()
    chart = charts.comparison_chart(comp.table, comp.labels, level=comp.level)
    body = ['<section id="settings"><h2>What was compared</h2>', _settings(comp),
            _scale_note(comp)]
    body += [f'<p class="banner">Note: {esc(n)}</p>' for n in comp.notes]
    body.append("</section>")
    data = []
    nav = [("settings", "What was compared")]
    if chart is not None:
        nav.append(("sec-differences", "Differences"))
        body.append(
            '<section class="chart-block" id="sec-differences"><h2>Differences</h2>'
            f'<p class="caption">Each scenario minus {esc(comp.labels[0])}: the dot is the '
            "mean of the paired differences, the bar its interval, the dashed line zero. "
            "Shares are in percentage points. Hover for the figures.</p>"
            '<div class="chart" id="chart-differences" data-rendered="no"></div></section>')
        data.append(chart_script("chart-differences", pool.take(charts.to_spec(chart))))
    nav += [("measures", "Every measure"), ("reproduce", "Reproduce")]
    body.append('<section id="measures"><h2>Every measure</h2><p class="caption">Shares are '
                "percentages and their differences percentage points (pp); "
                "<code>comparison.parquet</code> has every measure.</p>"
                + measures_table(comp) + "</section>")
    body.append(reproduce(comp))
    lede = (f"A comparison of {len(comp.labels)} scenarios, read from "
            f"{esc(comp.path.name if comp.path else 'memory')}; scslab "
            f"{esc(_scslab_version())}, report made {esc(_now())}.")
    return page(title, lede, nav, body, data, pool)


def write_comparison_report(dirs: list[Path], out: Path, *, title: str | None = None,
                            twin: bool = False) -> Path:
    """Read one comparison directory and write its report to ``out``."""
    if twin:
        raise ReportError("--twin runs the system-off twin of a run; it does not apply to a "
                          "comparison (compare off:SCENARIO SCENARIO instead)")
    if len(dirs) != 1:
        raise ReportError("give one comparison directory at a time (a comparison already "
                          "holds several scenarios)")
    comp = load_comparison(dirs[0])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(out, build_comparison_report(comp, title=title))
