"""The full-scale version of a sandbox configuration, run in the background.

The baseline and the variant run at the scenario's own size and seed into
``ROOT/NAME-seedS-HASH/{baseline,variant}`` (what ``scslab run ... --out`` writes), then
``report.html`` beside them, as ``scslab report`` writes it.  Progress counts the
residents of finished units.  The folder is offered as a zip.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from scslab.app.config import BASELINE, VARIANT, report_command, run_command
from scslab.app.jobs import BackgroundJob, BackgroundJobs
from scslab.app.preview import Base
from scslab.report.html import write_report
from scslab.run.options import RunOptions
from scslab.run.pipeline import prepare, run


@dataclass
class FullRun(BackgroundJob):
    """One full-scale run: where it writes, how far it is, and how it ended."""

    folder: Path
    arms: dict[str, list[str]]  # label -> --set assignments
    report: Path | None = None

    def dirs(self) -> dict[str, Path]:
        return {label: self.folder / label for label in self.arms}

    def zip_bytes(self) -> bytes:
        """The folder (run directories and report) as a zip."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(self.folder.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    z.write(path, Path(self.folder.name) / path.relative_to(self.folder))
        return buf.getvalue()


def folder_for(root: Path, base: Base, seed: int, sets: list[str]) -> Path:
    """``ROOT/NAME-seedS-HASH``: one folder per scenario, seed and levers."""
    digest = hashlib.sha256("\n".join([base.ref, *sets]).encode()).hexdigest()[:8]
    return Path(root) / f"{base.scenario.name}-seed{seed}-{digest}"


def arms_of(sets: list[str]) -> dict[str, list[str]]:
    """The arms a full run makes: the baseline, and the variant when a lever moved."""
    return {BASELINE: [], VARIANT: list(sets)} if sets else {BASELINE: []}


def commands(base: Base, seed: int, sets: list[str], folder: Path) -> list[str]:
    """The ``scslab`` commands that make the same folder (for the Reproduce panel); a run
    directory's scenario is given as the YAML files the panel shows."""
    lines = []
    for label, arm_sets in arms_of(sets).items():
        if base.run_dir is None:
            lines.append(run_command(base.ref, arm_sets, seed=seed, out=str(folder / label)))
        else:
            lines.append(run_command(f"{label}.yaml", [], seed=seed, out=str(folder / label)))
    lines.append(report_command([str(folder / label) for label in arms_of(sets)],
                                str(folder / "report.html")))
    return lines


class FullRuns(BackgroundJobs[FullRun]):
    """Full-scale runs of one app, one per folder (a repeated request reuses it)."""

    def __init__(self, root: str | Path):
        super().__init__()
        self.root = Path(root)

    def start(self, base: Base, seed: int, sets: list[str], variant) -> FullRun:
        """Start (or return the running or finished) full-scale run of a configuration."""
        folder = folder_for(self.root, base, seed, sets)

        def work(job: FullRun) -> None:
            job.finish(lambda: run_both(job, base, seed, variant), "full run")

        return self._start(folder, lambda: FullRun(folder, arms_of(sets)), work,
                           f"scslab full run {folder.name}")


def run_both(job: FullRun, base: Base, seed: int, variant) -> str:
    """Both arms at full scale, then the report; the message of the end."""
    scenarios = {}
    for label, arm_sets in job.arms.items():
        if base.run_dir is not None:  # a run directory's scenario, as resolved
            scenarios[label] = (variant if arm_sets else base.scenario, [])
        else:
            scenarios[label] = (base.ref, arm_sets)
    sizes = {label: prepare(ref, RunOptions(seed=seed, sets=tuple(s))).residents
             for label, (ref, s) in scenarios.items()}
    job.total = sum(sizes.values())
    for label, (ref, arm_sets) in scenarios.items():
        job.message = f"running the {label} at full scale"
        shown = ref if isinstance(ref, str) else f"{label}.yaml"
        run(ref, RunOptions(seed=seed, sets=tuple(arm_sets)), out=job.folder / label,
            on_unit=lambda _unit, residents: job.advance(residents),
            command=run_command(shown, arm_sets, seed=seed, out=str(job.folder / label)))
    job.message = "writing the report"
    job.report = write_report([job.folder / label for label in job.arms],
                              job.folder / "report.html")
    return f"done: {job.folder}"
