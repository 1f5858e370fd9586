"""The sandbox page (Solara components): levers on the left, the preview against the
baseline on the right, then the reproduce panel and the full-scale run.

``Page`` is what ``scslab app`` serves: its configuration is the page's URL (every lever
move pushes a new one).  ``Sandbox`` is the same page around a reactive configuration,
for Jupyter::

    from scslab.app.page import Sandbox
    Sandbox()
"""

from __future__ import annotations

import html
import math
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import solara
import solara.lab

from scslab.app import widgets
from scslab.app.config import (
    BASELINE,
    LEVEL,
    REPLICATES,
    VARIANT,
    Config,
    compare_command,
    compare_python,
    overrides_yaml,
)
from scslab.app.fullrun import FullRun, FullRuns, commands, folder_for
from scslab.app.levers import ON, Item, Lever, items_of, yaml_number
from scslab.app.preview import FieldProblems, Preview, Previewer
from scslab.app.screen import (
    SCREEN_NOISE_RUNS,
    SCREEN_TRAJECTORIES,
    Screens,
    parameter_intervals,
    screen_command,
)
from scslab.app.views import (
    ChartView,
    DifferenceCharts,
    chart_image,
    key_figures,
    measure_label,
)
from scslab.report.resident import ResidentLife
from scslab.scenario.loader import scenario_data, shipped_scenarios


@dataclass
class Services:
    """What every page of one app shares: the previewer and the full-scale runs."""

    previewer: Previewer | None = None
    fullruns: FullRuns | None = None
    differences: DifferenceCharts | None = None
    screens: Screens | None = None

    def ensure(self) -> Services:
        if self.previewer is None:
            self.previewer = Previewer()
        if self.fullruns is None:
            self.fullruns = FullRuns(Path("runs") / "app")
        if self.differences is None:
            self.differences = DifferenceCharts()
        if self.screens is None:
            self.screens = Screens()
        return self


SERVICES = Services()

CSS = """
.scslab-app { max-width: 1500px; margin: 0 auto; padding: 8px 16px 40px; color: #1d2430; }
.scslab-app h1 { font-size: 26px; margin: 6px 0 2px; }
.scslab-app h2 { font-size: 19px; margin: 22px 0 4px; padding-top: 8px;
  border-top: 2px solid #dde2e8; }
.scslab-app h3 { font-size: 15px; margin: 12px 0 2px; }
.scslab-grid { display: grid; grid-template-columns: 390px minmax(0, 1fr); gap: 24px; }
@media (max-width: 1000px) { .scslab-grid { grid-template-columns: minmax(0, 1fr); } }
.scslab-levers { background: #f6f7f9; border-radius: 8px; padding: 10px 14px; }
.lever { padding: 6px 0 8px; border-bottom: 1px solid #e3e6ea; }
.lever .meaning, .caption, .muted { color: #5b6574; font-size: 13px; margin: 0 0 4px; }
.lever .baseline { color: #5b6574; font-size: 12px; }
.field-error { color: #b00020; font-size: 13px; white-space: pre-wrap; margin: 2px 0 4px; }
.banner { background: #fff6e5; border: 1px solid #f0d9a8; padding: 6px 10px;
  border-radius: 6px; font-size: 14px; }
.scale { background: #eef4fb; border: 1px solid #c9dcf0; padding: 6px 10px;
  border-radius: 6px; font-size: 14px; margin: 6px 0; }
table.figures { border-collapse: collapse; font-size: 13.5px; width: 100%; }
table.figures th, table.figures td { border-bottom: 1px solid #dde2e8; padding: 3px 8px 3px 0;
  text-align: right; vertical-align: top; }
table.figures th:first-child, table.figures td:first-child { text-align: left; }
table.plain { border-collapse: collapse; font-size: 12.5px; }
table.plain th, table.plain td { border-bottom: 1px solid #dde2e8; padding: 2px 8px 2px 0;
  text-align: left; vertical-align: top; }
.matrix { display: grid; gap: 0 4px; align-items: center; font-size: 12.5px; }
.matrix .head { font-weight: 600; color: #5b6574; writing-mode: vertical-rl;
  transform: rotate(180deg); max-height: 130px; text-align: left; }
.matrix .pick .v-input { margin: 0; padding: 0; }
.matrix .pick .v-selection-control { min-height: 26px; }
.scslab-chart { max-width: 100%; overflow-x: auto; min-height: 40px; }
.chart-block { margin: 4px 0 14px; }
.downloads { display: flex; gap: 8px; margin: 4px 0; }
button.scslab-download { border: 1px solid #8a9bb0; border-radius: 4px; padding: 2px 10px;
  font-size: 13px; background: #fff; color: #1d2430; cursor: pointer; }
button.scslab-download:hover { background: #eef4fb; }
.matrix .v-input__details { display: none; }
pre.command { background: #1d2430; color: #f6f7f9; padding: 8px 10px; border-radius: 6px;
  white-space: pre-wrap; word-break: break-word; font-size: 12.5px; }
pre.yaml { background: #f3f4f6; padding: 8px 10px; border-radius: 6px; font-size: 12.5px;
  white-space: pre-wrap; word-break: break-word; }
"""


