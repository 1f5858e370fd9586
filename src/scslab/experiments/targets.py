"""Published figures with their sources, and a run's values for them.

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

Shipped target sets live in ``scslab/targets/`` and can be named without a path.
``scslab targets documented-china --scale 0.01`` runs the scenario at 1% of its
population and prints each published figure beside the model's, scaled back up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from scslab.errors import ScslabError
from scslab.metrics.measures import run_measures

TARGETS_DIR = Path(str(resources.files("scslab") / "targets"))


class TargetsError(ScslabError):
    """A targets file that cannot be read, or a target a run cannot be measured against."""


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
            raise TargetsError(
                f"{ref}: no such targets file or shipped target set; shipped: "
                + (", ".join(shipped) or "none")
            )
        path = shipped[str(ref)]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise TargetsError(f"{path}: cannot read the targets file: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("targets"), list):
        raise TargetsError(f"{path}: a targets file is a mapping with a 'targets' list")
    allowed = {f for f in Target.__dataclass_fields__}
    targets = []
    for i, t in enumerate(data["targets"]):
        where = f"{path}: targets[{i}]"
        if not isinstance(t, dict):
            raise TargetsError(f"{where}: each target is a mapping")
        extra = set(t) - allowed
        if extra:
            raise TargetsError(f"{where}: unknown key(s) {', '.join(sorted(extra))}; "
                                   f"allowed: {', '.join(sorted(allowed))}")
        for need in ("measure", "value"):
            if need not in t:
                raise TargetsError(f"{where}: '{need}' is required")
        try:
            value = float(t["value"])
        except (TypeError, ValueError):
            raise TargetsError(f"{where}: value must be a number (got {t['value']!r})"
                                   ) from None
        at = t.get("at")
        if at is not None and not isinstance(at, dt.date):
            try:
                at = dt.date.fromisoformat(str(at))
            except ValueError:
                raise TargetsError(f"{where}: at must be a date YYYY-MM-DD (got {at!r})"
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
        raise TargetsError(f"{path}: the targets list is empty")
    return {k: v for k, v in data.items() if k != "targets"}, targets


def model_value(rr, target: Target) -> float:
    """The run's value of a target's measure (scaled to ``per_residents`` if given)."""
    ts = rr.timeseries
    m = target.measure
    if target.at is not None:
        if m not in ts.columns:
            raise TargetsError(f"target {target.name}: {m!r} is not a timeseries column; "
                                   "columns: " + ", ".join(ts.columns[2:]))
        first, last = _as_date(ts["date"].iloc[0]), _as_date(ts["date"].iloc[-1])
        if target.at < first or target.at > last:
            raise TargetsError(
                f"target {target.name}: {target.at} is outside the run "
                f"({first} to {last})"
            )
        # one row per day from the first: the row of a date is its distance in days (a
        # calibration reads thousands of runs, so no conversion of the whole column)
        idx = (target.at - first).days
        col = ts[m].to_numpy(dtype=float)
        v = float(col[: idx + 1].sum()) if target.cumulative else float(col[idx])
    else:
        v = _summary_value(rr.summary, m)
        if v is None and m in ts.columns:
            col = ts[m].to_numpy(dtype=float)
            v = float(col.sum()) if target.cumulative else float(col[-1])
        if v is None:
            v = run_measures(rr).get(m)
        if v is None:
            keys = [k for k, x in rr.summary.items() if isinstance(x, int | float)]
            raise TargetsError(
                f"target {target.name}: unknown measure {m!r}; use a summary key "
                f"({', '.join(keys)}), a timeseries column or a comparison measure"
            )
    if target.per_residents:
        v *= target.per_residents / float(rr.manifest["residents"])
    return v


def _as_date(v) -> dt.date:
    return v.date() if isinstance(v, dt.datetime) else v if isinstance(v, dt.date) else \
        pd.Timestamp(v).date()


def _summary_value(summary: dict, key: str) -> float | None:
    node = summary
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None




def check_targets(run, targets: str | Path) -> tuple[pd.DataFrame, float]:
    """One row per target: published value, model value, relative error, source; and the
    file's tolerance (relative, default 0.15)."""
    meta, tlist = load_targets(targets)
    tol = float(meta.get("tolerance", 0.15))
    rows = []
    for t in tlist:
        v = model_value(run, t)
        err = v / t.value - 1 if t.value else float("nan")
        rows.append({"target": t.name, "date": t.at, "published": t.value, "model": v,
                     "error": err, "within": abs(err) <= tol, "source": t.source})
    return pd.DataFrame(rows), tol
