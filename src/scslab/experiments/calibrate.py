"""Calibration: fit named scenario parameters to published figures.

``calibrate`` runs the scenario at seeds ``seed + r`` (common random numbers: every
evaluation draws the same randomness, so the objective moves only with the parameters) and
fits the parameters with ``scipy.optimize.least_squares`` on residuals (model - value) /
scale (:mod:`scslab.experiments.targets`), in log space relative to the starting values
(so a finite-difference step is 5% of the parameter: small enough to follow the curve,
large enough to move whole events), within bounds.  ``write_calibrated`` writes a scenario
that ``extends:`` the original with the fitted values.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.optimize import least_squares

from scslab.errors import ScenarioError, ScslabError
from scslab.experiments.targets import Target, load_targets, model_value, targets_until
from scslab.files import atomic_write_text
from scslab.run.options import RunOptions
from scslab.run.pipeline import run_replicates
from scslab.scenario.loader import (
    deep_merge,
    find_scenario,
    load_scenario,
    parse_set,
    shipped_scenarios,
)
from scslab.scenario.params import get_param, nested, set_param
from scslab.scenario.schema import Scenario

PROBABILITY_LEAVES = ("per_day", "coverage", "enforcement", "misattribution")
CALIBRATED_MARK = b"# Calibrated scenario written by scslab calibrate"  # heads what it writes


class CalibrationError(ScslabError):
    """A calibration that cannot be set up (bad targets file, parameter or bound)."""


@dataclass
class CalibrationResult:
    scenario: Scenario
    params: list[str]
    start: dict[str, float]
    fitted: dict[str, float]
    bounds: dict[str, tuple[float, float]]
    targets: list[Target]
    table: pd.DataFrame
    evaluations: int
    cost: float
    success: bool
    message: str
    sets: list[str] = field(default_factory=list)


def default_bounds(path: str, x0: float) -> tuple[float, float]:
    lo, hi = x0 / 20.0, x0 * 20.0
    if path.split(".")[-1] in PROBABILITY_LEAVES:
        hi = min(hi, 1.0)
    return lo, hi


def calibrate(
    scenario: str | Path, targets: str | Path | list[Target], params: list[str],
    options: RunOptions | None = None, *,
    bounds: list[tuple[float, float]] | None = None, start: list[float] | None = None,
    replicates: int = 1, max_evals: int = 40, on_eval=None, until: dt.date | None = None,
) -> CalibrationResult:
    """Fit ``params`` (dotted scenario paths) so the model matches ``targets``.

    ``options`` are applied to every evaluation (``sets`` to the scenario first); each
    evaluation averages ``replicates`` runs at seeds ``seed + r``.  With ``until``, only
    targets dated on or before it are fitted (an undated target counts as dated on the
    run's last day).
    """
    o = options or RunOptions()
    sets = list(o.sets)
    if not params:
        raise CalibrationError("give at least one parameter (--params a.b,c.d)")
    if isinstance(targets, list):
        tlist = targets
    else:
        _, tlist = load_targets(targets)
    base = load_scenario(scenario, sets=sets or None)
    run_end = base.start + dt.timedelta(days=(o.days or base.n_days) - 1)
    tlist = targets_until(tlist, until, run_end)
    if not tlist:
        raise CalibrationError(f"no target is dated on or before {until}; nothing to fit")
    data = base.model_dump(mode="python", exclude={"end"})
    seed = base.seed if o.seed is None else o.seed
    run_o = o.replace(sets=(), trace=False)
    x0 = np.array(start if start is not None else [get_param(data, p) for p in params],
                  dtype=float)
    if start is not None:
        for p in params:
            get_param(data, p)  # the field must exist
    if len(x0) != len(params):
        raise CalibrationError("give one --start value per parameter")
    if np.any(x0 <= 0):
        bad = [p for p, v in zip(params, x0, strict=True) if v <= 0]
        raise CalibrationError(f"starting values must be positive (fitting in log space): "
                               f"{', '.join(bad)}; give --start")
    bnds = bounds or [default_bounds(p, v) for p, v in zip(params, x0, strict=True)]
    if len(bnds) != len(params):
        raise CalibrationError("give one --bounds LO:HI per parameter")
    for p, v, (lo, hi) in zip(params, x0, bnds, strict=True):
        if not (0 < lo < hi):
            raise CalibrationError(f"bounds of {p}: need 0 < LO < HI (got {lo}:{hi})")
        if not lo < v < hi:
            raise CalibrationError(f"the starting value of {p} ({v:g}) is not inside its "
                                   f"bounds {lo:g}:{hi:g}")
    # u = 1 + log(x / x0): the start is u = 1, so diff_step 0.05 is a ~5% step in x
    lo_u = 1 + np.log([b[0] for b in bnds]) - np.log(x0)
    hi_u = 1 + np.log([b[1] for b in bnds]) - np.log(x0)
    cache: dict[tuple, np.ndarray] = {}

    def evaluate(x: np.ndarray) -> np.ndarray:
        d = base.model_dump(mode="python", exclude={"end"})
        for p, v in zip(params, x, strict=True):
            set_param(d, p, float(v))
        try:
            s = Scenario.model_validate(d)
        except Exception as e:
            raise ScenarioError([{"path": ", ".join(params), "value": list(map(float, x)),
                                  "message": f"fitted values are invalid: {e}"}]) from None
        vals = np.zeros(len(tlist))
        for rr in run_replicates(s, run_o, replicates=replicates, seed=seed,
                                 command="scslab calibrate"):
            vals += np.array([model_value(rr, t) for t in tlist]) / replicates
        return vals

    def residuals(u: np.ndarray) -> np.ndarray:
        key = tuple(np.round(u, 12))
        if key not in cache:
            x = x0 * np.exp(u - 1)
            cache[key] = evaluate(x)
            if on_eval is not None:
                on_eval(len(cache), dict(zip(params, x, strict=True)))
        vals = cache[key]
        return np.array([(v - t.value) / t.sigma for v, t in zip(vals, tlist, strict=True)])

    before = evaluate(x0)
    cache[tuple(np.ones(len(params)))] = before
    sol = least_squares(residuals, np.ones(len(params)), bounds=(lo_u, hi_u),
                        diff_step=0.05, max_nfev=max_evals, method="trf")
    fitted = x0 * np.exp(sol.x - 1)
    after = cache.get(tuple(np.round(sol.x, 12)))
    if after is None:
        after = evaluate(fitted)
    table = pd.DataFrame({
        "target": [t.name for t in tlist],
        "measure": [t.measure for t in tlist],
        "value": [t.value for t in tlist],
        "model_start": before,
        "model_fitted": after,
        "relative_error": [(a - t.value) / t.value if t.value else math.nan
                           for a, t in zip(after, tlist, strict=True)],
        "source": [t.source for t in tlist],
    })
    return CalibrationResult(
        scenario=base, params=list(params),
        start=dict(zip(params, map(float, x0), strict=True)),
        fitted=dict(zip(params, map(float, fitted), strict=True)),
        bounds=dict(zip(params, map(tuple, bnds), strict=True)),
        targets=tlist, table=table, evaluations=len(cache), cost=float(sol.cost),
        success=bool(sol.success), message=str(sol.message), sets=list(sets or []),
    )


def write_calibrated(res: CalibrationResult, scenario_ref: str | Path, out: str | Path, *,
                     targets_ref: str = "", command: str = "") -> Path:
    """Write a scenario that ``extends:`` the original with the fitted values."""
    out = Path(out)
    ref = str(scenario_ref)
    if ref not in shipped_scenarios() or Path(ref).is_file():
        path = find_scenario(ref)
        ref = os.path.relpath(path, out.absolute().parent)
    original = res.scenario.model_dump(mode="python", exclude={"end"})
    over: dict = parse_set(res.sets)
    for p, v in res.fitted.items():
        over = deep_merge(over, nested(p, float(f"{v:.6g}"), original))
    fitted_desc = ", ".join(f"{p} = {v:.6g}" for p, v in res.fitted.items())
    sources = list(dict.fromkeys(res.scenario.sources + [t.source for t in res.targets
                                                          if t.source]))
    doc = {
        "extends": ref,
        "name": f"{res.scenario.name}-calibrated"[:100],
        "description": (res.scenario.description.rstrip() + f" Calibrated by scslab calibrate "
                        f"to {targets_ref or 'targets'}: {fitted_desc}."),
        "sources": sources,
        **over,
    }
    header = (f"# Calibrated scenario written by scslab calibrate on "
              f"{dt.date.today().isoformat()}.\n"
              f"# {command}\n" if command else
              f"# Calibrated scenario written by scslab calibrate on "
              f"{dt.date.today().isoformat()}.\n")
    header += f"# fit: {res.evaluations} evaluations, cost {res.cost:.4g}; {res.message}\n"
    text = header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out, text)
    except OSError as e:
        raise CalibrationError(f"{out}: cannot write the calibrated scenario: "
                               f"{e.strerror or e}") from None
    return out