# ---------------------------------------------------------------- small pieces


def esc(v) -> str:
    return html.escape(str(v), quote=True)


def css_key(key: str) -> str:
    """A lever item's URL key as a CSS class name (``below.blacklist`` -> ``below-blacklist``)."""
    return key.replace(".", "-").replace("_", "-")


@solara.component
def FieldError(messages: list[str]):
    """The command line's messages for one field, shown beside it."""
    if messages:
        solara.HTML(tag="div", unsafe_innerHTML=esc("\n".join(messages)),
                    classes=["field-error"])


@solara.component
def NumberItem(item: Item, value: str, set_value, errors: list[str]):
    def from_slider(x: float):
        set_value(yaml_number(x))

    try:
        current = float(value)
    except ValueError:
        current = math.nan
    if item.slider is not None:
        lo, hi, step = item.slider
        shown = current if math.isfinite(current) and lo <= current <= hi else (
            hi if not math.isfinite(current) or current > hi else lo)
        solara.SliderFloat(item.label, value=shown, min=lo, max=hi, step=step,
                           on_value=from_slider, thumb_label=True)
    solara.InputText(f"{item.label} (type a value)", value=value, on_value=set_value,
                     error=bool(errors), dense=True, classes=["number-input"])


@solara.component
def FactorSlider(label: str, item: Item, value: str, set_value):
    """A slider over a factor's choices (x0 ... x10), one tick each."""
    choices = list(item.choices) if value in item.choices else sorted(
        {*item.choices, value}, key=float)
    index = choices.index(value)
    solara.v.Slider(v_model=index, min=0, max=len(choices) - 1, step=1, label=label,
                    show_ticks="always", ticks={i: f"x{c}" for i, c in enumerate(choices)},
                    thumb_label=False, hide_details=True,
                    on_v_model=lambda i: set_value(choices[int(i)]))


@solara.component
def ListsRow(item: Item, value: str, set_value, columns: str):
    """One sanction's row of the matrix: its name and a box per black list."""
    chosen = [x for x in value.split(",") if x]

    def toggle(name: str, on: bool):
        new = [x for x in item.choices if (x in chosen and x != name) or (x == name and on)]
        set_value(",".join(new))

    with solara.Div(classes=["matrix", "row-" + css_key(item.key)],
                    style={"grid-template-columns": columns}):
        solara.HTML(tag="span", unsafe_innerHTML=esc(item.label))
        for name in item.choices:
            with solara.Div(classes=["pick", f"pick-{css_key(item.key)}-{css_key(name)}"]):
                solara.Checkbox(label="", value=name in chosen,
                                on_value=lambda on, name=name: toggle(name, on))


