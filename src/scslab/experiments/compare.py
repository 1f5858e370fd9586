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
* ``off:REF``: the system-off twin of REF (:mod:`scslab.scenario.twin`);
* ``LABEL=REF`` to name it (labels must be distinct; repeats get ``#2``, ``#3``).

``--set path=VALUE`` applies to every scenario; ``--set LABEL:path=VALUE`` or
``--set 2:path=VALUE`` (1-based position) to one.

>>> c = compare(["minimal", "minimal"], RunOptions(residents=2000, days=60))
>>> float(c.table["difference"].abs().max())
0.0
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scslab.drawing import draw
from scslab.errors import ScenarioError, ScslabError
from scslab.files import atomic_write_bytes, atomic_write_text
from scslab.metrics.figures import figure, interval, is_share
from scslab.metrics.frame import GroupMetricFrame, summarise
from scslab.metrics.measures import run_measures
from scslab.outputs.rundir import read_manifest
from scslab.run.options import RunOptions
from scslab.run.pipeline import check_placement, run
from scslab.run.result import RunResult, load_run
from scslab.scenario.loader import deep_merge, load_scenario, parse_set, shipped_scenarios
from scslab.scenario.schema import Scenario
from scslab.scenario.twin import system_off

# the measures shown without --all/--only, in the terminal and in a comparison's report (a
# name ending in _ or [ stands for every measure it begins; the parquet has them all)
PRINTED = ("listed_mean_last_100_days", "listed_end", "listings_new",
           "residents_ever_listed", "residents_ever_wrongfully_listed",
           "wrongful_share_of_list_days", "wrongful_blocks_per_100k",
           "mean_days_to_correct_wrongful_listing", "records_created", "blocked_",
           "green_channel_days_saved_", "acts_total_", "listed_association_end", "listing_rate",
           "wrongful_listing_rate", "mean_score", "green_channel_benefit", "di_listing_rate[",
           "di_blocked_per_resident[")


def printed(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a comparison table whose measure is one of :data:`PRINTED`."""
    return table[table["measure"].map(
        lambda m: m in PRINTED or any(m.startswith(p) for p in PRINTED if p[-1] in "_["))]


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
    manifest = None
    if isinstance(spec.ref, Scenario):
        s = spec.ref
        if spec.sets:
            s = Scenario.model_validate(deep_merge(
                s.model_dump(mode="python", exclude={"end"}), parse_set(spec.sets)))
    elif spec.run_dir is not None:
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
        s = system_off(s)
    return s, manifest


def run_specs(specs: list[Spec], options: RunOptions | None = None, *, replicates: int = 1,
              shards: int = 1, on_run=None) -> dict[str, list[RunResult]]:
    """Run every spec at seeds ``seed + r`` (r < replicates): label -> list of RunResult.

    ``options.seed`` defaults to the first scenario's seed (a run directory's seed);
    ``options.sets`` are ignored here (they are the specs' own ``sets``).
    """
    o = options or RunOptions()
    if replicates < 1:
        raise CompareError("--replicates must be at least 1")
    resolved = [scenario_of(s) for s in specs]
    first, mf0 = resolved[0]
    seed = o.seed
    if seed is None:
        seed = int(mf0["seed"]) if mf0 else int(first.seed)
    days, scale = o.days, o.scale
    if mf0 is not None and o.residents is None:
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
                     and (o.residents is None or o.residents == mf["residents"])
                     and (days is None or days == mf["days"])
                     and eff_scale is None
                     and (not o.trace or "residents.parquet" in mf.get("tables", [])))
            if reuse:
                rr = load_run(spec.run_dir)
            else:
                rr = run(scen, RunOptions(seed=s_r, residents=o.residents, days=days,
                                          trace=True if o.trace else None, scale=eff_scale),
                         shards=shards, command=f"scslab compare ({spec.label}, seed {s_r})")
            runs.append(rr)
            if on_run is not None:
                on_run(spec.label, r)
        out[spec.label] = runs
    return out


@dataclass
class Comparison:
    """A finished comparison: the long table, the runs behind it and notes.

    A comparison read back with :func:`load_comparison` has its table and settings but no
    runs (``runs`` is empty; the run directories were never written).
    """

    table: pd.DataFrame
    labels: list[str]
    runs: dict[str, list]
    seed: int
    replicates: int
    level: float
    notes: list[str] = field(default_factory=list)
    path: Path | None = None
    meta: dict = field(default_factory=dict, repr=False)  # comparison.json as read

    def wide(self, column: str = "value") -> pd.DataFrame:
        """One row per measure, one column per scenario."""
        w = self.table.pivot(index="measure", columns="scenario", values=column)
        return w.reindex(index=pd.unique(self.table["measure"]), columns=self.labels)

    def plot(self, measures: list[str] | None = None):
        """An Altair chart for notebooks: each scenario's difference from the first, with
        its interval over replicates, one panel per measure, and the zero line."""
        return draw("comparison", self, measures)

    def group_frames(self, sensitive_features, *, metrics=None) -> dict:
        """A :class:`GroupMetricFrame` per scenario over its replicates: from the residents
        tables of traced runs, else from the ``groups`` tables (single attributes)."""
        if not self.runs:
            raise CompareError("this comparison was read from disk and has no runs; group "
                               "metrics need the runs (scslab.compare(...) in this session)")
        frames = {}
        for lab, rs in self.runs.items():
            if all(r.residents is not None for r in rs):
                frames[lab] = GroupMetricFrame(residents=[r.residents for r in rs],
                                               sensitive_features=sensitive_features,
                                               metrics=metrics)
            else:
                frames[lab] = GroupMetricFrame(groups=[r.groups for r in rs],
                                               sensitive_features=sensitive_features,
                                               metrics=metrics)
        return frames

    def group_difference(self, sensitive_features, scenario: str, *, reference=None,
                         metrics=None, level: float | None = None) -> pd.DataFrame:
        """Per group, ``scenario`` minus the first scenario, paired replicate by replicate,
        with an interval (columns ``value, lo, hi, replicates``, indexed by group and
        metric); with ``reference`` (a group), each group's change minus the reference
        group's change.  See :meth:`GroupMetricFrame.difference_from`."""
        if scenario not in self.labels:
            raise CompareError(f"no scenario {scenario!r} in this comparison; scenarios: "
                               + ", ".join(self.labels))
        frames = self.group_frames(sensitive_features, metrics=metrics)
        return frames[scenario].intervals(
            "difference_from", other=frames[self.labels[0]], reference=reference,
            level=self.level if level is None else level)

    def __repr__(self) -> str:
        return summary_text(self)

    def _repr_html_(self) -> str:
        return summary_html(self)


HEADLINE_MEASURES = ("listed_end", "wrongful_share_of_list_days", "wrongful_blocks_per_100k",
                     "listings_new")


def _headline(comp: Comparison) -> pd.DataFrame:
    t = comp.table
    return t[t["measure"].isin(HEADLINE_MEASURES)]


def summary_text(comp: Comparison) -> str:
    """A few lines: the scenarios, seeds, and the headline differences."""
    where = f", read from {comp.path}" if comp.path else ""
    lines = [f"Comparison of {len(comp.labels)} scenarios ({', '.join(comp.labels)}), seed "
             f"{comp.seed}, {comp.replicates} replicate(s), {comp.table['measure'].nunique()} "
             f"measures{where}"]
    for row in _headline(comp).itertuples(index=False):
        if row.scenario == comp.labels[0]:
            continue
        share = is_share(row.measure)
        iv = interval(row.lo, row.hi, share=share)
        lines.append(f"  {row.measure} {row.scenario}: {figure(row.value, share=share)} "
                     f"({figure(row.difference, share=share, signed=True)}"
                     f"{' ' + iv if iv else ''})")
    lines.append("  .table (every measure), .wide(), .plot(), scslab report DIR")
    return "\n".join(lines)


def summary_html(comp: Comparison) -> str:
    """The headline measures as a small HTML table (a notebook's display)."""
    def esc(v) -> str:
        return html.escape(str(v))

    head = "".join(f"<th>{esc(x)}</th>" for x in ("measure", *comp.labels))
    body = []
    for measure, rows in _headline(comp).groupby("measure", sort=False):
        share = is_share(measure)
        by = rows.set_index("scenario")
        cells = []
        for lab in comp.labels:
            if lab not in by.index:
                cells.append("<td></td>")
                continue
            r = by.loc[lab]
            text = figure(r["value"], share=share)
            if lab != comp.labels[0]:
                iv = interval(r["lo"], r["hi"], share=share)
                text += (f" <small>({figure(r['difference'], share=share, signed=True)}"
                         f"{' ' + iv if iv else ''})</small>")
            cells.append(f"<td>{text}</td>")
        body.append(f"<tr><td>{esc(measure)}</td>{''.join(cells)}</tr>")
    cap = esc(f"Comparison, seed {comp.seed}, {comp.replicates} replicate(s); in brackets the "
              f"difference from {comp.labels[0]}"
              + (f" and its {comp.level:.0%} interval" if comp.replicates > 1 else "")
              + f". {comp.table['measure'].nunique()} measures in ")
    return (f"<table><caption>{cap}<code>.table</code>.</caption><thead><tr>{head}</tr>"
            f"</thead><tbody>{''.join(body)}</tbody></table>")


def compare(
    scenarios: list, options: RunOptions | None = None, *, replicates: int = 1,
    level: float = 0.95, interval: str = "t", reference: dict[str, str] | None = None,
    shards: int = 1, out: str | Path | None = None, on_run=None,
) -> Comparison:
    """Run (or read) the scenarios with common random numbers and compare every measure.

    The table has one row per measure x scenario: ``value`` (mean over replicates) with
    ``value_lo``/``value_hi``, and ``difference`` against the first scenario (mean of the
    paired per-replicate differences) with ``lo``/``hi``; ``interval`` is ``t`` or
    ``percentile`` at ``level``.  With ``out`` the table is written to
    ``out/comparison.parquet``.  ``options.sets`` use the ``[LABEL:|N:]a.b=V`` form.
    """
    o = options or RunOptions()
    check_placement(shards=shards, replicates=replicates)
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0.5 <= level < 1:
        raise CompareError(f"level: expected a number from 0.5 to below 1 (got {level!r})")
    if interval not in ("t", "percentile"):
        raise CompareError(f"interval: choose t or percentile (got {interval!r})")
    if isinstance(scenarios, str | Path) or not isinstance(scenarios, list | tuple):
        raise CompareError(f"scenarios: expected a list of scenarios (got {scenarios!r:.60})")
    specs = build_specs(list(scenarios), list(o.sets))
    runs = run_specs(specs, o, replicates=replicates, shards=shards, on_run=on_run)
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
        lab: [run_measures(rr, reference=reference) for rr in rs] for lab, rs in runs.items()
    }
    table = comparison_table(per, labels, level=level, interval=interval)
    table["seed"] = seed0
    comp = Comparison(table=table, labels=labels, runs=runs, seed=seed0,
                      replicates=replicates, level=level, notes=notes)
    if out is not None:
        write_comparison(comp, out)
    return comp


def comparison_table(per: dict[str, list[dict[str, float]]], labels: list[str], *,
                     level: float = 0.95, interval: str = "t") -> pd.DataFrame:
    """The long table of a comparison from each scenario's per-replicate measures
    (``label -> [run_measures of replicate 0, 1, ...]``, replicates paired by position):
    one row per measure x scenario, as :func:`compare` documents.  Callers that keep runs
    (a baseline computed once) build comparisons with it without re-running them."""
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
    return table


def write_comparison(comp: Comparison, out: str | Path) -> Path:
    """Write ``out/comparison.parquet`` and ``out/comparison.json`` (scenarios, seeds, scenario
    hashes, notes), each atomically."""
    out = Path(out)
    meta = {
        "scenarios": comp.labels, "seed": comp.seed, "replicates": comp.replicates,
        "seeds": [comp.seed + r for r in range(comp.replicates)], "level": comp.level,
        "scenario_hashes": {lab: rs[0].manifest.get("scenario_hash")
                            for lab, rs in comp.runs.items()},
        "residents": {lab: rs[0].manifest.get("residents") for lab, rs in comp.runs.items()},
        "days": {lab: rs[0].manifest.get("days") for lab, rs in comp.runs.items()},
        "scale": {lab: rs[0].manifest.get("scale", 1.0) for lab, rs in comp.runs.items()},
        "notes": comp.notes,
    }
    target = out / "comparison.parquet"
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, lambda f: comp.table.to_parquet(f, index=False))
        atomic_write_text(out / "comparison.json", json.dumps(meta, indent=2, default=str) + "\n")
    except OSError as e:
        raise CompareError(f"{out}: cannot write the comparison: {e.strerror or e}") from None
    return target


