"""Compare scenarios on the same synthetic population with common random numbers.

Every scenario of a comparison runs at the same seeds: replicate ``r`` uses ``seed + r``
for all of them.  Randomness in scslab is keyed to (seed, stream, resident, counter), so a
resident draws the same randomness in every scenario and each difference is paired: it is
the policy's, not noise.  For each measure the comparison reports the value per scenario
(mean over replicates) and the difference against the first scenario, with an interval
over the replicates' paired differences.

A scenario is given as

* a shipped name or a YAML path (``tiny``, ``my.yaml``);
* a run directory (its resolved scenario and seed are read from the manifest; its tables
  are reused for the replicate that matches its seed and size); a bare shipped name is
  always the shipped scenario, so write ``./tiny`` for a run directory called ``tiny``;
* ``off:REF``: the system-off twin of REF (:mod:`scslab.twin`);
* ``LABEL=REF`` to name it (labels must be distinct; repeats get ``#2``, ``#3``).

``--set path=VALUE`` applies to every scenario; ``--set LABEL:path=VALUE`` or
``--set 2:path=VALUE`` (1-based position) to one.

>>> c = compare(["minimal", "minimal"], residents=2000, days=60)
>>> float(c.table["difference"].abs().max())
0.0
"""

from __future__ import annotations

import math
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer

from scslab.errors import ScenarioError, ScslabError
from scslab.metrics.frame import GroupMetricFrame, summarise
from scslab.scenario.schema import Scenario

HEADLINE = (
    "listed_mean_last_100_days", "listed_end", "listings_new", "wrongful_share_of_list_days",
    "wrongful_blocks_per_100k", "records_created", "records_created_true",
    "records_created_false", "records_created_misattributed", "records_active_end",
)
# summary keys that describe the run rather than measure it ("scaled" repeats counts)
SUMMARY_SKIP = {"residents", "firms", "units", "days", "start", "end", "scale", "scaled",
                "seconds", "resident_days_per_second"}
# timeseries columns that are stocks (reported at the last day), not flows (summed)
STOCK_PREFIXES = ("listed", "list_", "records_active", "tier_", "firm_tier_")
FLOW_PREFIXES = ("listed_new", "list_new_")
# what the CLI prints without --all/--only (the parquet always has every measure)
PRINTED = ("listed_mean_last_100_days", "listed_end", "listings_new",
           "residents_ever_listed", "residents_ever_wrongfully_listed",
           "wrongful_share_of_list_days", "wrongful_blocks_per_100k",
           "mean_days_to_correct_wrongful_listing", "records_created", "blocked_",
           "green_channel_days_saved_", "acts_total_", "poverty_trap_share", "listing_rate",
           "wrongful_listing_rate", "mean_score", "green_channel_benefit", "di_listing_rate[",
           "di_blocked_per_resident[")
DI_METRICS = ("listing_rate", "blocked_per_resident", "green_channel_benefit")
_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")


class CompareError(ScslabError):
    """A comparison that cannot be set up as asked."""


@dataclass
class Spec:
    """One scenario of a comparison."""

    label: str
    ref: str | Path | Scenario
    sets: list[str] = field(default_factory=list)
    twin: bool = False
    run_dir: Path | None = None


def _is_run_dir(ref: str) -> bool:
    """A run directory, unless the reference is a bare shipped name (``tiny`` is the shipped
    scenario even beside a run directory called tiny; write ``./tiny`` for that)."""
    from scslab.scenario.loader import shipped_scenarios

    if ref in shipped_scenarios() and "/" not in ref and os.sep not in ref:
        return False
    return Path(ref).is_dir() and (Path(ref) / "manifest.json").is_file()