@solara.component
def LeverBlock(lever: Lever, items: list[Item], values: tuple[str | None, ...], set_items,
               errors: tuple[tuple[str, ...], ...]):
    """One lever: label, meaning, its controls in this scenario, and beside each the
    command line's message for a bad value.

    ``values`` holds each item's value in the page's configuration (``None``: the
    scenario's own), ``errors`` each item's messages, and ``set_items({key: value})``
    moves items (``None``: back to the scenario's value).  These arguments change only
    when this lever's items do, so moving one lever redraws that lever alone."""
    current = {it.key: it.baseline if v is None else v
               for it, v in zip(items, values, strict=True)}
    problems = {it.key: list(e) for it, e in zip(items, errors, strict=True)}
    moved = {it.key for it, v in zip(items, values, strict=True) if v is not None}

    def set_config_value(key: str, value: str, baseline: str) -> None:
        set_items({key: None if value == baseline else value})

    with solara.Div(classes=["lever", f"lever-{css_key(lever.key)}"]):
        solara.HTML(tag="h3", unsafe_innerHTML=esc(lever.label))
        solara.HTML(tag="p", unsafe_innerHTML=esc(lever.meaning), classes=["meaning"])
        if not items:
            solara.HTML(tag="p", unsafe_innerHTML=esc(f"Not in this scenario (applies to "
                                                      f"{lever.applies})."),
                        classes=["baseline"])
            return
        if lever.kind == "lists":
            options = items[0].choices
            cols = f"minmax(90px, 1fr) repeat({len(options)}, 30px)"
            with solara.Div(classes=["matrix", "matrix-head"],
                            style={"grid-template-columns": cols}):
                solara.HTML(tag="span", unsafe_innerHTML="")
                for name in options:
                    solara.HTML(tag="div", unsafe_innerHTML=esc(name.replace("_", " ")),
                                classes=["head"])
            for item in items:
                ListsRow(item, current[item.key], lambda v, k=item.key, b=item.baseline:
                         set_config_value(k, v, b), cols)
            for item in items:
                FieldError(problems.get(item.key, []))
            if moved:
                solara.Button("as in the scenario", text=True, classes=["reset"],
                              on_click=lambda: set_items(dict.fromkeys(moved)))
            return
        for item in items:
            value = current[item.key]
            errors = problems[item.key]

            def set_value(v, key=item.key, base=item.baseline):
                set_config_value(key, v, base)

            with solara.Div(classes=["item", f"item-{css_key(item.key)}"]):
                if lever.kind == "number":
                    NumberItem(item, value, set_value, errors)
                elif lever.kind == "switch":
                    solara.Switch(label=f"{lever.label}: {'on' if value == ON else 'off'}",
                                  value=value == ON,
                                  on_value=lambda on, sv=set_value: sv(ON if on else "off"))
                elif lever.kind == "choice":
                    labels = {c: _choice_label(c) for c in item.choices}
                    if value not in labels:
                        labels = {value: "as in the scenario", **labels}
                    solara.Select(lever.label, values=list(labels.values()),
                                  value=labels[value],
                                  on_value=lambda lab, sv=set_value, m=labels: sv(
                                      next(k for k, x in m.items() if x == lab)))
                elif lever.kind == "factor":
                    FactorSlider(lever.label, item, value, set_value)
                FieldError(errors)
                base = item.shown or (f"scenario: {item.baseline}" if item.baseline else "")
                if base:
                    solara.HTML(tag="div", unsafe_innerHTML=esc(base), classes=["baseline"])
                if item.key in moved:
                    solara.Button("as in the scenario", text=True, classes=["reset"],
                                  on_click=lambda k=item.key: set_items({k: None}))


def _choice_label(c: str) -> str:
    if c == "lifelong":
        return "lifelong"
    days = int(c)
    years = {1825: "5 years", 1095: "3 years", 730: "2 years", 365: "1 year",
             180: "6 months", 90: "3 months"}.get(days)
    return f"{days} days" + (f" ({years})" if years else "")


# ---------------------------------------------------------------- the right-hand side


