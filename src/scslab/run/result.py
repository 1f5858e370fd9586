"""A finished run as DataFrames, in memory or read back from its run directory."""

from __future__ import annotations

import functools
import html
import platform
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pandas as pd

from scslab.drawing import draw
from scslab.outputs.rundir import read_manifest, read_summary, read_table, scenario_from_manifest
from scslab.scenario.schema import Scenario

TRACE_TABLES = ("records", "list_events", "residents", "firms")


@dataclass
class RunResult:
    """A finished run: its tables as DataFrames, its summary and manifest."""

    scenario: Scenario
    timeseries: pd.DataFrame
    groups: pd.DataFrame
    scores: pd.DataFrame
    summary: dict
    manifest: dict
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    path: Path | None = None

    @property
    def records(self) -> pd.DataFrame | None:
        """Every record with provenance (runs with ``outputs.records`` or ``trace=True``)."""
        return self.extra.get("records")

    @property
    def list_events(self) -> pd.DataFrame | None:
        return self.extra.get("list_events")

    @property
    def residents(self) -> pd.DataFrame | None:
        return self.extra.get("residents")

    @property
    def firms(self) -> pd.DataFrame | None:
        return self.extra.get("firms")

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"timeseries": self.timeseries, "groups": self.groups, "scores": self.scores,
                **self.extra}

    def plot(self, chart: str = "list_sizes"):
        """An Altair chart of this run for notebooks: list sizes over time by default, or
        any chart of the report by key (``scslab.report.charts.CHARTS``)."""
        return draw("run", self, chart)

    @property
    def scale(self) -> float:
        """The population scale of the run (``--scale``; 1 for the whole population)."""
        return float(self.summary.get("scale", self.manifest.get("scale", 1.0)) or 1.0)

    def _figures(self) -> list[tuple[str, str, str]]:
        """(what, value, scaled-up value or "") for the displays."""
        s, scale = self.summary, self.scale
        up = s.get("scaled", {}) if scale != 1.0 else {}

        def count(key: str) -> tuple[str, str]:
            v = s.get(key)
            if v is None:
                return "", ""
            return f"{v:,}", (f"{up[key]:,.0f}" if key in up else "")

        blocked = sum(s.get("blocked", {}).values())
        rows = [("residents", *count("residents")), ("listed at end", *count("listed_end")),
                ("new listings", *count("listings_new")),
                ("wrongful share of list-days",
                 f"{s.get('wrongful_share_of_list_days', 0.0):.1%}", ""),
                ("blocked attempts", f"{blocked:,}",
                 f"{blocked / scale:,.0f}" if scale != 1.0 else ""),
                ("records created", *count("records_created"))]
        return rows

    def _where(self) -> str:
        return (f"at {self.path}" if self.path else
                "in memory (nothing written: pass out=DIR to keep it and load_run it later)")

    def __repr__(self) -> str:
        s, scale = self.summary, self.scale
        lines = [f"RunResult of {self.scenario.name}: {s.get('residents', 0):,} residents x "
                 f"{s.get('days', 0):,} days from {s.get('start', '?')}, seed "
                 f"{self.manifest.get('seed', self.scenario.seed)}, {self._where()}"]
        if scale != 1.0:
            lines.append(f"  a {scale:g} sample (--scale): counts in brackets are scaled up "
                         "to the whole population")
        for what, value, scaled in self._figures():
            lines.append(f"  {what}: {value}" + (f" ({scaled} scaled up)" if scaled else ""))
        lines.append("  tables: " + ", ".join(f"{k} ({len(v):,} rows)"
                                              for k, v in self.tables().items())
                     + "; .summary, .manifest, .plot()")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        scaled = self.scale != 1.0
        head = "<th>measure</th><th>value</th>" + (
            "<th>scaled up to the whole population</th>" if scaled else "")
        body = "".join(
            f"<tr><td>{esc(w)}</td><td>{esc(v)}</td>"
            + (f"<td>{esc(u)}</td>" if scaled else "") + "</tr>"
            for w, v, u in self._figures())
        s = self.summary
        cap = (f"RunResult of {self.scenario.name}: {s.get('days', 0):,} days from "
               f"{s.get('start', '?')}, seed {self.manifest.get('seed', self.scenario.seed)}"
               + (f", a {self.scale:g} sample (--scale)" if scaled else "")
               + f"; {self._where()}. Tables: " + ", ".join(self.tables()) + ".")
        return (f"<table><caption>{esc(cap)}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>")


def package_versions() -> dict[str, str]:
    return dict(_package_versions())


@functools.cache
def _package_versions() -> dict[str, str]:
    # read once per process: comparisons and calibrations run many small runs
    out = {"python": platform.python_version()}
    for pkg in ("scslab", "numpy", "numba", "pydantic", "pyarrow", "pandas", "pyyaml"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def load_run(path: str | Path) -> RunResult:
    """Read a complete run directory back into a RunResult."""
    path = Path(path)
    manifest = read_manifest(path)
    summary = read_summary(path)
    extra = {t: read_table(path, t) for t in TRACE_TABLES
             if f"{t}.parquet" in manifest.get("tables", [])}
    return RunResult(
        scenario=scenario_from_manifest(manifest, path),
        timeseries=read_table(path, "timeseries"), groups=read_table(path, "groups"),
        scores=read_table(path, "scores"), summary=summary, manifest=manifest, extra=extra,
        path=path,
    )
