"""Global sensitivity analysis: which unknown parameters move which measures, and by how
much, against the noise of the seeds.

The unknowns are a scenario's ``uncertain:`` block (or ``--param PATH=LO:HI`` ranges).
SALib makes the design in the unit cube and computes the indices; each design point is
mapped to parameter values through the distributions' quantile functions
(:func:`scslab.scenario.uncertainty.from_unit`) and runs at the same seeds as every other
point (common random numbers, :mod:`scslab.experiments.points`).

* ``sobol``: Saltelli's design of ``N (k + 2)`` points for ``k`` parameters; first-order
  (``S1``) and total (``ST``) indices: the share of the measure's variance a parameter
  explains alone, and with all its interactions.
* ``morris``: ``r`` one-at-a-time trajectories on 4 levels, ``r (k + 1)`` points;
  ``mu_star`` (mean absolute elementary effect: the measure's change when the parameter
  crosses two thirds of its range, in quantiles) and ``sigma`` (their spread:
  non-linearity or interactions).  A screen for many parameters.

Every index has a 95% interval (``lo``, ``hi``): SALib's bootstrap for ``S1``, ``ST`` and
``mu_star``; for ``sigma`` the chi-square interval of a standard deviation over the ``r``
trajectories.

**Seeds are not parameters.**  With common seeds each point is the same synthetic world,
but a measure still jitters from point to point with the seed's luck, and that jitter
would pass for sensitivity.  So the scenario's own values also run at ``noise_runs``
seeds, and the variance between them (the *seed noise*) is set beside the indices, as
rows whose parameter is ``seeds``:

* ``noise_share`` (both methods): the seed variance of a point's measure (over
  ``replicates`` seeds) divided by the measure's variance over the design, with an F
  interval.  Near 1, the design's spread is mostly noise: no index of that measure means
  much; raise ``--replicates`` or the population;
* ``mu_star`` and ``sigma`` (morris): the values a parameter with no effect at all would
  show from seed noise alone, were the seeds of two points independent; common seeds
  make the real noise floor lower, so this is a conservative yardstick.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scslab.errors import ScenarioError, ScslabError
from scslab.experiments.points import PointRuns, run_points
from scslab.files import atomic_write_bytes, atomic_write_text
from scslab.metrics.measures import HEADLINE
from scslab.run.options import RunOptions
from scslab.run.result import package_versions
from scslab.scenario.loader import load_scenario, scenario_data, scenario_hash
from scslab.scenario.schema import Scenario
from scslab.scenario.uncertainty import from_unit, nominal_values, uncertain_problems

METHODS = ("sobol", "morris")
INDICES = {"sobol": ("S1", "ST"), "morris": ("mu_star", "sigma")}
TOTAL = {"sobol": "ST", "morris": "mu_star"}
DEFAULT_SAMPLES = {"sobol": 64, "morris": 10}
MORRIS_LEVELS = 4
NOISE = "seeds"  # the parameter column of the seed-noise rows
LEVEL = 0.95
RESAMPLES = 200
COLUMNS = ["measure", "parameter", "index", "value", "lo", "hi"]


class SensitivityError(ScslabError):
    """A sensitivity analysis that cannot be set up as asked."""


@dataclass
class Sensitivity:
    """A finished analysis: the indices, every run, and how it was made."""

    table: pd.DataFrame  # measure, parameter, index, value, lo, hi
    samples: pd.DataFrame  # one row per run: kind, point, seed, parameters, measures
    method: str
    parameters: list[str]
    measures: list[str]
    manifest: dict
    runs: PointRuns | None = None
    noise: PointRuns | None = None
    notes: list[str] = field(default_factory=list)

    def ranked(self, measure: str) -> pd.DataFrame:
        """One row per parameter, its indices side by side, by total effect (largest
        first); the seed-noise row last."""
        t = self.table[self.table["measure"] == measure]
        wide = t.pivot_table(index="parameter", columns="index", values=["value", "lo", "hi"],
                             dropna=False, sort=False)
        wide.columns = [f"{idx}" if stat == "value" else f"{idx}_{stat}"
                        for stat, idx in wide.columns]
        total = TOTAL[self.method]
        params = wide.drop(index=NOISE, errors="ignore").sort_values(
            total, ascending=False, na_position="last")
        noise = wide.loc[[NOISE]] if NOISE in wide.index else wide.iloc[:0]
        return pd.concat([params, noise])


def problem_of(paths: Sequence[str]) -> dict:
    """SALib's problem: every parameter on [0, 1] (quantiles of its distribution)."""
    return {"num_vars": len(paths), "names": list(paths), "bounds": [[0.0, 1.0]] * len(paths)}