def figures_html(preview: Preview) -> str:
    """The key figures as a table whose rows carry the raw numbers (``data-*``)."""
    rows = key_figures(preview.comparison, preview.variant)
    head = ("<tr><th>measure</th><th>baseline</th><th>variant</th><th>difference</th>"
            f"<th>{LEVEL:.0%} interval</th></tr>")
    body = []
    for r in rows:
        data = " ".join(f'data-{k}="{esc(repr(getattr(r, k)))}"' for k in
                        ("baseline", "variant", "difference", "lo", "hi"))
        cells = "".join(f"<td>{esc(t)}</td>" for t in r.text)
        body.append(f'<tr data-measure="{esc(r.measure)}" {data}><td>{esc(r.label)}</td>'
                    f"{cells}</tr>")
    return f'<table class="figures">{head}{"".join(body)}</table>'


def scale_text(preview: Preview) -> str:
    s = preview.base.scenario
    full = s.population.residents
    scale = preview.base.scale
    n = max(1, round(full * scale))
    seeds = ", ".join(str(preview.seed + r) for r in range(REPLICATES))
    size = (f"{n:,} synthetic residents, the scenario's full size" if scale == 1.0 else
            f"{n:,} of the scenario's {full:,} synthetic residents (scale {scale:g}); counts "
            "are of the preview's residents")
    end = s.start.toordinal() + s.n_days
    return (f"Preview at reduced scale: {size}; {REPLICATES} replicates on common random "
            f"numbers (seeds {seeds}); the full period, {s.start} to "
            f"{type(s.start).fromordinal(end)}. The full-scale version runs below.")


@solara.component
def ChartBlock(view: ChartView, key: str):
    with solara.Div(classes=["chart-block", f"chart-{view.key}"]):
        solara.HTML(tag="h2", unsafe_innerHTML=esc(view.title))
        solara.HTML(tag="p", unsafe_innerHTML=esc(view.caption), classes=["caption"])
        widgets.VegaChart.element(spec_json=view.spec_json, chart=view.key, drawn_key=key)
        with solara.Div(classes=["downloads"]):
            widgets.Download.element(label="PNG", filename=f"{view.key}.png",
                                     mime_type="image/png",
                                     fetch=lambda: chart_image(view.spec, "png"))
            widgets.Download.element(label="SVG", filename=f"{view.key}.svg",
                                     mime_type="image/svg+xml",
                                     fetch=lambda: chart_image(view.spec, "svg"))


def life_html(one: ResidentLife) -> str:
    attrs = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in one.attributes.items())
    outcome = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in one.outcome.items())
    rec = one.records.head(40)
    head = "".join(f"<th>{esc(c)}</th>" for c in rec.columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>"
                   for row in rec.itertuples(index=False))
    changes = one.list_changes
    chead = "".join(f"<th>{esc(c)}</th>" for c in changes.columns)
    cbody = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>"
                    for row in changes.itertuples(index=False))
    more = (f"<p class='muted'>The first 40 of {len(one.records)} records.</p>"
            if len(one.records) > 40 else "")
    return (f"<p>Synthetic resident {one.resident} ({esc(attrs)}); in the baseline: "
            f"{esc(outcome)}.</p><h3>Records the platform holds about them (baseline)</h3>"
            f'<div style="overflow-x:auto"><table class="plain">{head}{body}</table></div>'
            f"{more}<h3>List changes (baseline)</h3>"
            f'<table class="plain">{chead}{cbody}</table>')


@solara.component
def Reproduce(preview: Preview, folder: Path):
    base = preview.base
    ref = base.ref if base.run_dir is None else str(base.run_dir)
    solara.HTML(tag="h2", unsafe_innerHTML="Reproduce")
    solara.HTML(tag="p", classes=["caption"], unsafe_innerHTML=esc(
        "This page's address holds the scenario, the seed and every lever: open it again to "
        "get the same numbers. The numbers above, from the command line and from Python:"))
    solara.HTML(tag="pre", classes=["command", "compare-command"], unsafe_innerHTML=esc(
        compare_command(ref, preview.sets, seed=preview.seed, scale=base.command_scale)))
    solara.HTML(tag="pre", classes=["command", "compare-python"], unsafe_innerHTML=esc(
        compare_python(ref, preview.sets, seed=preview.seed, scale=base.command_scale)))
    solara.HTML(tag="p", classes=["caption"], unsafe_innerHTML=esc(
        "The full-scale runs and their report (what the button below runs):"))
    solara.HTML(tag="pre", classes=["command", "full-commands"], unsafe_innerHTML=esc(
        "\n".join(commands(base, preview.seed, preview.sets, folder))))
    if base.run_dir is None:
        text = overrides_yaml(base.ref, preview.sets)
        summary = "The variant as a scenario file (YAML)"
    else:
        text = ("# baseline.yaml: the scenario of " + str(base.run_dir) + "\n"
                + overrides_yaml(None, [], scenario_data(base.scenario))
                + "\n# variant.yaml\n" + overrides_yaml(None, [], scenario_data(
                    preview.variant)))
        summary = "The baseline and the variant as scenario files (YAML)"
    solara.HTML(tag="h3", unsafe_innerHTML=esc(summary))
    solara.HTML(tag="pre", classes=["yaml"], unsafe_innerHTML=esc(text))


