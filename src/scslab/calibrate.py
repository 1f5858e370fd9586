"""Calibration: fit named scenario parameters to published figures.

A targets file (YAML) lists figures with their sources::

    description: what these figures are
    targets:
      - name: flights_blocked_feb_2017
        measure: blocked_flight      # timeseries column, summary key or comparison measure
        at: 2017-02-28               # optional: the value on that date
        cumulative: true             # sum of the column up to ``at`` (or over the run)
        value: 6.15e6
        per_residents: 1.4e9         # optional: the figure counts this many residents;
                                     # model counts are scaled by per_residents / residents
        scale: 6.15e5                # optional: residual scale (default |value|: relative)
        source: "China Daily, Feb 2017"

``calibrate`` runs the scenario at seeds ``seed + r`` (common random numbers: every
evaluation draws the same randomness, so the objective moves only with the parameters) and
fits the parameters with ``scipy.optimize.least_squares`` on residuals (model - value) /
scale, in log space relative to the starting values (so a finite-difference step is 5%
of the parameter: small enough to follow the curve, large enough to move whole events),
within bounds.  ``write_calibrated`` writes a scenario that
``extends:`` the original with the fitted values.

Shipped target sets live in ``scslab/targets/`` and can be named without a path.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
import yaml

from scslab.errors import ScenarioError, ScslabError
from scslab.scenario.schema import Scenario

TARGETS_DIR = Path(str(resources.files("scslab") / "targets"))
PROBABILITY_LEAVES = ("per_day", "coverage", "enforcement", "misattribution")


class CalibrationError(ScslabError):
    """A calibration that cannot be set up (bad targets file, parameter or bound)."""


@dataclass
class Target:
    name: str
    measure: str
    value: float
    at: dt.date | None = None
    cumulative: bool = False
    per_residents: float | None = None
    scale: float | None = None
    source: str = ""

    @property
    def sigma(self) -> float:
        return float(self.scale) if self.scale else max(abs(self.value), 1e-12)


def shipped_targets() -> dict[str, Path]:
    return {p.stem: p for p in sorted(TARGETS_DIR.glob("*.yaml"))}


def load_targets(ref: str | Path) -> tuple[dict, list[Target]]:
    """Read a targets file (a path, or the name of a shipped target set)."""
    path = Path(ref)
    if not path.is_file():
        shipped = shipped_targets()
        if str(ref) not in shipped:
            raise CalibrationError(
                f"{ref}: no such targets file or shipped target set; shipped: "
                + (", ".join(shipped) or "none")
            )
        path = shipped[str(ref)]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise CalibrationError(f"{path}: cannot read the targets file: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("targets"), list):
        raise CalibrationError(f"{path}: a targets file is a mapping with a 'targets' list")
    allowed = {f for f in Target.__dataclass_fields__}
    targets = []
    for i, t in enumerate(data["targets"]):
        where = f"{path}: targets[{i}]"
        if not isinstance(t, dict):
            raise CalibrationError(f"{where}: each target is a mapping")
        extra = set(t) - allowed
        if extra:
            raise CalibrationError(f"{where}: unknown key(s) {', '.join(sorted(extra))}; "
                                   f"allowed: {', '.join(sorted(allowed))}")
        for need in ("measure", "value"):
            if need not in t:
                raise CalibrationError(f"{where}: '{need}' is required")
        try:
            value = float(t["value"])
        except (TypeError, ValueError):
            raise CalibrationError(f"{where}: value must be a number (got {t['value']!r})"
                                   ) from None
        at = t.get("at")
        if at is not None and not isinstance(at, dt.date):
            try:
                at = dt.date.fromisoformat(str(at))
            except ValueError:
                raise CalibrationError(f"{where}: at must be a date YYYY-MM-DD (got {at!r})"
                                       ) from None
        targets.append(Target(
            name=str(t.get("name") or f"{t['measure']}{'@' + str(at) if at else ''}"),
            measure=str(t["measure"]), value=value, at=at,
            cumulative=bool(t.get("cumulative", False)),
            per_residents=float(t["per_residents"]) if t.get("per_residents") else None,
            scale=float(t["scale"]) if t.get("scale") else None,
            source=str(t.get("source", "")),
        ))
    if not targets:
        raise CalibrationError(f"{path}: the targets list is empty")
    return {k: v for k, v in data.items() if k != "targets"}, targets


def model_value(rr, target: Target) -> float:
    """The run's value of a target's measure (scaled to ``per_residents`` if given)."""
    ts = rr.timeseries
    m = target.measure
    if target.at is not None:
        if m not in ts.columns:
            raise CalibrationError(f"target {target.name}: {m!r} is not a timeseries column; "
                                   "columns: " + ", ".join(ts.columns[2:]))
        dates = pd.to_datetime(ts["date"]).dt.date
        if target.at < dates.iloc[0] or target.at > dates.iloc[-1]:
            raise CalibrationError(
                f"target {target.name}: {target.at} is outside the run "
                f"({dates.iloc[0]} to {dates.iloc[-1]})"
            )
        idx = int(np.searchsorted(dates.to_numpy(), target.at, side="right")) - 1
        col = ts[m].to_numpy(dtype=float)
        v = float(col[: idx + 1].sum()) if target.cumulative else float(col[idx])
    else:
        v = _summary_value(rr.summary, m)
        if v is None and m in ts.columns:
            col = ts[m].to_numpy(dtype=float)
            v = float(col.sum()) if target.cumulative else float(col[-1])
        if v is None:
            from scslab.compare import measures

            v = measures(rr).get(m)
        if v is None:
            keys = [k for k, x in rr.summary.items() if isinstance(x, int | float)]
            raise CalibrationError(
                f"target {target.name}: unknown measure {m!r}; use a summary key "
                f"({', '.join(keys)}), a timeseries column or a comparison measure"
            )
    if target.per_residents:
        v *= target.per_residents / float(rr.manifest["residents"])
    return v


def _summary_value(summary: dict, key: str) -> float | None:
    node = summary
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


# ---- parameters as dotted paths into the scenario data -------------------------------------
def _walk(data: dict, path: str, create: bool = False):
    parts = path.split(".")
    node = data
    for i, p in enumerate(parts[:-1]):
        key = _key(node, p)
        if key is None:
            if not create:
                raise CalibrationError(f"--params {path}: no {'.'.join(parts[: i + 1])!r} in "
                                       "the scenario")
            node[p] = {}
            key = p
        node = node[key]
        if not isinstance(node, dict):
            raise CalibrationError(f"--params {path}: {'.'.join(parts[: i + 1])} is not a "
                                   "mapping")
    return node, parts[-1]


def _key(node, part: str):
    if not isinstance(node, dict):
        return None
    if part in node:
        return part
    return next((k for k in node if str(k) == part), None)


def get_param(data: dict, path: str) -> float:
    node, last = _walk(data, path)
    key = _key(node, last)
    if key is None:
        raise CalibrationError(f"--params {path}: the scenario has no such field")
    v = node[key]
    if isinstance(v, dict):
        raise CalibrationError(
            f"--params {path}: the value is dated ({', '.join(map(str, v))}); fit one "
            f"entry, e.g. {path}.{next(iter(v))}"
        )
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise CalibrationError(f"--params {path}: not a number (got {v!r})")
    return float(v)


def set_param(data: dict, path: str, value: float) -> None:
    node, last = _walk(data, path, create=True)
    key = _key(node, last)
    node[last if key is None else key] = value


def nested(path: str, value, data: dict | None = None) -> dict:
    """``a.b.c``, v -> {a: {b: {c: v}}} (keys keep the original scenario's types)."""
    out: dict = {}
    node, src = out, data
    parts = path.split(".")
    for p in parts[:-1]:
        k = _key(src, p) if src is not None else None
        k = p if k is None else k
        node = node.setdefault(k, {})
        src = src.get(k) if isinstance(src, dict) else None
    k = _key(src, parts[-1]) if src is not None else None
    node[parts[-1] if k is None else k] = value
    return out


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
    scenario: str | Path, targets: str | Path | list[Target], params: list[str], *,
    bounds: list[tuple[float, float]] | None = None, start: list[float] | None = None,
    residents: int | None = None, days: int | None = None, seed: int | None = None,
    replicates: int = 1, max_evals: int = 40, sets: list[str] | None = None,
    scale: float | None = None, on_eval=None,
) -> CalibrationResult:
    """Fit ``params`` (dotted scenario paths) so the model matches ``targets``."""
    from scipy.optimize import least_squares

    from scslab import api
    from scslab.scenario.loader import load_scenario

    if not params:
        raise CalibrationError("give at least one parameter (--params a.b,c.d)")
    if isinstance(targets, list):
        tlist = targets
    else:
        _, tlist = load_targets(targets)
    base = load_scenario(scenario, sets=sets)
    data = base.model_dump(mode="python", exclude={"end"})
    seed = base.seed if seed is None else seed
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
        for r in range(replicates):
            rr = api.run(s, seed=seed + r, residents=residents, days=days, trace=False,
                         scale=scale, command="scslab calibrate")
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
    from scslab.scenario.loader import deep_merge, find_scenario, parse_set, shipped_scenarios

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
        "name": f"{res.scenario.name}_calibrated"[:60],
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
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as e:
        raise CalibrationError(f"{out}: cannot write the calibrated scenario: "
                               f"{e.strerror or e}") from None
    return out


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.6g}"


