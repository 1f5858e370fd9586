"""Published figures with their sources, and a run's values for them.

A targets file (YAML) lists figures with their sources::

    description: what these figures are
    scenario: documented-china       # optional: the scenario the figures are for
    tolerance: 0.15                  # optional: relative error counted as a match
    until: 2018-05-31                # optional: no figure here is dated later
    holdout: documented-china-holdout  # optional: later figures, read only to validate
    targets:
      - name: flights_blocked_feb_2017
        measure: blocked_flight      # timeseries column, summary key or comparison measure;
                                     # columns can be summed (a + b) and divided
                                     # (a / (a + b)) for shares
        at: 2017-02-28               # optional: the value on that date
        cumulative: true             # sum of the column up to ``at`` (or over the run)
        value: 6.15e6
        per_residents: 1.4e9         # optional: the figure counts this many residents;
                                     # model counts are scaled by per_residents / residents
        scale: 6.15e5                # optional: residual scale (default |value|: relative)
        source: "China Daily, Feb 2017"

A holdout file has the same form (with ``after:`` instead of ``until:``).  Fitting
(``scslab calibrate``) reads only the file it is given; validation (``scslab targets``)
also reads its holdout file and reports the errors of figures dated after the cut-off apart
from those on or before it.  A target without ``at`` is a value over the whole run and
counts as dated on the run's last day.

Shipped target sets live in ``scslab/targets/`` and can be named without a path.
``scslab targets documented-china --scale 0.01`` runs the scenario at 1% of its
population and prints each published figure beside the model's, scaled back up.
"""

from __future__ import annotations

import datetime as dt
import math
from importlib import resources
from pathlib import Path
from typing import Annotated

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, model_validator

from scslab.errors import ScenarioError, ScslabError
from scslab.metrics.measures import run_measures
from scslab.scenario.loader import MAX_FILE_BYTES, key_lines, read_yaml_text

TARGETS_DIR = Path(str(resources.files("scslab") / "targets"))
IN_SAMPLE, OUT_OF_SAMPLE = "in-sample", "out-of-sample"

Finite = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
_COLUMN = r"[A-Za-z_][A-Za-z0-9_.]*"
_SUM = rf"\(?\s*{_COLUMN}(\s*\+\s*{_COLUMN})*\s*\)?"
MEASURE_PATTERN = rf"^\s*{_SUM}(\s*/\s*{_SUM})?\s*$"


class TargetsError(ScslabError):
    """A targets file that cannot be read, or a target a run cannot be measured against."""


class Target(BaseModel):
    """One published figure: what it measures, when, its value and its source."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    measure: Annotated[str, Field(pattern=MEASURE_PATTERN)]
    value: Finite
    at: dt.date | None = None
    cumulative: StrictBool = False
    per_residents: Positive | None = None
    scale: Positive | None = None
    source: str = ""

    @model_validator(mode="after")
    def _name(self):
        if self.value == 0 and self.scale is None:
            raise ValueError("a target of 0 needs a 'scale' (the residual is (model - "
                             "value) / scale; by default scale is |value|)")
        if "/" in self.measure and self.per_residents is not None:
            raise ValueError("a share (a measure with /) is not scaled; drop per_residents")
        if not self.name:
            self.name = self.measure.replace(" ", "") + (f"@{self.at}" if self.at else "")
        return self

    @property
    def sigma(self) -> float:
        return float(self.scale) if self.scale else max(abs(self.value), 1e-12)

    def date(self, run_end: dt.date) -> dt.date:
        """The date the figure describes: ``at``, or the run's last day if undated."""
        return self.at if self.at is not None else run_end