@solara.component
def Progress(fraction: float):
    """A progress bar at ``fraction`` (0 to 1).  Vuetify 3 reads the bar's position from
    ``model_value`` (``solara.ProgressLinear`` sets ``value``, which it ignores)."""
    solara.v.ProgressLinear(model_value=round(100 * fraction, 1), color="primary",
                            height=6, class_="progress")


def follow(job, tick, seconds: float) -> None:
    """Bump ``tick`` (a redraw) every ``seconds`` while ``job()`` runs, and once when it
    ends; return at once when there is no running job."""
    j = job()
    if j is None or j.state != "running":
        return
    while j is not None and j.state == "running":
        time.sleep(seconds)
        tick.value += 1
        j = job()
    tick.value += 1


@solara.component
def FullScale(preview: Preview, services: Services):
    runs = services.fullruns
    folder = folder_for(runs.root, preview.base, preview.seed, preview.sets)
    tick = solara.use_reactive(0)
    _ = tick.value  # read in the render: a tick (from the watch below) redraws this panel
    job: FullRun | None = runs.get(folder)

    def start():
        runs.start(preview.base, preview.seed, preview.sets, preview.variant)
        tick.value += 1

    def watch():
        # redraw the bar while the run goes on, and once when it ends; nothing otherwise
        # (a tick would redraw this panel after every lever move)
        follow(lambda: runs.get(folder), tick, 0.3)

    solara.lab.use_task(watch, dependencies=[str(folder), job is not None and job.state])
    s = preview.base.scenario
    solara.HTML(tag="h2", unsafe_innerHTML="The full-scale version")
    solara.HTML(tag="p", classes=["caption"], unsafe_innerHTML=esc(
        f"Runs the baseline and the variant with all {s.population.residents:,} synthetic "
        f"residents, seed {preview.seed}, into {folder}, then writes their report. It runs in "
        "the background: the page stays usable."))
    with solara.Div(classes=["fullrun"]):
        if job is None or job.state == "failed":
            solara.Button("Run the full-scale version", on_click=start, color="primary",
                          classes=["fullrun-start"])
        if job is not None:
            Progress(job.fraction if job.state != "failed" else 0.0)
            solara.HTML(tag="div", classes=["fullrun-state"], attributes={
                "data-state": job.state, "data-done": str(job.done),
                "data-total": str(job.total)},
                unsafe_innerHTML=esc(f"{job.state}: {job.fraction:.0%}. {job.message}"))
            if job.state == "done":
                with solara.Div(classes=["downloads"]):
                    widgets.Download.element(label="Run directories (zip)",
                                             filename=f"{folder.name}.zip",
                                             mime_type="application/zip", fetch=job.zip_bytes)
                    widgets.Download.element(label="HTML report",
                                             filename=f"{folder.name}-report.html",
                                             mime_type="text/html",
                                             fetch=lambda: job.report.read_bytes())


