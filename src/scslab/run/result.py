"""A finished run as DataFrames, in memory or read back from its run directory."""

from __future__ import annotations

import functools
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
