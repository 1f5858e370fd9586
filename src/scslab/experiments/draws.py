"""An interval on every headline figure: the scenario at N parameter draws, on common seeds.

``scslab run SCENARIO --draws N`` draws the unknowns ``N`` times from the scenario's
``uncertain:`` block (the prior), or from a calibration's posterior with ``--posterior
DIR`` (particles resampled by weight, so their correlations are kept), and runs every
draw at the same seeds (common random numbers: two draws differ by their parameters,
not by their luck).  The scenario's own values (a posterior's medians) also run at
``noise_runs`` seeds, which measures the seed noise of one run.

For each measure, with ``y_i`` draw ``i``'s value (the mean over ``replicates`` seeds)
and ``z_k`` the seed-noise runs:

* the interval is the ``level`` central interval of ``y_i + (z_k - mean z)`` over every
  pair: the parameters' spread plus the seeds' (a run's figure at this population);
* the width splits into the part from parameters, ``var(y)``, and the part from seeds,
  ``var(z)``, reported as shares of their sum (``parameter_share``, ``seed_share``).
  Common seeds keep most of the seed noise out of ``var(y)``; what remains is counted on
  the parameters' side.

``scslab compare --draws N`` does the same for each scenario and for the paired
differences: draw ``i`` has the same parameter values and seeds in every scenario, so a
safeguard's effect gets an interval over parameters and seeds.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scslab.errors import ScslabError
from scslab.experiments.compare import Comparison, build_specs, scenario_of, write_comparison
from scslab.experiments.points import run_points
from scslab.experiments.posterior import read_posterior
from scslab.files import atomic_write_bytes, atomic_write_text
from scslab.metrics.measures import HEADLINE
from scslab.run.options import RunOptions
from scslab.run.result import package_versions
from scslab.scenario.loader import load_scenario, scenario_data, scenario_hash
from scslab.scenario.params import ParameterError, get_param
from scslab.scenario.schema import Scenario
from scslab.scenario.uncertainty import from_unit, nominal_values, sample

LEVEL = 0.9
COLUMNS = ["measure", "median", "lo", "hi", "parameter_share", "seed_share",
           "parameter_sd", "seed_sd"]


class DrawsError(ScslabError):
    """Draws that cannot be set up as asked."""


@dataclass
class Draws:
    """A finished set of draws: every run, each measure's interval, how it was made."""

    table: pd.DataFrame  # one row per run: kind, point (draw), seed, parameters, measures
    intervals: pd.DataFrame  # COLUMNS, one row per measure
    manifest: dict
    notes: list[str] = field(default_factory=list)

    def headline(self) -> pd.DataFrame:
        """The intervals of the headline measures (and the disparate impact of listing)."""
        names = headline_names(self.intervals["measure"])
        return self.intervals.set_index("measure").loc[names].reset_index()


def headline_names(measures) -> list[str]:
    ms = list(measures)
    return [m for m in HEADLINE if m in ms] + [m for m in ms if m.startswith("di_listing_rate[")]


def interval(y: np.ndarray, z: np.ndarray, level: float = LEVEL, clip: bool = True
             ) -> dict[str, float]:
    """Median, interval and the split of the variance between parameters (``y``, one
    value per draw) and seeds (``z``, runs of one point at several seeds)."""
    y = np.asarray(y, dtype=float)
    z = np.asarray(z, dtype=float)
    y, z = y[np.isfinite(y)], z[np.isfinite(z)]
    if not len(y):
        return dict.fromkeys(COLUMNS[1:], math.nan)
    noise = z - z.mean() if len(z) else np.zeros(1)
    pool = (y[:, None] + noise[None, :]).ravel()
    if clip and np.all(y >= 0) and np.all(z >= 0):
        pool = np.maximum(pool, 0.0)  # a count or a share: noise cannot make it negative
    a = (1 - level) / 2
    lo, med, hi = np.quantile(pool, [a, 0.5, 1 - a])
    var_p = float(np.var(y, ddof=1)) if len(y) > 1 else 0.0
    var_s = float(np.var(z, ddof=1)) if len(z) > 1 else math.nan
    total = var_p + (var_s if math.isfinite(var_s) else 0.0)
    share_p = var_p / total if total > 0 else math.nan
    return {"median": float(med), "lo": float(lo), "hi": float(hi),
            "parameter_share": share_p,
            "seed_share": 1 - share_p if math.isfinite(share_p) and math.isfinite(var_s)
            else math.nan,
            "parameter_sd": math.sqrt(var_p), "seed_sd": math.sqrt(var_s)
            if math.isfinite(var_s) else math.nan}