def design(method: str, k: int, samples: int, seed: int) -> np.ndarray:
    """The design in the unit cube: rows of quantiles, one column per parameter."""
    problem = problem_of([f"x{i}" for i in range(k)])
    if method == "sobol":
        from SALib.sample import sobol  # SALib takes seconds to import; only this needs it
        return sobol.sample(problem, samples, calc_second_order=False, scramble=True,
                            seed=seed)
    from SALib.sample import morris
    return morris.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed)


def indices(method: str, paths: Sequence[str], unit: np.ndarray, y: np.ndarray,
            seed: int) -> list[tuple[str, str, float, float, float]]:
    """(parameter, index, value, lo, hi) of one measure ``y`` over the design ``unit``."""
    problem = problem_of(paths)
    y = np.asarray(y, dtype=float)
    rows = []
    if not np.all(np.isfinite(y)) or np.ptp(y) == 0:
        # a measure that does not move (or is undefined somewhere) has no indices
        for p in paths:
            rows += [(p, idx, math.nan, math.nan, math.nan) for idx in INDICES[method]]
        return rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "sobol":
            from SALib.analyze import sobol
            si = sobol.analyze(problem, y, calc_second_order=False, num_resamples=RESAMPLES,
                               conf_level=LEVEL, seed=seed)
            for j, p in enumerate(paths):
                for idx in ("S1", "ST"):
                    v, c = float(si[idx][j]), float(si[f"{idx}_conf"][j])
                    rows.append((p, idx, v, v - c, v + c))
            return rows
        from SALib.analyze import morris
        si = morris.analyze(problem, unit, y, num_resamples=RESAMPLES, conf_level=LEVEL,
                            num_levels=MORRIS_LEVELS, seed=seed)
    r = len(y) // (len(paths) + 1)
    for j, p in enumerate(paths):
        v, c = float(si["mu_star"][j]), float(si["mu_star_conf"][j])
        rows.append((p, "mu_star", v, max(v - c, 0.0), v + c))
        s = float(si["sigma"][j])
        lo, hi = _sd_interval(s, r - 1)
        rows.append((p, "sigma", s, lo, hi))
    return rows


def _sd_interval(sd: float, df: int) -> tuple[float, float]:
    """The chi-square interval of a standard deviation estimated with ``df`` degrees of
    freedom (normal errors)."""
    if df < 1 or not math.isfinite(sd):
        return math.nan, math.nan
    from scipy import stats  # ~0.5 s to import; the command line loads this module
    a = (1 - LEVEL) / 2
    return (sd * math.sqrt(df / stats.chi2.ppf(1 - a, df)),
            sd * math.sqrt(df / stats.chi2.ppf(a, df)))


def noise_rows(method: str, design_y: np.ndarray, noise_y: np.ndarray, replicates: int
               ) -> list[tuple[str, str, float, float, float]]:
    """The seed-noise rows of one measure (see the module docstring)."""
    noise_y = noise_y[np.isfinite(noise_y)]
    design_y = design_y[np.isfinite(design_y)]
    k, n = len(noise_y), len(design_y)
    if k < 2 or n < 2:
        return [(NOISE, "noise_share", math.nan, math.nan, math.nan)]
    from scipy import stats

    noise_var = float(np.var(noise_y, ddof=1)) / replicates
    total_var = float(np.var(design_y, ddof=1))
    a = (1 - LEVEL) / 2
    if total_var > 1e-12 * max(1.0, float(np.mean(design_y)) ** 2):
        share = noise_var / total_var
        lo = share / stats.f.ppf(1 - a, k - 1, n - 1)
        hi = share / stats.f.ppf(a, k - 1, n - 1)
    else:
        share = lo = hi = math.nan  # the design does not move the measure
    rows = [(NOISE, "noise_share", share, lo, hi)]
    if method == "morris":
        delta = MORRIS_LEVELS / (2 * (MORRIS_LEVELS - 1))
        sd = math.sqrt(noise_var)
        slo, shi = _sd_interval(sd, k - 1)
        # a difference of two independent noises, over the step: E|N(0, 2 sd^2)| / delta
        f_mu = 2 / math.sqrt(math.pi) / delta
        f_sigma = math.sqrt(2) / delta
        rows.append((NOISE, "mu_star", f_mu * sd, f_mu * slo, f_mu * shi))
        rows.append((NOISE, "sigma", f_sigma * sd, f_sigma * slo, f_sigma * shi))
    return rows