def build_specs(refs: list, sets: list[str] | None = None) -> list[Spec]:
    """Parse scenario references and ``--set`` assignments (see the module docstring)."""
    if len(refs) < 1:
        raise CompareError("give at least one scenario to compare")
    specs: list[Spec] = []
    for ref in refs:
        if isinstance(ref, Scenario):
            specs.append(Spec(ref.name, ref))
            continue
        ref = str(ref)
        label = None
        if "=" in ref and not Path(ref).exists():
            label, ref = ref.split("=", 1)
            if not _LABEL.match(label):
                raise CompareError(f"{label!r}: a label is letters, digits, _ . - "
                                   "(write LABEL=SCENARIO)")
        twin = ref.startswith("off:")
        if twin:
            ref = ref[4:]
        run_dir = Path(ref) if _is_run_dir(ref) else None
        if label is None:
            base = Path(ref).name if run_dir else Path(ref).stem if ref.endswith(
                (".yaml", ".yml")) else ref
            label = f"off:{base}" if twin else base
        specs.append(Spec(label, ref, twin=twin, run_dir=run_dir))
    seen: dict[str, int] = {}
    for s in specs:
        n = seen.get(s.label, 0) + 1
        seen[s.label] = n
        if n > 1:
            s.label = f"{s.label}#{n}"
    by_label = {s.label: s for s in specs}
    for item in sets or []:
        key, eq, value = item.partition("=")
        if ":" in key:
            target, path = key.rsplit(":", 1)
            rest = f"{path}{eq}{value}"
            if target.isdigit():
                i = int(target)
                if not 1 <= i <= len(specs):
                    raise CompareError(f"--set {item}: there is no scenario {i} "
                                       f"(1-{len(specs)})")
                specs[i - 1].sets.append(rest)
            elif target in by_label:
                by_label[target].sets.append(rest)
            else:
                raise CompareError(f"--set {item}: no scenario labelled {target!r}; labels: "
                                   + ", ".join(by_label))
        else:
            for s in specs:
                s.sets.append(item)
    return specs


def scenario_of(spec: Spec) -> tuple[Scenario, dict | None]:
    """The spec's resolved scenario (before seed/size overrides) and its run manifest."""
    from scslab.scenario.loader import deep_merge, load_scenario, parse_set

    manifest = None
    if isinstance(spec.ref, Scenario):
        s = spec.ref
        if spec.sets:
            s = Scenario.model_validate(deep_merge(
                s.model_dump(mode="python", exclude={"end"}), parse_set(spec.sets)))
    elif spec.run_dir is not None:
        from scslab.outputs.rundir import read_manifest

        manifest = read_manifest(spec.run_dir)
        data = manifest["scenario"]
        if spec.sets:
            data = deep_merge(data, parse_set(spec.sets))
        try:
            s = Scenario.model_validate(data)
        except Exception as e:  # pydantic error on a --set applied to a run's scenario
            raise ScenarioError([{"file": "--set", "path": "", "message": str(e)}]) from None
    else:
        s = load_scenario(spec.ref, sets=spec.sets or None)
    if spec.twin:
        from scslab.twin import system_off

        s = system_off(s)
    return s, manifest


def run_specs(specs: list[Spec], *, replicates: int = 1, seed: int | None = None,
              residents: int | None = None, days: int | None = None, trace: bool = False,
              shards: int = 1, scale: float | None = None, on_run=None) -> dict[str, list]:
    """Run every spec at seeds ``seed + r`` (r < replicates): label -> list of RunResult.

    ``seed`` defaults to the first scenario's seed (a run directory's seed).
    """
    from scslab import api

    if replicates < 1:
        raise CompareError("--replicates must be at least 1")
    resolved = [scenario_of(s) for s in specs]
    first, mf0 = resolved[0]
    if seed is None:
        seed = int(mf0["seed"]) if mf0 else int(first.seed)
    if mf0 is not None and residents is None:
        # a run directory first: the others run at its period and population scale
        days = days if days is not None else int(mf0["days"])
        if scale is None and float(mf0.get("scale", 1.0)) != 1.0:
            scale = float(mf0["scale"])
    out: dict[str, list] = {}
    for spec, (scen, mf) in zip(specs, resolved, strict=True):
        # a run directory's scenario is already scaled by its own scale
        own = float(mf.get("scale", 1.0)) if mf else 1.0
        eff_scale = None if scale is None or scale / own == 1.0 else scale / own
        runs = []
        for r in range(replicates):
            s_r = seed + r
            reuse = (mf is not None and not spec.sets and not spec.twin
                     and int(mf["seed"]) == s_r
                     and (residents is None or residents == mf["residents"])
                     and (days is None or days == mf["days"])
                     and eff_scale is None
                     and (not trace or "residents.parquet" in mf.get("tables", [])))
            if reuse:
                rr = api.load_run(spec.run_dir)
            else:
                rr = api.run(scen, seed=s_r, residents=residents, days=days,
                             trace=True if trace else None, shards=shards, scale=eff_scale,
                             command=f"scslab compare ({spec.label}, seed {s_r})")
            runs.append(rr)
            if on_run is not None:
                on_run(spec.label, r)
        out[spec.label] = runs
    return out


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _last(ts: pd.DataFrame, col: str) -> float:
    return float(ts[col].iloc[-1]) if len(ts) else math.nan


