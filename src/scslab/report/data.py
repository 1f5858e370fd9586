"""What the report reads: one finished run, with every table its directory holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from scslab.errors import ScslabError
from scslab.outputs.rundir import read_table
from scslab.run.result import RunResult, load_run


class ReportError(ScslabError):
    """A report that cannot be made from the directories given."""


@dataclass
class RunView:
    """A run as the chart builders see it: a label and its tables by name.

    Builders ask ``table(name)`` and get ``None`` when the run does not have it, so a chart
    for a table added later simply appears once runs carry that table.
    """

    label: str
    result: RunResult
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    cache: dict = field(default_factory=dict, repr=False)  # builders' derived data

    @classmethod
    def from_result(cls, result: RunResult, label: str | None = None) -> RunView:
        label = label or (result.path.name if result.path else result.scenario.name)
        return cls(label=label, result=result, _tables=dict(result.tables()))

    @classmethod
    def from_dir(cls, path: str | Path, label: str | None = None) -> RunView:
        """Load a run directory, including tables that ``load_run`` does not know about."""
        rr = load_run(path)
        view = cls.from_result(rr, label or Path(path).resolve().name)
        for name in rr.manifest.get("tables", []):
            stem = name.removesuffix(".parquet")
            if stem not in view._tables:
                view._tables[stem] = read_table(Path(path), stem)
        return view

    def table(self, name: str) -> pd.DataFrame | None:
        df = self._tables.get(name)
        if df is None or len(df) == 0:
            return None
        return df

    @property
    def scenario(self):
        return self.result.scenario

    @property
    def manifest(self) -> dict:
        return self.result.manifest

    @property
    def summary(self) -> dict:
        return self.result.summary


def unique_labels(names: list[str]) -> list[str]:
    """Run labels for the legend: directory names, made distinct with a suffix if needed."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0)
        seen[n] = k + 1
        out.append(n if k == 0 else f"{n} ({k + 1})")
    return out