def sensitivity(
    scenario: str | Path | Scenario,
    options: RunOptions | None = None,
    *,
    params: Mapping | None = None,
    measures: Sequence[str] | None = None,
    method: str = "sobol",
    samples: int | None = None,
    replicates: int = 1,
    noise_runs: int = 10,
    threads: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    on_run=None,
    command: str | None = None,
) -> Sensitivity:
    """Run the design and compute the indices.

    ``params`` maps paths to distributions (default: the scenario's ``uncertain:``
    block); ``measures`` names the measures to analyse (default: every measure of a
    run); ``samples`` is Sobol's base sample ``N`` (a power of 2) or Morris's number of
    trajectories ``r``.  Design points run at seeds ``seed .. seed + replicates - 1``
    (their measures averaged) and the scenario's own values at ``seed .. seed +
    noise_runs - 1``.  ``on_run(done, total)`` reports progress over all runs.
    """
    t0 = time.perf_counter()
    o = options or RunOptions()
    if method not in METHODS:
        raise SensitivityError(f"--method {method}: choose one of {', '.join(METHODS)}")
    if replicates < 1:
        raise SensitivityError("--replicates must be at least 1")
    if noise_runs < 2:
        raise SensitivityError("--noise-runs must be at least 2 (a variance needs two runs)")
    base = scenario if isinstance(scenario, Scenario) else load_scenario(
        scenario, sets=list(o.sets) or None)
    uncertain = dict(params) if params else dict(base.uncertain)
    if params:
        problems = uncertain_problems(base.model_copy(update={"uncertain": uncertain}),
                                      own_value_inside=False)
        if problems:
            raise ScenarioError([dict(p, file="--param") for p in problems])
    if not uncertain:
        raise SensitivityError(
            f"{base.name} declares no uncertain: parameters; give ranges with "
            "--param PATH=LO:HI, or declare them in the scenario (docs/uncertainty.md)")
    paths = list(uncertain)
    n = DEFAULT_SAMPLES[method] if samples is None else samples
    if method == "sobol" and (n < 2 or n & (n - 1)):
        raise SensitivityError(f"--samples {n}: Sobol's base sample must be a power of 2 "
                               "(e.g. 32, 64, 128)")
    if method == "morris" and n < 2:
        raise SensitivityError(f"--samples {n}: Morris needs at least 2 trajectories")
    seed = int(base.seed if o.seed is None else o.seed)
    unit = design(method, len(paths), n, seed)
    x = from_unit(uncertain, unit)
    nominal = nominal_values(base, uncertain)
    design_seeds = [seed + r for r in range(replicates)]
    noise_seeds = [seed + r for r in range(noise_runs)]
    total = len(x) * replicates + noise_runs
    place = dict(threads=threads, workers=workers, scheduler=scheduler)
    # the seed-noise runs first: they name the measures, so a wrong --measure fails early
    noise = run_points(base, paths, np.array([[nominal[p] for p in paths]]), noise_seeds, o,
                       on_run=(lambda done, _: on_run(done, total)) if on_run else None,
                       **place)
    names = list(measures) if measures else noise.measures
    unknown = [m for m in names if m not in noise.measures]
    if unknown:
        raise SensitivityError(
            f"unknown measure(s) {', '.join(unknown)}; the measures of a run are those of "
            "comparison.parquet, e.g. " + ", ".join(noise.measures[:8]))
    # the design's runs build only the tables the measures read (the same figures, without
    # the invariant checks the seed-noise runs above have made on the nominal point)
    runs = run_points(base, paths, x, design_seeds, o,
                      on_run=(lambda done, _: on_run(noise_runs + done, total)) if on_run
                      else None, tables="light", **place)
    rows = []
    for m in names:
        y = runs.values(m, replicates).mean(axis=1)
        for row in indices(method, paths, unit, y, seed):
            rows.append((m, *row))
        for row in noise_rows(method, y, noise.table[m].to_numpy(dtype=float), replicates):
            rows.append((m, *row))
    table = pd.DataFrame(rows, columns=COLUMNS)
    samples_table = pd.concat([runs.table.assign(kind="design"),
                               noise.table.assign(kind="seed_noise")], ignore_index=True)
    samples_table = samples_table[["kind", *[c for c in samples_table if c != "kind"]]]
    manifest = {
        "kind": "sensitivity",
        "method": method,
        "samples": n,
        "design_points": int(len(x)),
        "replicates": replicates,
        "noise_runs": noise_runs,
        "runs": int(len(samples_table)),
        "seeds": design_seeds,
        "noise_seeds": noise_seeds,
        "level": LEVEL,
        "parameters": {p: {"distribution": d.describe(), **d.params(), "dist": d.dist,
                           "why": d.why, "nominal": nominal[p]}
                       for p, d in uncertain.items()},
        "measures": names,
        "scenario_name": base.name,
        "scenario": scenario_data(base),
        "scenario_hash": scenario_hash(base),
        "options": {"residents": o.residents, "scale": o.scale, "days": o.days},
        "seconds": round(time.perf_counter() - t0, 3),
        "simulate_seconds": round(sum(t.simulate for t in runs.timings + noise.timings), 3),
        "versions": package_versions(),
        "command": command or " ".join(["scslab", *sys.argv[1:]]),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    notes = [f"{m}: seed noise is {s:.0%} of the variance over the design; its indices "
             "mostly measure noise (raise --replicates or the population)"
             for m, s in table[(table["parameter"] == NOISE) & (table["index"] == "noise_share")]
             [["measure", "value"]].itertuples(index=False)
             if math.isfinite(s) and s > 0.5 and m in (measures or headline_measures(names))]
    manifest["notes"] = notes
    return Sensitivity(table=table, samples=samples_table, method=method, parameters=paths,
                       measures=names, manifest=manifest, runs=runs, noise=noise, notes=notes)


def write_sensitivity(res: Sensitivity, out: str | Path) -> Path:
    """Write ``sensitivity.parquet``, ``samples.parquet`` and ``manifest.json`` into
    ``out``, each atomically; the manifest last, so a directory with a manifest is
    whole."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out / "sensitivity.parquet",
                           lambda f: res.table.to_parquet(f, index=False))
        atomic_write_bytes(out / "samples.parquet",
                           lambda f: res.samples.to_parquet(f, index=False))
        atomic_write_text(out / "manifest.json",
                          json.dumps(res.manifest, indent=2, default=str) + "\n")
    except OSError as e:
        raise SensitivityError(f"{out}: cannot write the analysis: {e.strerror or e}") from None
    return out


def read_sensitivity(path: str | Path) -> Sensitivity:
    """A sensitivity directory written by :func:`write_sensitivity`."""
    path = Path(path)
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        table = pd.read_parquet(path / "sensitivity.parquet")
        samples = pd.read_parquet(path / "samples.parquet")
    except (OSError, ValueError) as e:
        raise SensitivityError(f"{path}: not a complete sensitivity directory: {e}") from None
    if manifest.get("kind") != "sensitivity":
        raise SensitivityError(f"{path}: manifest.json is not a sensitivity analysis's")
    return Sensitivity(table=table, samples=samples, method=manifest["method"],
                       parameters=list(manifest["parameters"]), measures=manifest["measures"],
                       manifest=manifest, notes=manifest.get("notes", []))


def headline_measures(measures: Sequence[str]) -> list[str]:
    """The measures printed by default: the headline figures and the disparate impact of
    listing, in that order."""
    head = [m for m in HEADLINE if m in measures]
    return head + [m for m in measures if m.startswith("di_listing_rate[")]