class TargetsFile(BaseModel):
    """A targets file: its figures and what they are for."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    scenario: str | None = None
    tolerance: Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)] = 0.15
    until: dt.date | None = None
    after: dt.date | None = None
    holdout: str | None = None
    targets: Annotated[list[Target], Field(min_length=1)]

    @model_validator(mode="after")
    def _dates(self):
        names = [t.name for t in self.targets]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"target names must be distinct; repeated: {', '.join(dup)}")
        for i, t in enumerate(self.targets):
            if self.until is not None and (t.at is None or t.at > self.until):
                raise ValueError(f"targets[{i}] ({t.name}) is dated {t.at}, after this "
                                 f"file's until: {self.until}; move it to the holdout file")
            if self.after is not None and (t.at is None or t.at <= self.after):
                raise ValueError(f"targets[{i}] ({t.name}) is dated {t.at}, not after this "
                                 f"file's after: {self.after}")
        return self


def shipped_targets() -> dict[str, Path]:
    return {p.stem: p for p in sorted(TARGETS_DIR.glob("*.yaml"))}


def find_targets(ref: str | Path, relative_to: Path | None = None) -> Path:
    """The path of a targets file: a path (relative to ``relative_to`` if given and found
    there), or the name of a shipped target set."""
    for base in ([relative_to] if relative_to is not None else []) + [None]:
        path = (base / ref) if base is not None else Path(ref)
        if path.is_file():
            return path
    shipped = shipped_targets()
    if str(ref) not in shipped:
        raise TargetsError(f"{ref}: no such targets file or shipped target set; shipped: "
                           + (", ".join(shipped) or "none"))
    return shipped[str(ref)]


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
    "string_pattern_mismatch": "a measure is a column or summary key, or columns summed "
                               "with + and optionally divided: a / (a + b)",
}


def _render(err: ValidationError, path: Path, lines: dict) -> str:
    """Each problem on a line: file:line: path: what is wrong (got value); allowed."""
    problems = []
    for e in err.errors(include_url=False):
        loc = [str(p) for p in e["loc"] if not str(p).startswith("function")]
        dotted = "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in loc).lstrip(".")
        msg = _ALLOWED.get(e["type"]) or e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            model = Target if len(loc) > 2 and loc[0] == "targets" else TargetsFile
            msg = "unknown key; allowed: " + ", ".join(model.model_fields)
        line = None
        for n in range(len(loc), 0, -1):
            line = lines.get(tuple(loc[:n]))
            if line:
                break
        value = "" if e["type"] in ("missing", "extra_forbidden") else e.get("input")
        if isinstance(value, dict | list):
            value = ""
        problems.append({"file": str(path), "line": line, "path": dotted, "value": value,
                         "message": msg})
    return ScenarioError(problems).render()


def read_targets_file(ref: str | Path, relative_to: Path | None = None
                      ) -> tuple[Path, TargetsFile]:
    """Read and validate a targets file (a path, or the name of a shipped target set)."""
    path = find_targets(ref, relative_to)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise TargetsError(f"{path}: too large to be a targets file")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        why = e.reason if isinstance(e, UnicodeDecodeError) else (e.strerror or str(e))
        raise TargetsError(f"{path}: cannot read the targets file: {why}") from None
    try:
        data, node = read_yaml_text(text, str(path))  # the scenario files' YAML policy
    except ScenarioError as e:
        raise TargetsError(e.render()) from None
    if not isinstance(data, dict) or not isinstance(data.get("targets"), list):
        raise TargetsError(f"{path}: a targets file is a mapping with a 'targets' list")
    try:
        return path, TargetsFile.model_validate(data)
    except ValidationError as e:
        raise TargetsError(_render(e, path, key_lines(node))) from None


def load_targets(ref: str | Path) -> tuple[dict, list[Target]]:
    """Read a targets file (a path, or the name of a shipped target set): the file's
    settings (description, tolerance, ...) and its targets."""
    _, tf = read_targets_file(ref)
    return tf.model_dump(exclude={"targets"}), list(tf.targets)


def load_holdout(ref: str | Path) -> list[Target]:
    """The targets of the holdout file a targets file names (none if it names none)."""
    path, tf = read_targets_file(ref)
    if not tf.holdout:
        return []
    _, ho = read_targets_file(tf.holdout, relative_to=path.parent)
    return list(ho.targets)


def holdout_cutoff(ref: str | Path) -> dt.date | None:
    """The cut-off a targets file declares (``until:``) when it names a holdout file: the
    default split of ``scslab targets``; None if it names no holdout file."""
    _, tf = read_targets_file(ref)
    return tf.until if tf.holdout else None


def targets_until(targets: list[Target], until: dt.date | None, run_end: dt.date
                  ) -> list[Target]:
    """The targets dated on or before ``until`` (all if ``until`` is None); an undated
    target describes the whole run and counts as dated on its last day."""
    if until is None:
        return list(targets)
    return [t for t in targets if t.date(run_end) <= until]


def split_targets(targets: list[Target], after: dt.date, run_end: dt.date
                  ) -> tuple[list[Target], list[Target]]:
    """(in-sample, out-of-sample): targets dated on or before ``after``, and later ones."""
    return ([t for t in targets if t.date(run_end) <= after],
            [t for t in targets if t.date(run_end) > after])


def measure_terms(measure: str) -> tuple[list[str], list[str]]:
    """The columns a measure sums, and those its denominator sums (empty: no division)."""
    num, _, den = measure.partition("/")

    def names(side: str) -> list[str]:
        return [c.strip() for c in side.strip().strip("()").split("+") if c.strip()]

    return names(num), names(den)


def _run_end(rr) -> dt.date:
    return pd.to_datetime(rr.timeseries["date"]).dt.date.iloc[-1]


def _column_value(rr, target: Target, m: str) -> float:
    ts = rr.timeseries
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
        return float(col[: idx + 1].sum()) if target.cumulative else float(col[idx])
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
    return v


def model_value(rr, target: Target) -> float:
    """The run's value of a target's measure: a sum of columns, or a ratio of sums (a
    share); counts are scaled to ``per_residents`` if given."""
    num, den = measure_terms(target.measure)
    v = sum(_column_value(rr, target, m) for m in num)
    if den:
        d = sum(_column_value(rr, target, m) for m in den)
        return v / d if d else math.nan
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


def check_targets(run, targets: str | Path, *, holdout_after: dt.date | None = None
                  ) -> tuple[pd.DataFrame, float]:
    """One row per target: published value, model value, relative error, source, and
    ``sample``; and the file's tolerance (relative, default 0.15).

    Without ``holdout_after`` the rows are the file's targets, all in-sample.  With it,
    the rows are the file's targets and those of its holdout file; a row is in-sample when
    dated on or before ``holdout_after`` and out-of-sample after it.
    """
    meta, tlist = load_targets(targets)
    tol = float(meta.get("tolerance", 0.15))
    rows = []
    groups = [("targets", tlist)]
    if holdout_after is not None:
        groups.append(("holdout", load_holdout(targets)))
    end = _run_end(run)
    for file, group in groups:
        for t in group:
            v = model_value(run, t)
            err = v / t.value - 1 if t.value else float("nan")
            sample = IN_SAMPLE if holdout_after is None or t.date(end) <= holdout_after \
                else OUT_OF_SAMPLE
            rows.append({"target": t.name, "date": t.at, "published": t.value, "model": v,
                         "error": err, "within": abs(err) <= tol, "sample": sample,
                         "file": file, "source": t.source})
    df = pd.DataFrame(rows)
    order = {IN_SAMPLE: 0, OUT_OF_SAMPLE: 1}
    df = df.sort_values(["sample", "date"], key=lambda c: c.map(order) if c.name == "sample"
                        else pd.to_datetime(c), kind="stable").reset_index(drop=True)
    return df, tol


def sample_errors(table: pd.DataFrame) -> pd.DataFrame:
    """Per sample (in-sample, out-of-sample): how many targets, how many within tolerance,
    and the mean and largest absolute relative error."""
    g = table.assign(abs_error=table["error"].abs()).groupby("sample", sort=False)
    return pd.DataFrame({"targets": g.size(), "within": g["within"].sum(),
                         "mean_abs_error": g["abs_error"].mean(),
                         "max_abs_error": g["abs_error"].max()})