COMPARISON_FILES = ("comparison.parquet", "comparison.json")


def is_comparison_dir(path: str | Path) -> bool:
    """True for a directory written by ``scslab compare --out``."""
    p = Path(path)
    return all((p / f).is_file() for f in COMPARISON_FILES)


def load_comparison(path: str | Path) -> Comparison:
    """Read a comparison written by ``scslab compare --out DIR`` (or ``compare(out=...)``).

    The result has the table and the settings (scenarios, seed, replicates, level, notes)
    but no runs: ``plot()``, ``wide()`` and the report work; group metrics need the runs.
    """
    p = Path(path)
    if not p.is_dir():
        raise CompareError(f"{p}: no such comparison directory")
    missing = [f for f in COMPARISON_FILES if not (p / f).is_file()]
    if missing:
        raise CompareError(f"{p}: not a comparison directory (no {' or '.join(missing)}); "
                           "scslab compare ... --out DIR writes one")
    try:
        meta = json.loads((p / "comparison.json").read_text())
        table = pd.read_parquet(p / "comparison.parquet")
    except (OSError, ValueError) as e:
        raise CompareError(f"{p}: unreadable comparison ({e})") from None
    need = {"measure", "scenario", "value", "difference", "lo", "hi"}
    if not isinstance(meta, dict) or "scenarios" not in meta or not need <= set(table.columns):
        raise CompareError(f"{p}: the comparison files are damaged (need comparison.json "
                           f"with scenarios and a table with {', '.join(sorted(need))})")
    return Comparison(table=table, labels=list(meta["scenarios"]), runs={},
                      seed=int(meta.get("seed", 0)), replicates=int(meta.get("replicates", 1)),
                      level=float(meta.get("level", 0.95)), notes=list(meta.get("notes", [])),
                      path=p, meta=meta)
