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

A targets file is read by the scenario loader's YAML reader (same shape checks) and
validated with pydantic before any run: values finite, populations and scales positive,
dates real dates, unknown keys refused; every problem names the file, line, path, value
and what is allowed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, model_validator

from scslab.errors import ScenarioError, ScslabError
from scslab.metrics.measures import run_measures
from scslab.scenario.loader import MAX_FILE_BYTES, key_lines, read_yaml_text

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


Finite = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class TargetSpec(BaseModel):
    """One published figure, as written in a targets file."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    measure: Annotated[str, Field(min_length=1)]
    value: Finite
    at: dt.date | None = None
    cumulative: StrictBool = False
    per_residents: Positive | None = None
    scale: Positive | None = None
    source: str = ""

    @model_validator(mode="after")
    def _zero_needs_a_scale(self):
        if self.value == 0 and self.scale is None:
            raise ValueError("a target of 0 needs a 'scale' (the residual is (model - "
                             "value) / scale; by default scale is |value|)")
        return self


class TargetsFile(BaseModel):
    """A targets file: published figures with their sources."""

    model_config = ConfigDict(extra="forbid")
    description: str = ""
    scenario: str | None = None
    sources: list[str] = []
    tolerance: Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)] = 0.15
    targets: Annotated[list[TargetSpec], Field(min_length=1)]


def load_targets(ref: str | Path) -> tuple[dict, list[Target]]:
    """Read and validate a targets file (a path, or the name of a shipped target set)."""
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
        if path.stat().st_size > MAX_FILE_BYTES:
            raise TargetsError(f"{path}: too large to be a targets file")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        why = e.reason if isinstance(e, UnicodeDecodeError) else (e.strerror or str(e))
        raise TargetsError(f"{path}: cannot read the targets file: {why}") from None
    try:
        data, node = read_yaml_text(text, str(path))
    except ScenarioError as e:
        raise TargetsError(e.render()) from None
    if not isinstance(data, dict) or not isinstance(data.get("targets"), list):
        raise TargetsError(f"{path}: a targets file is a mapping with a 'targets' list")
    try:
        spec = TargetsFile.model_validate(data)
    except ValidationError as e:
        raise TargetsError(_render(e, path, key_lines(node))) from None
    targets = [
        Target(name=t.name or f"{t.measure}{'@' + str(t.at) if t.at else ''}",
               measure=t.measure, value=float(t.value), at=t.at, cumulative=t.cumulative,
               per_residents=t.per_residents, scale=t.scale, source=t.source)
        for t in spec.targets
    ]
    meta = {k: v for k, v in data.items() if k != "targets"}
    meta["tolerance"] = spec.tolerance
    return meta, targets


_ALLOWED = {
    "finite_number": "expected a finite number (not .nan or .inf)",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "greater_than": "expected a number above 0",
    "date_parsing": "expected a date YYYY-MM-DD",
    "date_from_datetime_parsing": "expected a date YYYY-MM-DD",
    "date_type": "expected a date YYYY-MM-DD",
    "bool_type": "expected true or false",
    "missing": "required field is missing",
}


def _render(err: ValidationError, path: Path, lines: dict) -> str:
    """Each problem on a line: file:line: path: what is wrong (got value); allowed."""
    problems = []
    for e in err.errors(include_url=False):
        loc = [str(p) for p in e["loc"]]
        dotted = "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in loc).lstrip(".")
        msg = _ALLOWED.get(e["type"]) or e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            model = TargetSpec if len(loc) > 1 else TargetsFile
            msg = "unknown key; allowed: " + ", ".join(model.model_fields)
        line = None
        for n in range(len(loc), 0, -1):
            line = lines.get(tuple(loc[:n]))
            if line:
                break
        problems.append({"file": str(path), "line": line, "path": dotted,
                         "value": "" if e["type"] in ("missing", "extra_forbidden")
                         else e.get("input"), "message": msg})
    return ScenarioError(problems).render()


def model_value(rr, target: Target) -> float:
    """The run's value of a target's measure (scaled to ``per_residents`` if given)."""
    ts = rr.timeseries
    m = target.measure
    if target.at is not None:
        if m not in ts.columns:
            raise TargetsError(f"target {target.name}: {m!r} is not a timeseries column; "
                                   "columns: " + ", ".join(ts.columns[2:]))
        dates = pd.to_datetime(ts["date"]).dt.date
        if target.at < dates.iloc[0] or target.at > dates.iloc[-1]:
            raise TargetsError(
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
    tol = float(meta["tolerance"])
    rows = []
    for t in tlist:
        v = model_value(run, t)
        err = v / t.value - 1 if t.value else float("nan")
        rows.append({"target": t.name, "date": t.at, "published": t.value, "model": v,
                     "error": err, "within": abs(err) <= tol, "source": t.source})
    return pd.DataFrame(rows), tol