def _bounds_option(text: str | None, n: int) -> list[tuple[float, float]] | None:
    if not text:
        return None
    items = [b for b in text.split(",") if b]
    if len(items) != n:
        raise CalibrationError(f"--bounds: give one LO:HI per parameter ({n}), comma-separated")
    out = []
    for b in items:
        try:
            lo, hi = b.split(":")
            out.append((float(lo), float(hi)))
        except ValueError:
            raise CalibrationError(f"--bounds {b}: write LO:HI") from None
    return out


def register(app) -> None:
    """Add ``scslab calibrate`` to the CLI."""
    import sys
    @app.command("calibrate")
    def calibrate_cmd(
        scenario: Annotated[str, typer.Argument(help="shipped scenario name or path")],
        targets: Annotated[str, typer.Option(help="targets YAML file or shipped target set")],
        params: Annotated[str, typer.Option(help="comma-separated dotted scenario paths")],
        out_file: Annotated[Path | None, typer.Option(
            "--out", help="calibrated scenario YAML (default: NAME_calibrated.yaml)")] = None,
        bounds: Annotated[str | None, typer.Option(
            help="LO:HI per parameter, comma-separated (default: start/20 to start*20)")
        ] = None,
        start: Annotated[str | None, typer.Option(
            help="starting values, comma-separated (default: the scenario's)")] = None,
        residents: Annotated[int | None, typer.Option(help="run at this population "
                                                      "(counts scale by per_residents)", min=1)
                             ] = None,
        scale: Annotated[float | None, typer.Option(
            help="run at population x F (counts scale by per_residents)")] = None,
        days: Annotated[int | None, typer.Option(help="override the period", min=1)] = None,
        seed: Annotated[int | None, typer.Option(help="first seed", min=0)] = None,
        replicates: Annotated[int, typer.Option(help="seeds averaged per evaluation",
                                                min=1)] = 1,
        max_evals: Annotated[int, typer.Option(help="most model evaluations", min=2)] = 40,
        set_: Annotated[list[str] | None, typer.Option("--set", help="a.b.c=VALUE override")
                        ] = None,
    ) -> None:
        """Fit scenario parameters to published figures and write a calibrated scenario."""
        from rich.markup import escape
        from rich.table import Table

        from scslab.cli import console, fail, out

        try:
            plist = [p.strip() for p in params.split(",") if p.strip()]
            bnds = _bounds_option(bounds, len(plist))
            x0 = None
            if start:
                try:
                    x0 = [float(v) for v in start.split(",")]
                except ValueError:
                    raise CalibrationError(f"--start {start}: numbers, comma-separated"
                                           ) from None
            res = calibrate(
                scenario, targets, plist, bounds=bnds, start=x0, residents=residents,
                days=days, seed=seed, replicates=replicates, max_evals=max_evals, sets=set_,
                scale=scale,
                on_eval=lambda n, x: console.print(
                    f"[dim]evaluation {n}: "
                    + ", ".join(f"{escape(k)}={v:.6g}" for k, v in x.items()) + "[/dim]"),
            )
            target = out_file or Path(f"{res.scenario.name}_calibrated.yaml")
            path = write_calibrated(res, scenario, target, targets_ref=str(targets),
                                    command="scslab " + " ".join(sys.argv[1:]))
        except ScslabError as e:
            fail(e)
        pt = Table(box=None, title="fit")
        pt.add_column("parameter", no_wrap=True)
        for c in ("start", "fitted", "bounds"):
            pt.add_column(c, no_wrap=True)
        for p in res.params:
            lo, hi = res.bounds[p]
            pt.add_row(escape(p), f"{res.start[p]:.6g}", f"{res.fitted[p]:.6g}",
                       f"{lo:.4g} to {hi:.4g}")
        out.print(pt)
        tt = Table(box=None)
        for c in ("target", "value", "model (start)", "model (fitted)", "error"):
            tt.add_column(c, no_wrap=True)
        for row in res.table.itertuples(index=False):
            tt.add_row(escape(row.target), _num(row.value), _num(row.model_start),
                       _num(row.model_fitted), f"{row.relative_error:+.1%}")
        out.print(tt)
        for row in res.table.itertuples(index=False):
            if row.source:
                out.print(f"  {row.target}: {row.source}", soft_wrap=True, markup=False,
                          highlight=False)
        out.print(f"{res.evaluations} evaluations, cost {res.cost:.4g} ({res.message})")
        out.print(f"calibrated scenario: {path}", soft_wrap=True, markup=False, highlight=False)