def measures(rr, *, reference: dict[str, str] | None = None) -> dict[str, float]:
    """The comparable figures of one run: summary figures, blocked attempts and acts per
    kind, other timeseries totals, and disparate-impact ratios per attribute (each
    category against the attribute's reference category, by default its first)."""
    sm = rr.summary
    ts = rr.timeseries
    m: dict[str, float] = {}
    for k in HEADLINE:
        if k in sm:
            m[k] = float(sm[k])
    # every other figure of the summary: numbers, and mappings of numbers as KEY_NAME
    for k, v in sm.items():
        if k in SUMMARY_SKIP or k in m:
            continue
        if _number(v):
            m[k] = float(v)
        elif isinstance(v, dict):
            for sub, x in v.items():
                if _number(x):
                    m[f"{k}_{sub}"] = float(x)
    from scslab.twin import speech_acts

    speech = set(speech_acts(rr.scenario))
    acts = sm.get("acts", {})
    m["acts_total_negative"] = float(sum(
        v for a, v in acts.items()
        if a in rr.scenario.acts and a not in speech and rr.scenario.acts[a].valence
        == "negative"))
    if speech:
        m["acts_total_speech"] = float(sum(v for a, v in acts.items() if a in speech))
    for col in ts.columns:
        if col in ("day", "date") or col in m or not pd.api.types.is_numeric_dtype(ts[col]):
            continue
        if col.startswith(STOCK_PREFIXES) and not col.startswith(FLOW_PREFIXES):
            if not col.startswith(("listed", "records_active")):  # in the summary already
                m[f"{col}_end"] = _last(ts, col)
            continue
        m[col] = float(ts[col].sum())
    scen = rr.scenario
    attrs = scen.population.attributes
    reference = reference or {}
    for attr, spec in attrs.items():
        if len(spec.categories) < 2:
            continue
        ref = str(reference.get(attr, spec.categories[0]))
        try:
            mf = GroupMetricFrame(groups=rr.groups, sensitive_features=attr)
        except ScslabError:
            continue
        if ref not in mf.by_group.index:
            continue
        if attr == next(iter(attrs)):
            for name, v in mf.overall.items():
                m[name] = float(v)
        ratios = mf.ratio(reference=ref)
        for metric in DI_METRICS:
            if metric not in ratios.columns:
                continue
            for cat, v in ratios[metric].items():
                if str(cat) == ref:
                    continue
                m[f"di_{metric}[{attr}={cat}/{ref}]"] = float(v)
    return m


@dataclass
class Comparison:
    """A finished comparison: the long table, the runs behind it and notes."""

    table: pd.DataFrame
    labels: list[str]
    runs: dict[str, list]
    seed: int
    replicates: int
    level: float
    notes: list[str] = field(default_factory=list)

    def wide(self, column: str = "value") -> pd.DataFrame:
        """One row per measure, one column per scenario."""
        w = self.table.pivot(index="measure", columns="scenario", values=column)
        return w.reindex(index=pd.unique(self.table["measure"]), columns=self.labels)

    def plot(self, measures: list[str] | None = None):
        """An Altair chart for notebooks: each scenario's difference from the first, with
        its interval over replicates, one panel per measure."""
        import altair as alt

        keys = measures or [m for m in ("wrongful_share_of_list_days", "listed_end",
                                        "wrongful_blocks_per_100k", "listings_new")
                            if m in set(self.table["measure"])]
        df = self.table[self.table["measure"].isin(keys)
                        & (self.table["scenario"] != self.labels[0])]
        base = alt.Chart(df).encode(y=alt.Y("scenario:N", sort=self.labels, title=None))
        points = base.mark_point(filled=True).encode(
            x=alt.X("difference:Q", title=f"difference from {self.labels[0]}"),
            tooltip=["measure", "scenario", "value", "difference", "lo", "hi"])
        bars = base.mark_rule().encode(x="lo:Q", x2="hi:Q")
        return (bars + points).properties(width=320, height=24 * len(self.labels)).facet(
            row=alt.Row("measure:N", sort=keys, title=None)).resolve_scale(x="independent")