@solara.component
def Uncertainty(preview: Preview, services: Services):
    """The scenario's uncertain parameters with their intervals, and on request a Morris
    screen of the variant ranking them by their effect on the chosen measure."""
    # hooks first, before any early return (Solara's rules of hooks)
    key = (preview.base.ref, preview.seed, tuple(preview.sets))
    table, rows = solara.use_memo(lambda: _intervals(preview.variant), [key])
    shown = solara.use_memo(lambda: [r.measure for r in key_figures(
        preview.comparison, preview.variant)], [key])
    measure = solara.use_reactive(shown[0] if shown else "")
    screens = services.screens
    tick = solara.use_reactive(0)
    _ = tick.value  # read in the render: a tick (from the watch below) redraws this panel
    job = screens.get(key)

    def watch():
        follow(lambda: screens.get(key), tick, 0.5)

    solara.lab.use_task(watch, dependencies=[key, job is not None and job.state])
    solara.HTML(tag="h2", unsafe_innerHTML="Parameter intervals and sensitivity")
    if not len(table):
        solara.HTML(tag="p", classes=["caption", "uncertainty-none"], unsafe_innerHTML=esc(
            f"{preview.base.scenario.name} declares no uncertain parameters (an "
            "`uncertain:` block, docs/uncertainty.md), so there is nothing to rank."))
        return
    solara.HTML(tag="p", classes=["caption"], unsafe_innerHTML=esc(
        f"The {len(table)} parameters the scenario declares uncertain: the value it runs "
        "with and the central 90% of the range it gives each."))
    solara.HTML(tag="details", classes=["parameter-intervals"], unsafe_innerHTML=(
        f"<summary>{len(table)} uncertain parameters</summary>"
        '<div style="overflow-x:auto"><table class="plain"><tr><th>parameter</th>'
        "<th>distribution</th><th>value used</th><th>90% interval</th></tr>"
        f"{rows}</table></div>"))
    if measure.value not in shown and shown:
        measure.value = shown[0]
    solara.Select("Measure to rank the parameters by", values=shown, value=measure.value,
                  on_value=measure.set, classes=["screen-measure"])
    def start():
        screens.start(key, preview.variant, preview.seed, preview.base.scale, shown)
        tick.value += 1

    k = len(table)
    runs = SCREEN_TRAJECTORIES * (k + 1) + SCREEN_NOISE_RUNS
    solara.HTML(tag="p", classes=["caption"], unsafe_innerHTML=esc(
        f"The screen: Morris's method, {SCREEN_TRAJECTORIES} trajectories over the {k} "
        f"parameters plus {SCREEN_NOISE_RUNS} runs of the scenario's own values for the "
        f"seed noise, {runs} runs of the variant at the preview's scale. mu* is how much "
        "the measure moves when a parameter crosses two thirds of its range; the seeds row "
        "is what seed noise alone would show. The same screen from the command line:"))
    ref = preview.base.ref if preview.base.run_dir is None else str(preview.base.run_dir)
    solara.HTML(tag="pre", classes=["command", "screen-command"], unsafe_innerHTML=esc(
        screen_command(ref, preview.sets, shown, seed=preview.seed,
                       scale=preview.base.command_scale, out="screen")))
    if job is None or job.state == "failed":
        solara.Button("Run the sensitivity screen", on_click=start, classes=["screen-start"])
    if job is None:
        return
    Progress(job.fraction if job.state != "failed" else 0.0)
    solara.HTML(tag="div", classes=["screen-state"], attributes={"data-state": job.state},
                unsafe_innerHTML=esc(f"{job.state}: {job.fraction:.0%}. {job.message}"))
    if job.state != "done" or measure.value not in job.result.measures:
        return
    ranked = job.ranked(measure.value)
    body = "".join(
        f"<tr><td><code>{esc(p)}</code></td><td>{esc(_num(r.get('mu_star')))}</td>"
        f"<td>[{esc(_num(r.get('mu_star_lo')))}, {esc(_num(r.get('mu_star_hi')))}]</td>"
        f"<td>{esc(_num(r.get('sigma')))}</td></tr>" for p, r in ranked.iterrows())
    solara.HTML(tag="div", classes=["screen-ranking"], unsafe_innerHTML=(
        f"<h3>What moves {esc(measure_label(measure.value, preview.variant))}</h3>"
        '<table class="plain"><tr><th>parameter</th><th>mu*</th><th>95% interval</th>'
        f"<th>sigma</th></tr>{body}</table>"))


