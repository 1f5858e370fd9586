"""Parameter intervals and a sensitivity screen for the sandbox's configuration.

The unknowns are the scenario's ``uncertain:`` block (docs/uncertainty.md).  The page
lists each with its distribution, the value the scenario uses and its central 90%
interval at once; the ranked sensitivity comes from a small Morris screen
(:func:`scslab.experiments.sensitivity.sensitivity`, method ``morris``) of the variant
(the levers applied) at the preview's scale, run in the background when asked, since it
takes tens of runs: ``SCREEN_TRAJECTORIES`` trajectories of ``k + 1`` points for ``k``
parameters, one seed each, and ``SCREEN_NOISE_RUNS`` runs of the scenario's own values
for the seed-noise yardstick.  A finished screen is kept for its configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from scslab.app.config import quoted
from scslab.app.jobs import BackgroundJob, BackgroundJobs
from scslab.experiments.sensitivity import Sensitivity, sensitivity
from scslab.run.options import RunOptions
from scslab.scenario.schema import Scenario
from scslab.scenario.uncertainty import nominal_values

SCREEN_TRAJECTORIES = 4
SCREEN_NOISE_RUNS = 4
SHOWN_PARAMETERS = 12  # the ranking shows the parameters that matter most


def parameter_intervals(scenario: Scenario) -> pd.DataFrame:
    """One row per uncertain parameter: ``parameter``, ``distribution`` (in words), the
    ``value`` the scenario runs with, the central 90% interval (``lo``, ``hi``) and
    ``why`` (the scenario's reason for the range)."""
    unc = dict(scenario.uncertain)
    if not unc:
        return pd.DataFrame(columns=["parameter", "distribution", "value", "lo", "hi", "why"])
    nominal = nominal_values(scenario, unc)
    rows = []
    for p, d in unc.items():
        lo, hi = (float(v) for v in d.ppf([0.05, 0.95]))
        rows.append((p, d.describe(), float(nominal[p]), lo, hi, d.why or ""))
    return pd.DataFrame(rows, columns=["parameter", "distribution", "value", "lo", "hi", "why"])


def screen_command(ref: str, sets: list[str], measures: list[str], *, seed: int,
                   scale: float, out: str) -> str:
    """The ``scslab sensitivity`` command that runs the same screen."""
    args = ["scslab", "sensitivity", ref]
    for a in sets:
        args += ["--set", a]
    for m in measures:
        args += ["--measure", m]
    args += ["--method", "morris", "--samples", str(SCREEN_TRAJECTORIES),
             "--noise-runs", str(SCREEN_NOISE_RUNS), "--seed", str(seed)]
    if scale != 1.0:
        args += ["--scale", f"{scale:g}"]
    return quoted([*args, "--out", out])


@dataclass
class Screen(BackgroundJob):
    """One screen: how far it is, and its result when done."""

    key: tuple
    result: Sensitivity | None = None

    def ranked(self, measure: str) -> pd.DataFrame:
        """The parameters by ``mu_star`` for ``measure`` (largest first), at most
        ``SHOWN_PARAMETERS``, then the seed-noise row."""
        r = self.result.ranked(measure)
        noise = r.loc[[p for p in r.index if p == "seeds"]]
        return pd.concat([r.drop(index="seeds", errors="ignore").head(SHOWN_PARAMETERS),
                          noise])


class Screens(BackgroundJobs[Screen]):
    """The screens of one app, one per configuration (scenario, seed, levers)."""

    def start(self, key: tuple, scenario: Scenario, seed: int, scale: float,
              measures: list[str]) -> Screen:
        """Start (or return) the screen of ``scenario`` (the variant) at ``scale``."""
        def work(job: Screen) -> None:
            job.finish(lambda: run_screen(job, scenario, seed, scale, measures), "screen")

        return self._start(key, lambda: Screen(key), work, "scslab sensitivity screen")


def run_screen(job: Screen, scenario: Scenario, seed: int, scale: float,
               measures: list[str]) -> str:
    """The Morris screen, its progress counted in runs; the message of the end."""
    job.message = "running the screen"
    job.result = sensitivity(
        scenario, RunOptions(seed=seed, scale=None if scale == 1.0 else scale),
        method="morris", samples=SCREEN_TRAJECTORIES, noise_runs=SCREEN_NOISE_RUNS,
        measures=measures, threads=1, on_run=job.progress,
        command="scslab app: sensitivity screen")
    return f"done: {len(job.result.samples)} runs"