def compare(
    scenarios: list, *, replicates: int = 1, seed: int | None = None,
    residents: int | None = None, days: int | None = None, sets: list[str] | None = None,
    level: float = 0.95, interval: str = "t", reference: dict[str, str] | None = None,
    trace: bool = False, shards: int = 1, scale: float | None = None,
    out: str | Path | None = None, on_run=None,
) -> Comparison:
    """Run (or read) the scenarios with common random numbers and compare every measure.

    The table has one row per measure x scenario: ``value`` (mean over replicates) with
    ``value_lo``/``value_hi``, and ``difference`` against the first scenario (mean of the
    paired per-replicate differences) with ``lo``/``hi``; ``interval`` is ``t`` or
    ``percentile`` at ``level``.  With ``out`` the table is written to
    ``out/comparison.parquet``.
    """
    specs = build_specs(list(scenarios), sets)
    runs = run_specs(specs, replicates=replicates, seed=seed, residents=residents, days=days,
                     trace=trace, shards=shards, scale=scale, on_run=on_run)
    labels = [s.label for s in specs]
    first_runs = runs[labels[0]]
    seed0 = int(first_runs[0].manifest["seed"])
    notes = []
    pops = {lab: (rs[0].manifest["residents"], rs[0].manifest["days"],
                  rs[0].scenario.population.model_dump_json()) for lab, rs in runs.items()}
    if len({p for p in pops.values()}) > 1:
        notes.append("the scenarios' populations or periods differ, so residents are not "
                     "the same in every scenario; differences mix population and policy")
    per: dict[str, list[dict[str, float]]] = {
        lab: [measures(rr, reference=reference) for rr in rs] for lab, rs in runs.items()
    }
    names: list[str] = []
    for lab in labels:
        for d in per[lab]:
            names.extend(k for k in d if k not in names)
    rows = []
    for name in names:
        base = np.array([d.get(name, math.nan) for d in per[labels[0]]], dtype=float)
        for lab in labels:
            vals = np.array([d.get(name, math.nan) for d in per[lab]], dtype=float)
            v, vlo, vhi, k = summarise(vals, level=level, interval=interval)
            diff = vals - base
            if lab == labels[0]:
                diff = np.where(np.isfinite(vals), 0.0, np.nan)
            d, lo, hi, kd = summarise(diff, level=level, interval=interval)
            if kd > 1 and np.all(diff[np.isfinite(diff)] == diff[np.isfinite(diff)][0]):
                lo = hi = d  # identical paired differences: no spread, no t artefacts
            rows.append((name, lab, v, vlo, vhi, d, lo, hi, k))
    table = pd.DataFrame(rows, columns=["measure", "scenario", "value", "value_lo", "value_hi",
                                        "difference", "lo", "hi", "replicates"])
    table["level"] = level
    table["interval"] = interval
    table["seed"] = seed0
    comp = Comparison(table=table, labels=labels, runs=runs, seed=seed0,
                      replicates=replicates, level=level, notes=notes)
    if out is not None:
        write_comparison(comp, out)
    return comp


def write_comparison(comp: Comparison, out: str | Path) -> Path:
    """Write ``out/comparison.parquet`` and ``out/comparison.json`` (scenarios, seeds, scenario
    hashes, notes), each atomically (a temporary file renamed into place)."""
    import json

    out = Path(out)
    meta = {
        "scenarios": comp.labels, "seed": comp.seed, "replicates": comp.replicates,
        "seeds": [comp.seed + r for r in range(comp.replicates)], "level": comp.level,
        "scenario_hashes": {lab: rs[0].manifest.get("scenario_hash")
                            for lab, rs in comp.runs.items()},
        "residents": {lab: rs[0].manifest.get("residents") for lab, rs in comp.runs.items()},
        "days": {lab: rs[0].manifest.get("days") for lab, rs in comp.runs.items()},
        "notes": comp.notes,
    }
    try:
        out.mkdir(parents=True, exist_ok=True)
        target = out / "comparison.parquet"
        tag = uuid.uuid4().hex[:8]
        tmp = out / f".comparison.parquet.tmp-{tag}"
        comp.table.to_parquet(tmp, index=False)
        os.replace(tmp, target)
        tmp_json = out / f".comparison.json.tmp-{tag}"
        tmp_json.write_text(json.dumps(meta, indent=2, default=str) + "\n")
        os.replace(tmp_json, out / "comparison.json")
    except OSError as e:
        raise CompareError(f"{out}: cannot write the comparison: {e.strerror or e}") from None
    return target


# ---- presentation ---------------------------------------------------------------------------
def _fmt(v: float) -> str:
    if v is None or not np.isfinite(v):
        return "-"
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 100:
        return f"{v:,.1f}"
    return f"{v:.4g}"