def _intervals(scenario) -> tuple:
    """The uncertain parameters' table and its rows as HTML."""
    table = parameter_intervals(scenario)
    rows = "".join(
        f"<tr><td><code>{esc(r.parameter)}</code></td><td>{esc(r.distribution)}</td>"
        f"<td>{esc(yaml_number(r.value))}</td><td>[{esc(yaml_number(r.lo))}, "
        f"{esc(yaml_number(r.hi))}]</td></tr>" for r in table.itertuples(index=False))
    return table, rows


def _num(v) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return ""
    return f"{x:.4g}" if math.isfinite(x) else ""


# ---------------------------------------------------------------- the page


@solara.component
def Sandbox(config: Config | None = None, on_config=None, services: Services | None = None):
    """The whole sandbox for one configuration; ``on_config(Config)`` is called when a
    lever moves (the URL in the app, a reactive value in Jupyter)."""
    local = solara.use_reactive(config or Config())
    if on_config is None:
        config = local.value
        on_config = local.set
    services = (services or SERVICES).ensure()
    channel = solara.use_memo(lambda: uuid.uuid4().hex, [])
    key = config.query()

    def compute() -> Preview:
        return services.previewer.preview(config, channel=channel)

    result = solara.lab.use_task(compute, dependencies=[key], raise_error=False)
    problems: dict[str, list[str]] = {}
    if result.error and isinstance(result.exception, FieldProblems):
        problems = result.exception.by_field
    preview: Preview | None = result.latest if isinstance(result.latest, Preview) else None

    try:
        base = services.previewer.base(config.scenario)
    except Exception:  # shown by the scenario field's message
        base = None

    def normalise():
        # the URL always holds the seed, so that it alone reproduces the numbers
        if base is not None and config.seed is None:
            on_config(config.with_seed(str(base.seed)))

    solara.use_effect(normalise, [key, base is not None])
    solara.Style(CSS)
    solara.Title("scslab sandbox")
    widgets.VegaRuntime.element(bundle=widgets.bundle())
    with solara.Div(classes=["scslab-app"]):
        solara.HTML(tag="h1", unsafe_innerHTML="scslab policy sandbox")
        solara.HTML(tag="p", classes=["banner"], unsafe_innerHTML=esc(
            "Every resident here is synthetic: simulated people in a simulated city. Move a "
            "lever and see what it changes against the baseline, with the interval of every "
            "difference."))
        with solara.Div(classes=["scslab-grid"]):
            with solara.Div(classes=["scslab-levers"]):
                Levers(config, on_config, base, problems)
            with solara.Div(classes=["scslab-results"]):
                Results(config, key, result, preview, problems, services)


@solara.component
def Levers(config: Config, set_config, base, problems: dict[str, list[str]]):
    # hooks first, before the early return
    latest = solara.use_ref((config, set_config))
    latest.current = (config, set_config)

    def move_items(changes: dict[str, str | None]) -> None:
        now, push = latest.current  # the configuration as it is when the lever moves
        for key, value in changes.items():
            now = now.with_value(key, value)
        push(now)

    set_items = solara.use_memo(lambda: move_items, [])  # one function for every render
    levers = solara.use_memo(lambda: items_of(base.scenario) if base is not None else [],
                             [id(base)])  # the previewer keeps one Base per scenario
    shipped = list(shipped_scenarios())
    with solara.Div(classes=["lever", "lever-scenario"]):
        solara.Select("Scenario", values=shipped,
                      value=config.scenario if config.scenario in shipped else None,
                      on_value=lambda v: v and set_config(config.with_scenario(v)))
        other = "" if config.scenario in shipped else config.scenario
        solara.InputText("or open a scenario file or a run directory", value=other,
                         on_value=lambda v: v and set_config(config.with_scenario(v.strip())),
                         error=bool(problems.get("scenario")), dense=True,
                         classes=["open-input"])
        FieldError(problems.get("scenario", []))
    with solara.Div(classes=["lever", "lever-seed"]):
        seed = config.seed if config.seed is not None else (str(base.seed) if base else "")
        solara.InputText("Seed", value=seed, dense=True, classes=["seed-input"],
                         error=bool(problems.get("seed")),
                         on_value=lambda v: set_config(config.with_seed(v.strip())))
        FieldError(problems.get("seed", []))
    if base is None:
        return
    with solara.Div(classes=["reset-all-box"]):  # always there: the levers below keep
        if config.values:                          # their widgets when it appears
            solara.Button("Reset every lever", text=True, classes=["reset-all"],
                          on_click=lambda: set_config(Config(config.scenario, config.seed)))
    group = None
    for lever, items in levers:
        if lever.group != group:
            group = lever.group
            solara.HTML(tag="h2", unsafe_innerHTML=esc(group))
        LeverBlock(lever, items, tuple(config.values.get(it.key) for it in items), set_items,
                   tuple(tuple(problems.get(it.key, ())) for it in items))


