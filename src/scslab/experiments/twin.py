"""Behaviour against the system-off twin: deterrence and chilling from act counts.

Runs a scenario and its system-off twin (:mod:`scslab.scenario.twin`) on the same
population with common random numbers.  Without feedback loops the difference in acts is
exactly zero; with them it is the system's effect on behaviour.
"""

from __future__ import annotations

import pandas as pd

from scslab.experiments.compare import build_specs, run_specs
from scslab.metrics.measures import speech_acts
from scslab.run.options import RunOptions
from scslab.scenario.schema import Scenario


def behaviour_table(on_acts: dict[str, float], off_acts: dict[str, float],
                    scenario: Scenario) -> pd.DataFrame:
    """Act counts with the system on and off, and the relative change (on/off - 1).

    ``kind`` is ``speech`` (chilling), ``negative`` (deterrence) or ``positive``.
    """
    speech = set(speech_acts(scenario))
    rows = []
    for a, act in scenario.acts.items():
        on, off = float(on_acts.get(a, 0.0)), float(off_acts.get(a, 0.0))
        kind = "speech" if a in speech else act.valence
        rows.append((a, kind, on, off, on - off, (on / off - 1.0) if off else float("nan")))
    return pd.DataFrame(rows, columns=["act", "kind", "system_on", "system_off", "change",
                                       "relative_change"])


def behaviour(scenario="tiny", options: RunOptions | None = None, *,
              replicates: int = 1) -> pd.DataFrame:
    """Deterrence and chilling: acts with the system on against its system-off twin,
    averaged over replicates (:func:`behaviour_table`)."""
    o = options or RunOptions()
    if isinstance(scenario, Scenario):
        specs = build_specs([scenario, scenario], list(o.sets))
        specs[0].twin = True
        specs[0].label = f"off:{scenario.name}"
    else:
        specs = build_specs([f"off:{scenario}", str(scenario)], list(o.sets))
    runs = run_specs(specs, o.replace(sets=()), replicates=replicates)
    off_runs, on_runs = runs[specs[0].label], runs[specs[1].label]

    def mean_acts(rs):
        acts: dict[str, float] = {}
        for rr in rs:
            for a, v in rr.summary["acts"].items():
                acts[a] = acts.get(a, 0.0) + v / len(rs)
        return acts

    return behaviour_table(mean_acts(on_runs), mean_acts(off_runs), on_runs[0].scenario)
