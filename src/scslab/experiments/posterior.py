"""Bayesian calibration: what published figures say about a scenario's unknowns.

``scslab calibrate SCENARIO --targets T`` (``--method abc``, the default) starts from the
priors of the scenario's ``uncertain:`` block (or uniform ``--bounds``) and returns the
posterior of ABC-SMC (:mod:`scslab.experiments.abc`): a weighted population of parameter
values whose runs land near the published figures, each run at its own seed so that the
posterior carries the simulator's noise.  Then:

* the *posterior predictive*: ``predictive`` particles drawn by weight run again at fresh
  seeds, and each target's measure over time gets its median and its 50% and 90% bands,
  beside the published value;
* *identifiability*: for each parameter, its prior and posterior 90% intervals and the
  ratio of their widths (near 1: the targets say little about it; near 0: they pin it
  down), and the posterior correlations between parameters (a strong one says the
  targets fix a combination, not each parameter).

``write_posterior`` writes ``posterior.parquet`` (one row per particle: a column per
parameter path, ``weight``, ``distance``, ``seed``), ``predictive.parquet``,
``calibrated.yaml`` (``extends:`` the original, each parameter at its posterior median and
the posterior's marginals declared as its ``uncertain:`` block) and ``manifest.json``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import TypeAdapter

from scslab.errors import ScenarioError, ScslabError
from scslab.experiments.abc import ABCResult, Generation, abc_smc
from scslab.experiments.points import run_points
from scslab.experiments.targets import Target, load_targets, model_value, targets_until
from scslab.files import atomic_write_bytes, atomic_write_text
from scslab.run.options import RunOptions
from scslab.run.result import package_versions
from scslab.scenario.loader import (
    deep_merge,
    find_scenario,
    load_scenario,
    parse_set,
    scenario_data,
    scenario_hash,
    shipped_scenarios,
)
from scslab.scenario.params import nested
from scslab.scenario.schema import Scenario
from scslab.scenario.uncertainty import Distribution, uncertain_problems, uniform_range

LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
PREDICTIVE_SEED_OFFSET = 1_000_000  # predictive runs' seeds start here past the fit's


class PosteriorError(ScslabError):
    """A Bayesian calibration that cannot be set up, or a posterior that cannot be read."""


@dataclass
class Posterior:
    """A finished Bayesian calibration (or one read back from its directory)."""

    scenario: Scenario
    prior: dict
    targets: list[Target]
    particles: pd.DataFrame  # a column per path, weight, distance, seed
    predictive: pd.DataFrame
    fit: pd.DataFrame
    identifiability: pd.DataFrame
    correlations: pd.DataFrame
    generations: list[Generation] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)

    @property
    def paths(self) -> list[str]:
        return list(self.prior)

    def draws(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` parameter rows resampled by weight (a draw from the posterior)."""
        w = self.particles["weight"].to_numpy(dtype=float)
        pick = rng.choice(len(w), size=n, p=w / w.sum())
        return self.particles[self.paths].to_numpy(dtype=float)[pick]