def parameter_draws(scenario: Scenario, n: int, seed: int, posterior: str | Path | None
                    ) -> tuple[list[str], np.ndarray, dict[str, float], str]:
    """``n`` draws of the unknowns (paths, rows), the point for the seed-noise runs, and
    where the draws come from."""
    rng = np.random.default_rng([seed, 0xD4A])
    if posterior is not None:
        post = read_posterior(posterior)
        data = scenario.model_dump(mode="python", exclude={"end"})
        missing = []
        for p in post.paths:
            try:
                get_param(data, p)
            except ParameterError:
                missing.append(p)
        if missing:
            raise DrawsError(f"{posterior}: the posterior's parameter(s) {', '.join(missing)} "
                             f"are not numbers of {scenario.name}")
        medians = dict(zip(post.identifiability["parameter"], post.identifiability["median"],
                           strict=True)) if len(post.identifiability) else {}
        x = post.draws(n, rng)
        centre = {p: float(medians.get(p, np.median(x[:, j])))
                  for j, p in enumerate(post.paths)}
        return post.paths, x, centre, f"posterior {posterior}"
    if not scenario.uncertain:
        raise DrawsError(f"{scenario.name} declares no uncertain: parameters to draw; "
                         "declare them (docs/uncertainty.md) or give --posterior DIR")
    paths = list(scenario.uncertain)
    return (paths, sample(scenario.uncertain, n, rng),
            nominal_values(scenario, scenario.uncertain), "prior (the uncertain: block)")


def _seeds(base: Scenario, o: RunOptions, replicates: int, noise_runs: int):
    seed = int(base.seed if o.seed is None else o.seed)
    return seed, [seed + r for r in range(replicates)], [seed + r for r in range(noise_runs)]


def _check(draws: int, replicates: int, noise_runs: int) -> None:
    if draws < 2:
        raise DrawsError("--draws must be at least 2")
    if replicates < 1:
        raise DrawsError("--replicates must be at least 1")
    if noise_runs < 2:
        raise DrawsError("--noise-runs must be at least 2 (a variance needs two runs)")


