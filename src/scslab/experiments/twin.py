"""Behaviour against twins: deterrence and chilling from act counts against the
system-off twin, and the poverty trap against the loop-off twin.

Runs a scenario and its twin (:mod:`scslab.scenario.twin`) on the same population with
common random numbers.  Without feedback loops the difference in acts is exactly zero;
with them it is the system's effect on behaviour.  The economic loop's effect on listings
(the poverty trap) is the difference against the same scenario with that loop off.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scslab.experiments.compare import build_specs, run_specs
from scslab.metrics.measures import speech_acts
from scslab.run.options import RunOptions
from scslab.run.pipeline import run
from scslab.scenario.loader import load_scenario
from scslab.scenario.schema import Scenario
from scslab.scenario.twin import economic_loop_off


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


def poverty_trap_table(on_residents: pd.DataFrame, off_residents: pd.DataFrame) -> dict:
    """The poverty trap from the residents tables of a run and its loop-off twin (same
    residents, common random numbers): listings the economic loop added.

    ``extra_listings`` is the difference in new listings (own route) between the run and
    its twin; ``extra_listings_per_100k`` per 100,000 residents; ``shocked_listed_again_share``
    the share of residents shocked in the run who have more listings than in the twin.
    Every figure is exactly 0 when no shock changes any act's rate."""
    on = on_residents.sort_values("resident")
    off = off_residents.sort_values("resident")
    if not np.array_equal(on["resident"].to_numpy(), off["resident"].to_numpy()):
        raise ValueError("the run and its twin must hold the same residents")
    extra = on["listings"].to_numpy(np.int64) - off["listings"].to_numpy(np.int64)
    shocked = on["shocked"].to_numpy(bool)
    n = len(on)
    return {
        "residents": n,
        "residents_shocked": int(shocked.sum()),
        "extra_listings": int(extra.sum()),
        "extra_listings_per_100k": float(extra.sum() / n * 1e5) if n else 0.0,
        "shocked_listed_again_share": (float((extra[shocked] > 0).mean())
                                       if shocked.any() else 0.0),
    }


def poverty_trap(scenario="tiny", options: RunOptions | None = None) -> dict:
    """The poverty trap, causally: the scenario (traced) against its loop-off twin
    (:func:`scslab.scenario.twin.economic_loop_off`) with common random numbers
    (:func:`poverty_trap_table`)."""
    o = (options or RunOptions()).replace(trace=True)
    s = scenario if isinstance(scenario, Scenario) else load_scenario(str(scenario))
    on = run(s, o)
    off = run(economic_loop_off(s), o)
    return poverty_trap_table(on.residents, off.residents)