def weighted_quantiles(v: np.ndarray, w: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles of values ``v`` with weights ``w`` (the weighted empirical distribution,
    interpolated between mid-points of each value's weight)."""
    order = np.argsort(v)
    v, w = np.asarray(v, float)[order], np.asarray(w, float)[order]
    cw = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(qs, cw, v)


def target_values(targets: Sequence[Target], rr) -> dict[str, float]:
    """Each target's model value in one run (a collect for :func:`run_points`)."""
    return {t.name: model_value(rr, t) for t in targets}


def series_label(t: Target) -> str:
    return t.measure + (" (cumulative)" if t.cumulative else "")


def series_values(targets: Sequence[Target], rr) -> dict[str, float]:
    """Each target's measure over the run, at month ends and at the targets' dates (keys
    ``LABEL@YYYY-MM-DD``), and each target's value (keys ``target:NAME``)."""
    out = {f"target:{k}": v for k, v in target_values(targets, rr).items()}
    ts = rr.timeseries
    dates = pd.to_datetime(ts["date"]).dt.date
    month_end = (pd.to_datetime(ts["date"]) + pd.Timedelta(days=1)).dt.day.to_numpy() == 1
    keep = month_end.copy()
    keep[-1] = True
    wanted = {t.at for t in targets if t.at is not None}
    keep |= dates.isin(wanted).to_numpy()
    scale_of = {}
    for t in targets:
        label = series_label(t)
        if label in scale_of or t.measure not in ts.columns:
            continue
        f = t.per_residents / float(rr.manifest["residents"]) if t.per_residents else 1.0
        scale_of[label] = f
        col = ts[t.measure].to_numpy(dtype=float)
        col = np.cumsum(col) if t.cumulative else col
        for i in np.flatnonzero(keep):
            out[f"{label}@{dates.iloc[i].isoformat()}"] = float(col[i] * f)
    return out


def _prior_of(base: Scenario, params: Sequence[str] | None,
              bounds: Sequence[tuple[float, float]] | None) -> dict:
    if bounds is not None:
        if not params:
            raise PosteriorError("--bounds needs --params: one LO:HI per parameter")
        if len(bounds) != len(params):
            raise PosteriorError("give one --bounds LO:HI per parameter")
        prior = {}
        for p, (lo, hi) in zip(params, bounds, strict=True):
            try:
                prior[p] = uniform_range(lo, hi, why="range given with --bounds")
            except ValueError as e:
                raise PosteriorError(f"--bounds of {p}: {e}") from None
        problems = uncertain_problems(base.model_copy(update={"uncertain": prior}),
                                      own_value_inside=False)
        if problems:
            raise ScenarioError([dict(p, file="--bounds") for p in problems])
        return prior
    declared = dict(base.uncertain)
    if not params:
        if not declared:
            raise PosteriorError(f"{base.name} declares no uncertain: parameters; name them "
                                 "with --params and give priors with --bounds LO:HI")
        return declared
    missing = [p for p in params if p not in declared]
    if missing:
        raise PosteriorError(
            f"{', '.join(missing)}: no prior; declare it in the scenario's uncertain: block "
            "or give --bounds LO:HI for every --params path (declared: "
            + (", ".join(declared) or "none") + ")")
    return {p: declared[p] for p in params}


def calibrate_abc(
    scenario: str | Path | Scenario,
    targets: str | Path | list[Target],
    params: Sequence[str] | None = None,
    options: RunOptions | None = None,
    *,
    bounds: Sequence[tuple[float, float]] | None = None,
    particles: int = 100,
    generations: int = 8,
    quantile: float = 0.5,
    min_acceptance: float = 0.05,
    max_runs: int | None = None,
    predictive: int = 50,
    adjust: bool | None = None,
    threads: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    on_generation: Callable[[Generation], None] | None = None,
    on_run: Callable[[int, int], None] | None = None,
    command: str | None = None,
    until: dt.date | None = None,
) -> Posterior:
    """The posterior of ``params`` (default: every declared unknown) given ``targets``.

    ``options`` set every run's population and period (``sets`` apply to the scenario
    first; ``seed`` is the first seed, default the scenario's).  See the module docstring
    for the predictive and identifiability parts.  With ``until``, only targets dated on
    or before it are fitted (an honest holdout: later figures stay out of the fit).
    """
    t0 = time.perf_counter()
    o = options or RunOptions()
    base = scenario if isinstance(scenario, Scenario) else load_scenario(
        scenario, sets=list(o.sets) or None)
    tlist = targets if isinstance(targets, list) else load_targets(targets)[1]
    tlist = targets_until(tlist, until, base.start + dt.timedelta(
        days=(o.days or base.n_days) - 1))
    if not tlist:
        raise ScslabError(f"no target is dated on or before {until}; nothing to fit")
    prior = _prior_of(base, list(params or []), bounds)
    paths = list(prior)
    seed = int(base.seed if o.seed is None else o.seed)
    run_o = o.replace(sets=(), trace=False)
    place = dict(threads=threads, workers=workers, scheduler=scheduler)
    collect = functools.partial(target_values, tlist)
    names = [t.name for t in tlist]

    # targets read from the timeseries alone spare each run its summary and groups
    light = "timeseries" if all(t.at is not None for t in tlist) else "light"

    def simulate(x: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        runs = run_points(base, paths, x, options=run_o, row_seeds=seeds, collect=collect,
                          tables=light, on_run=on_run, **place)
        return runs.table[names].to_numpy(dtype=float)

    observed = np.array([t.value for t in tlist])
    scale = np.array([t.sigma for t in tlist])
    res = abc_smc(simulate, prior, observed, scale, particles=particles,
                  generations=generations, quantile=quantile, min_acceptance=min_acceptance,
                  max_runs=max_runs, seed=seed, adjust=adjust, on_generation=on_generation)
    table = pd.DataFrame(res.x, columns=paths)
    table["weight"] = res.weights
    table["distance"] = res.distances
    table["seed"] = res.seeds
    post = Posterior(scenario=base, prior=prior, targets=tlist, particles=table,
                     predictive=pd.DataFrame(), fit=pd.DataFrame(),
                     identifiability=identifiability(prior, res),
                     correlations=correlations(paths, res), generations=res.generations)
    rng = np.random.default_rng([seed, 0x9E])
    if predictive > 0:
        xs = post.draws(predictive, rng)
        seeds = seed + PREDICTIVE_SEED_OFFSET + np.arange(predictive)
        runs = run_points(base, paths, xs, options=run_o, row_seeds=seeds,
                          collect=functools.partial(series_values, tlist), tables=light,
                          **place)
        post.predictive, post.fit = predictive_tables(tlist, runs.table)
    post.manifest = {
        "kind": "calibration",
        "method": "abc",
        "scenario_name": base.name,
        "scenario": scenario_data(base),
        "scenario_hash": scenario_hash(base),
        "targets": [dict(name=t.name, measure=t.measure, value=t.value,
                         at=t.at.isoformat() if t.at else None, cumulative=t.cumulative,
                         per_residents=t.per_residents, scale=t.sigma, source=t.source)
                    for t in tlist],
        "prior": {p: {"dist": d.dist, **d.params(), "why": d.why,
                      "distribution": d.describe()} for p, d in prior.items()},
        "particles": particles,
        "effective_sample_size": round(res.ess(), 1),
        "weights_collapsed": weights_collapsed(res),
        "generations": [dict(index=g.index, tolerance=_finite_or_none(g.tolerance), runs=g.runs,
                             accepted=g.accepted) for g in res.generations],
        "stopped": res.stopped,
        "regression_adjusted": res.adjusted,
        "runs": res.runs + (predictive if predictive > 0 else 0),
        "predictive_runs": predictive,
        "seed": seed,
        "options": {"residents": o.residents, "scale": o.scale, "days": o.days,
                    "sets": list(o.sets)},
        "identifiability": post.identifiability.to_dict(orient="records"),
        "correlations": post.correlations.to_dict(orient="records"),
        "fit": post.fit.to_dict(orient="records"),
        "seconds": round(time.perf_counter() - t0, 3),
        "versions": package_versions(),
        "command": command or " ".join(["scslab", *sys.argv[1:]]),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return post


def weights_collapsed(res: ABCResult) -> bool:
    """True when the importance weights rest on a few particles (effective sample size
    below a tenth of the particles, or below 10): the weighted intervals then describe a
    particle or two, not a posterior, and say nothing about identification."""
    n = len(res.weights)
    return res.ess() < max(10.0, n / 10)


def identifiability(prior: Mapping, res: ABCResult) -> pd.DataFrame:
    """Per parameter: the prior's and the posterior's 90% intervals, the posterior median
    and the ratio of the widths; beside them the final population's spread with equal
    weights (``equal_lo``, ``equal_hi``, ``equal_width_ratio``), which is what identification
    must be judged on when the weights have collapsed (``weights_collapsed``)."""
    rows = []
    equal = np.full(len(res.weights), 1.0 / max(1, len(res.weights)))
    for j, (p, d) in enumerate(prior.items()):
        plo, phi = (float(v) for v in d.ppf([0.05, 0.95]))
        lo, med, hi = weighted_quantiles(res.x[:, j], res.weights, [0.05, 0.5, 0.95])
        elo, ehi = weighted_quantiles(res.x[:, j], equal, [0.05, 0.95])
        width = phi - plo
        rows.append({"parameter": p, "prior": d.describe(), "prior_lo": plo, "prior_hi": phi,
                     "median": float(med), "lo": float(lo), "hi": float(hi),
                     "width_ratio": (hi - lo) / width if width > 0 else math.nan,
                     "equal_lo": float(elo), "equal_hi": float(ehi),
                     "equal_width_ratio": (ehi - elo) / width if width > 0 else math.nan})
    return pd.DataFrame(rows)


def correlations(paths: Sequence[str], res: ABCResult) -> pd.DataFrame:
    """Weighted correlations of the particles' normal scores, one row per pair."""
    rows = []
    z, w = res.z, res.weights
    mean = w @ z
    cov = (z - mean).T @ ((z - mean) * w[:, None])
    sd = np.sqrt(np.diag(cov))
    for i in range(len(paths)):
        for j in range(i + 1, len(paths)):
            r = cov[i, j] / (sd[i] * sd[j]) if sd[i] > 0 and sd[j] > 0 else math.nan
            rows.append({"parameter": paths[i], "other": paths[j], "correlation": float(r)})
    return pd.DataFrame(rows, columns=["parameter", "other", "correlation"])


def predictive_tables(targets: Sequence[Target], runs: pd.DataFrame
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The predictive bands of every target series over time, and the fit at each target."""
    rows = []
    published = {(series_label(t), t.at.isoformat()): t for t in targets if t.at is not None}
    last: dict[str, str] = {}
    for col in runs.columns:
        if "@" in col and not col.startswith("target:"):
            label, date = col.rsplit("@", 1)
            last[label] = max(last.get(label, date), date)
    for t in targets:  # a figure over the whole run sits on the run's last day
        if t.at is None and t.cumulative and series_label(t) in last:
            published.setdefault((series_label(t), last[series_label(t)]), t)
    for col in runs.columns:
        if "@" not in col or col.startswith("target:"):
            continue
        label, date = col.rsplit("@", 1)
        v = runs[col].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        if not len(v):
            continue
        q = np.quantile(v, LEVELS)
        t = published.get((label, date))
        rows.append({"series": label, "date": dt.date.fromisoformat(date),
                     "median": q[2], "p05": q[0], "p25": q[1], "p75": q[3], "p95": q[4],
                     "published": t.value if t else math.nan, "target": t.name if t else ""})
    pred = pd.DataFrame(rows, columns=["series", "date", "median", "p05", "p25", "p75", "p95",
                                       "published", "target"])
    pred = pred.sort_values(["series", "date"], kind="stable").reset_index(drop=True)
    fit = []
    for t in targets:
        v = runs.get(f"target:{t.name}")
        v = np.asarray(v, dtype=float) if v is not None else np.array([])
        v = v[np.isfinite(v)]
        q = np.quantile(v, LEVELS) if len(v) else [math.nan] * 5
        fit.append({"target": t.name, "measure": t.measure,
                    "at": t.at.isoformat() if t.at else None, "published": t.value,
                    "median": float(q[2]), "p05": float(q[0]), "p95": float(q[4]),
                    "within_90": bool(q[0] <= t.value <= q[4]) if len(v) else False,
                    "source": t.source})
    return pred, pd.DataFrame(fit)


def posterior_block(post: Posterior, targets_ref: str) -> dict:
    """The posterior's marginals as an ``uncertain:`` block: a normal cut to the prior's
    support with the particles' weighted mean and sd (correlations are not kept: draw
    from ``posterior.parquet`` to keep them)."""
    block = {}
    w = post.particles["weight"].to_numpy(dtype=float)
    for p, d in post.prior.items():
        v = post.particles[p].to_numpy(dtype=float)
        mean = float(w @ v)
        sd = float(math.sqrt(max(w @ (v - mean) ** 2, 0.0))) or abs(mean) * 1e-6 or 1e-12
        lo, hi = d.support()
        why = (f"posterior of scslab calibrate --method abc against {targets_ref} "
               f"({len(v)} particles); prior {d.describe()}: {d.why}")
        entry = {"dist": "truncnormal", "mean": _g(mean), "sd": _g(sd)}
        if math.isfinite(lo) and math.isfinite(hi):
            entry.update(low=_g(lo), high=_g(hi))
        else:
            entry = {"dist": "normal", "mean": _g(mean), "sd": _g(sd)}
        entry["why"] = why
        block[p] = entry
    return block


def _g(v: float) -> float:
    return float(f"{v:.6g}")


def write_posterior(post: Posterior, out: str | Path, *, scenario_ref: str | Path,
                    targets_ref: str = "", command: str = "") -> Path:
    """Write the calibration directory (module docstring); the manifest last."""
    out = Path(out)
    ref = str(scenario_ref)
    if isinstance(scenario_ref, Scenario):
        raise PosteriorError("write_posterior needs the scenario's name or path to extend")
    if ref not in shipped_scenarios() or Path(ref).is_file():
        ref = os.path.relpath(find_scenario(ref), out.absolute())
    original = post.scenario.model_dump(mode="python", exclude={"end"})
    over: dict = parse_set(list(post.manifest.get("options", {}).get("sets", [])))
    medians = dict(zip(post.identifiability["parameter"], post.identifiability["median"],
                       strict=True))
    for p, v in medians.items():
        over = deep_merge(over, nested(p, _g(v), original))
    summary = ", ".join(f"{p} = {_g(v)}" for p, v in medians.items())
    doc = {
        "extends": ref,
        "name": f"{post.scenario.name}_calibrated"[:60],
        "description": (post.scenario.description.rstrip() + " Calibrated by scslab calibrate "
                        f"(ABC-SMC) to {targets_ref or 'targets'}; posterior medians: "
                        f"{summary}."),
        "sources": list(dict.fromkeys(post.scenario.sources
                                      + [t.source for t in post.targets if t.source])),
        **over,
        "uncertain": posterior_block(post, targets_ref or "targets"),
    }
    header = (f"# Calibrated scenario written by scslab calibrate on "
              f"{dt.date.today().isoformat()}.\n"
              + (f"# {command}\n" if command else "")
              + f"# {post.manifest.get('stopped', '')}; "
                f"effective sample size {post.manifest.get('effective_sample_size')}\n")
    text = header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out / "posterior.parquet",
                           lambda f: post.particles.to_parquet(f, index=False))
        atomic_write_bytes(out / "predictive.parquet",
                           lambda f: post.predictive.to_parquet(f, index=False))
        atomic_write_text(out / "calibrated.yaml", text)
        manifest = dict(post.manifest, scenario_ref=str(scenario_ref),
                        targets_ref=targets_ref)
        atomic_write_text(out / "manifest.json",
                          json.dumps(manifest, indent=2, default=_json) + "\n")
    except OSError as e:
        raise PosteriorError(f"{out}: cannot write the calibration: {e.strerror or e}") from None
    return out


def _json(v):
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float | np.floating) and not math.isfinite(v):
        return None
    return str(v)


def read_posterior(path: str | Path) -> Posterior:
    """A calibration directory written by :func:`write_posterior`."""
    path = Path(path)
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        particles = pd.read_parquet(path / "posterior.parquet")
        predictive = pd.read_parquet(path / "predictive.parquet")
    except (OSError, ValueError) as e:
        raise PosteriorError(f"{path}: not a complete calibration directory (posterior."
                             f"parquet, predictive.parquet, manifest.json): {e}") from None
    if manifest.get("kind") != "calibration":
        raise PosteriorError(f"{path}: manifest.json is not a calibration's")
    scenario = Scenario.model_validate(manifest["scenario"])
    prior = {p: _distribution(spec) for p, spec in manifest["prior"].items()}
    targets = [Target(name=t["name"], measure=t["measure"], value=t["value"],
                      at=dt.date.fromisoformat(t["at"]) if t.get("at") else None,
                      cumulative=t.get("cumulative", False),
                      per_residents=t.get("per_residents"), scale=t.get("scale"),
                      source=t.get("source", "")) for t in manifest["targets"]]
    return Posterior(
        scenario=scenario, prior=prior, targets=targets, particles=particles,
        predictive=predictive, fit=pd.DataFrame(manifest.get("fit", [])),
        identifiability=pd.DataFrame(manifest.get("identifiability", [])),
        correlations=pd.DataFrame(manifest.get("correlations", []),
                                  columns=["parameter", "other", "correlation"]),
        generations=[Generation(**dict(g, tolerance=math.inf if g["tolerance"] is None
                                       else g["tolerance"]))
                     for g in manifest.get("generations", [])],
        manifest=manifest)


def _distribution(spec: dict):
    keep = {k: v for k, v in spec.items() if k != "distribution"}
    return TypeAdapter(Distribution).validate_python(keep)


def _finite_or_none(v: float) -> float | None:
    return v if math.isfinite(v) else None