@solara.component
def Results(config: Config, key: str, result, preview: Preview | None,
            problems: dict[str, list[str]], services: Services):
    state = ("computing" if result.pending else "error" if result.error else
             "ready" if preview is not None else "computing")
    shown = preview.config.query() if preview is not None else ""
    seconds = f"{preview.seconds:.2f}" if preview is not None else ""
    text = {"computing": "Computing the preview...",
            "error": "This configuration cannot run: see the message beside the field.",
            "ready": f"Ready ({seconds} s)."}[state]
    solara.HTML(tag="div", classes=["scslab-status"], attributes={
        "data-state": state, "data-key": shown, "data-wanted": key}, unsafe_innerHTML=esc(text))
    if result.error and not isinstance(result.exception, FieldProblems):
        solara.Error(f"The preview failed: {result.exception}")
    if problems.get(""):
        FieldError(problems[""])
    # what the preview shows, made once per preview: the page redraws on every move (and
    # while the next preview computes) with the same preview
    parts = solara.use_memo(lambda: shown_parts(preview, services),
                            [id(preview)])  # the preview object held by the task's result
    if preview is None:
        return
    solara.HTML(tag="p", classes=["scale"], unsafe_innerHTML=esc(parts.scale))
    solara.HTML(tag="h2", unsafe_innerHTML="Key figures")
    solara.HTML(tag="p", classes=["caption"], unsafe_innerHTML=esc(
        f"Means over the {REPLICATES} replicates of the {BASELINE} and the {VARIANT}, and the "
        f"variant minus the baseline with its {LEVEL:.0%} interval over the paired "
        "replicates (the same residents, the same randomness)."))
    solara.HTML(tag="div", classes=["key-figures"], unsafe_innerHTML=parts.figures)
    for view in parts.charts:
        ChartBlock(view, shown)
    if parts.life is not None:
        ChartBlock(parts.life_chart, shown)
        solara.HTML(tag="div", classes=["resident"], unsafe_innerHTML=parts.life)
    Uncertainty(preview, services)
    folder = folder_for(services.fullruns.root, preview.base, preview.seed, preview.sets)
    Reproduce(preview, folder)
    FullScale(preview, services)


@dataclass(frozen=True)
class Parts:
    """What the results show for one preview, in the page's order."""

    scale: str
    figures: str  # the key figures table (HTML)
    charts: list[ChartView]  # the differences, then the charts of replicate 0
    life_chart: ChartView | None
    life: str | None  # the life of one resident (HTML)


def shown_parts(preview: Preview | None, services: Services) -> Parts | None:
    if preview is None:
        return None
    diff = services.differences.views(preview.comparison, preview.variant)
    runs = [v for v in preview.views.charts if v.key != "score_path"]
    one = preview.views.life
    path = next((v for v in preview.views.charts if v.key == "score_path"), None)
    with_life = one is not None and path is not None
    return Parts(scale_text(preview), figures_html(preview), [*diff, *runs],
                 path if with_life else None, life_html(one) if with_life else None)


@solara.component
def Page():
    """The app's page: the configuration is the URL's query string."""
    router = solara.use_router()
    config = Config.from_query(router.search)

    def push(new: Config):
        router.push(f"{router.path or '/'}?{new.query()}")

    Sandbox(config, push)