def render(comp: Comparison, *, measures_filter: str | None = None, everything: bool = False):
    """A rich Table of the comparison (one block of rows per measure): the measures whose
    name contains ``measures_filter``, else everything or the :data:`PRINTED` ones."""
    from rich.markup import escape
    from rich.table import Table

    pct = f"{comp.level:.0%}"
    t = Table(box=None, title=f"comparison, seed {comp.seed}, {comp.replicates} replicate(s)")
    t.add_column("measure", no_wrap=True)
    t.add_column("scenario", no_wrap=True)
    for name in ("value", "difference", f"{pct} interval"):
        t.add_column(name, justify="right" if name != f"{pct} interval" else "left")
    tab = comp.table
    if measures_filter:
        tab = tab[tab["measure"].str.contains(measures_filter, regex=False)]
    elif not everything:
        tab = tab[tab["measure"].map(
            lambda m: m in PRINTED or any(m.startswith(p) for p in PRINTED if p[-1] in "_["))]
    last = None
    for row in tab.itertuples(index=False):
        shown = row.measure if row.measure != last else ""
        last = row.measure
        if row.scenario == comp.labels[0]:
            diff, iv = "(reference)", ""
        else:
            diff = _fmt(row.difference)
            iv = "" if not np.isfinite(row.lo) else f"[{_fmt(row.lo)}, {_fmt(row.hi)}]"
        t.add_row(escape(shown), escape(row.scenario), _fmt(row.value), diff, iv)
    return t


def register(app) -> None:
    """Add ``scslab compare`` to the CLI."""
    @app.command("compare")
    def compare_cmd(
        scenarios: Annotated[list[str], typer.Argument(
            help="scenarios to compare (name, path, run directory, off:REF, LABEL=REF); "
                 "the first is the reference")],
        replicates: Annotated[int, typer.Option(help="replicates (seeds seed..seed+K-1)",
                                                min=1)] = 1,
        seed: Annotated[int | None, typer.Option(help="first seed (default: the first "
                                                      "scenario's)", min=0)] = None,
        residents: Annotated[int | None, typer.Option(help="override population", min=1)] = None,
        scale: Annotated[float | None, typer.Option(
            help="multiply every scenario's population by F")] = None,
        days: Annotated[int | None, typer.Option(help="override the period", min=1)] = None,
        set_: Annotated[list[str] | None, typer.Option(
            "--set", help="[LABEL:|N:]a.b.c=VALUE override (all scenarios without a prefix)")
        ] = None,
        out_dir: Annotated[Path | None, typer.Option("--out",
                                                     help="write DIR/comparison.parquet")] = None,
        level: Annotated[float, typer.Option(help="interval level", min=0.5, max=0.999)] = 0.95,
        interval: Annotated[str, typer.Option(help="t or percentile")] = "t",
        reference: Annotated[list[str] | None, typer.Option(
            help="reference group for disparate impact, ATTR=CATEGORY (default: first "
                 "category)")] = None,
        only: Annotated[str | None, typer.Option(
            help="print only measures whose name contains this text")] = None,
        all_: Annotated[bool, typer.Option(
            "--all", help="print every measure (the parquet always has them all)")] = False,
        shards: Annotated[int, typer.Option(help="sets of units per run", min=1)] = 1,
    ) -> None:
        """Compare scenarios on the same synthetic population (common random numbers)."""
        from scslab.cli import console, fail, out

        refs = {}
        for item in reference or []:
            if "=" not in item:
                fail(CompareError(f"--reference {item}: write ATTR=CATEGORY"))
            k, v = item.split("=", 1)
            refs[k] = v
        if interval not in ("t", "percentile"):
            fail(CompareError(f"--interval {interval}: choose t or percentile"))
        try:
            specs = build_specs(scenarios, set_)
            total = len(specs) * replicates
            done = [0]

            def tick(label, r):
                done[0] += 1
                console.print(f"[dim]ran {label} replicate {r} ({done[0]}/{total})[/dim]")

            comp = compare(scenarios, replicates=replicates, seed=seed, residents=residents,
                           days=days, sets=set_, level=level, interval=interval,
                           reference=refs, shards=shards, scale=scale, out=out_dir,
                           on_run=tick)
        except ScslabError as e:
            fail(e)
        out.print(render(comp, measures_filter=only, everything=all_))
        for n in comp.notes:
            console.print(f"[yellow]note:[/yellow] {n}")
        if out_dir is not None:
            out.print(f"comparison: {Path(out_dir) / 'comparison.parquet'}", soft_wrap=True,
                      markup=False, highlight=False)