def run_draws(
    scenario: str | Path | Scenario, options: RunOptions | None = None, *, draws: int,
    posterior: str | Path | None = None, replicates: int = 1, noise_runs: int = 10,
    level: float = LEVEL, threads: int | None = None, workers: int | None = None,
    scheduler: str | None = None, on_run=None, command: str | None = None,
) -> Draws:
    """``draws`` parameter draws of ``scenario`` on common seeds, and every measure's
    interval (see the module docstring)."""
    t0 = time.perf_counter()
    _check(draws, replicates, noise_runs)
    o = options or RunOptions()
    base = scenario if isinstance(scenario, Scenario) else load_scenario(
        scenario, sets=list(o.sets) or None)
    seed, seeds, noise_seeds = _seeds(base, o, replicates, noise_runs)
    paths, x, centre, source = parameter_draws(base, draws, seed, posterior)
    place = dict(threads=threads, workers=workers, scheduler=scheduler)
    total = noise_runs + draws * replicates
    noise = run_points(base, paths, np.array([[centre[p] for p in paths]]), noise_seeds, o,
                       on_run=(lambda d, _: on_run(d, total)) if on_run else None, **place)
    runs = run_points(base, paths, x, seeds, o,
                      on_run=(lambda d, _: on_run(noise_runs + d, total)) if on_run else None,
                      **place)
    rows = []
    for m in runs.measures:
        y = runs.values(m, replicates).mean(axis=1)
        z = noise.table[m].to_numpy(dtype=float) if m in noise.table else np.array([])
        rows.append({"measure": m, **interval(y, z, level)})
    table = pd.concat([runs.table.assign(kind="draw"), noise.table.assign(kind="seed_noise")],
                      ignore_index=True)
    table = table.rename(columns={"point": "draw"})
    table = table[["kind", *[c for c in table if c != "kind"]]]
    intervals = pd.DataFrame(rows, columns=COLUMNS)
    manifest = {
        "kind": "draws", "draws": draws, "source": source, "level": level,
        "replicates": replicates, "noise_runs": noise_runs, "seeds": seeds,
        "noise_seeds": noise_seeds, "parameters": paths,
        "noise_point": centre, "scenario_name": base.name, "scenario": scenario_data(base),
        "scenario_hash": scenario_hash(base),
        "options": {"residents": o.residents, "scale": o.scale, "days": o.days},
        "runs": int(len(table)), "seconds": round(time.perf_counter() - t0, 3),
        "versions": package_versions(),
        "command": command or " ".join(["scslab", *sys.argv[1:]]),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return Draws(table=table, intervals=intervals, manifest=manifest)


def draws_summary(d: Draws) -> dict:
    """``summary.json`` of a draws directory: each headline measure's median, interval and
    the split of its width between parameters and seeds."""
    mf = d.manifest
    return {
        "draws": mf["draws"], "source": mf["source"], "level": mf["level"],
        "replicates": mf["replicates"], "noise_runs": mf["noise_runs"],
        "measures": {r["measure"]: {k: _finite(r[k]) for k in COLUMNS[1:]}
                     for r in d.headline().to_dict(orient="records")},
    }


def _finite(v):
    return float(v) if v is not None and math.isfinite(v) else None


def write_draws(d: Draws, out: str | Path) -> Path:
    """``draws.parquet`` (one row per run), ``intervals.parquet`` (every measure),
    ``summary.json`` (the headline measures) and ``manifest.json``, each atomically."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out / "draws.parquet", lambda f: d.table.to_parquet(f, index=False))
        atomic_write_bytes(out / "intervals.parquet",
                           lambda f: d.intervals.to_parquet(f, index=False))
        atomic_write_text(out / "summary.json", json.dumps(draws_summary(d), indent=2) + "\n")
        atomic_write_text(out / "manifest.json",
                          json.dumps(d.manifest, indent=2, default=str) + "\n")
    except OSError as e:
        raise DrawsError(f"{out}: cannot write the draws: {e.strerror or e}") from None
    return out


def compare_draws(
    scenarios: Sequence, options: RunOptions | None = None, *, draws: int,
    posterior: str | Path | None = None, replicates: int = 1, noise_runs: int = 10,
    level: float = LEVEL, threads: int | None = None, workers: int | None = None,
    scheduler: str | None = None, out: str | Path | None = None, on_run=None,
) -> Comparison:
    """Compare scenarios over ``draws`` parameter draws, the same draw and seeds in every
    scenario.

    From the priors, a draw is one quantile per unknown (a uniform), mapped through each
    scenario's own ``uncertain:`` distribution: a safeguard that declares a tenth of the
    false-record rate draws the same quantile of its own range, so the pair compares like
    with like.  From a posterior, a draw is one particle, applied to every scenario except
    where a scenario sets that parameter to a value of its own (it keeps it, with a note).
    The table has the columns of :func:`scslab.experiments.compare.compare`; ``value`` and
    ``difference`` are medians with ``level`` intervals over parameters and seeds, and
    ``parameter_share`` says how much of the difference's variance is the parameters'.
    """
    _check(draws, replicates, noise_runs)
    o = options or RunOptions()
    specs = build_specs(list(scenarios), list(o.sets))
    resolved = [scenario_of(s)[0] for s in specs]
    labels = [s.label for s in specs]
    first = resolved[0]
    seed, seeds, noise_seeds = _seeds(first, o, replicates, noise_runs)
    plans, notes = _draw_plans(resolved, labels, draws, seed, posterior)
    run_o = o.replace(sets=())
    place = dict(threads=threads, workers=workers, scheduler=scheduler)
    notes.insert(0, f"{draws} draws x {replicates} seed(s) on common seeds in every scenario; "
                    f"seed noise from {noise_runs} runs of each scenario's own values")
    per: dict[str, tuple] = {}
    done = [0]
    total = len(specs) * (noise_runs + draws * replicates)

    def tick(_d, _t):
        done[0] += 1
        if on_run is not None:
            on_run(done[0], total)

    for label, scen in zip(labels, resolved, strict=True):
        paths, x, centre = plans[label]
        noise = run_points(scen, paths, np.array([[centre[p] for p in paths]]), noise_seeds,
                           run_o, on_run=tick, **place)
        runs = run_points(scen, paths, x, seeds, run_o, on_run=tick, **place)
        per[label] = (runs, noise)
    names: list[str] = []
    for runs, _ in per.values():
        names.extend(m for m in runs.measures if m not in names)
    base_runs, base_noise = per[labels[0]]

    def values(runs, noise, m):
        y = (runs.values(m, replicates).mean(axis=1) if m in runs.table
             else np.full(draws, np.nan))
        z = noise.table[m].to_numpy(dtype=float) if m in noise.table else np.array([])
        return y, z

    rows = []
    for m in names:
        y0, z0 = values(base_runs, base_noise, m)
        for label in labels:
            y, z = values(*per[label], m)
            v = interval(y, z, level)
            if label == labels[0]:
                d = {"median": 0.0, "lo": 0.0, "hi": 0.0, "parameter_share": math.nan}
            else:
                dz = z - z0 if len(z) == len(z0) else np.array([])
                d = interval(y - y0, dz, level, clip=False)
            rows.append((m, label, v["median"], v["lo"], v["hi"], d["median"], d["lo"],
                         d["hi"], draws, d["parameter_share"]))
    table = pd.DataFrame(rows, columns=["measure", "scenario", "value", "value_lo", "value_hi",
                                        "difference", "lo", "hi", "replicates",
                                        "parameter_share"])
    table["level"] = level
    table["interval"] = "draws"
    table["seed"] = seed
    comp = Comparison(table=table, labels=labels, runs={}, seed=seed, replicates=replicates,
                      level=level, notes=notes)
    if out is not None:
        write_comparison(comp, out)
    return comp


def _draw_plans(resolved: list[Scenario], labels: list[str], draws: int, seed: int,
                posterior) -> tuple[dict[str, tuple], list[str]]:
    """For each scenario: its varied paths, their values per draw and the seed-noise
    point (see :func:`compare_draws`)."""
    rng = np.random.default_rng([seed, 0xD4A])
    notes: list[str] = []
    plans = {}
    if posterior is not None:
        post = read_posterior(posterior)
        x = post.draws(draws, rng)
        medians = dict(zip(post.identifiability["parameter"], post.identifiability["median"],
                           strict=True)) if len(post.identifiability) else {}
        first = resolved[0].model_dump(mode="python", exclude={"end"})
        for label, scen in zip(labels, resolved, strict=True):
            data = scen.model_dump(mode="python", exclude={"end"})
            cols = []
            for j, p in enumerate(post.paths):
                try:
                    own = get_param(data, p)
                except ParameterError:
                    notes.append(f"{label} has no {p}: left out of its draws")
                    continue
                if own != get_param(first, p):
                    notes.append(f"{label} sets {p} to {own:g} itself: kept in every draw")
                    continue
                cols.append(j)
            paths = [post.paths[j] for j in cols]
            plans[label] = (paths, x[:, cols],
                            {p: float(medians.get(p, np.median(x[:, j])))
                             for j, p in zip(cols, paths, strict=True)})
        notes.insert(0, f"parameters drawn from the posterior {posterior}")
        return plans, notes
    union: list[str] = []
    for scen in resolved:
        union.extend(p for p in scen.uncertain if p not in union)
    if not union:
        raise DrawsError(f"{labels[0]} declares no uncertain: parameters to draw; declare "
                         "them (docs/uncertainty.md) or give --posterior DIR")
    u = rng.random((draws, len(union)))
    for label, scen in zip(labels, resolved, strict=True):
        data = scen.model_dump(mode="python", exclude={"end"})
        paths = []
        for p in union:
            if p not in scen.uncertain:
                continue
            try:
                get_param(data, p)
                paths.append(p)
            except ParameterError:
                notes.append(f"{label} has no {p}: left out of its draws")
        block = {p: scen.uncertain[p] for p in paths}
        x = from_unit(block, u[:, [union.index(p) for p in paths]])
        plans[label] = (paths, x, nominal_values(scen, block))
    notes.insert(0, "parameters drawn from each scenario's own uncertain: block, the same "
                    "quantiles in every scenario")
    return plans, notes


def read_draws(path: str | Path) -> Draws:
    """A draws directory written by :func:`write_draws`."""
    path = Path(path)
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        table = pd.read_parquet(path / "draws.parquet")
        intervals = pd.read_parquet(path / "intervals.parquet")
    except (OSError, ValueError) as e:
        raise DrawsError(f"{path}: not a complete draws directory: {e}") from None
    return Draws(table=table, intervals=intervals, manifest=manifest)


def share_text(row: Mapping) -> str:
    """``parameters 93% / seeds 7%`` for a row of intervals."""
    p = row.get("parameter_share")
    if p is None or not math.isfinite(p):
        return "-"
    return f"parameters {p:.0%} / seeds {1 - p:.0%}"
