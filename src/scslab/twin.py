"""The system-off twin: the same synthetic population with no scoring system.

The twin keeps everything that happens without the system (acts at their unsanctioned
rates, departments keeping their own records, residents attempting actions) and removes
the system itself: no list, no sanction, no reward, and no department shares into the
pooled platform, so no score moves.  Any behavioural feedback the scenario switches on
(deterrence, chilling) then has nothing to respond to.

Because randomness is keyed to (seed, stream, resident, counter), the twin at the same
seed draws the same randomness as the scenario: the difference in ``acts_*`` between the
two is the system's effect on behaviour (deterrence for negative acts, chilling for
speech), not noise.  Without feedback loops that difference is exactly zero.

>>> from scslab.scenario.loader import load_scenario
>>> off = system_off(load_scenario("tiny"))
>>> off.policy.lists, off.policy.sanctions
({}, {})
"""

from __future__ import annotations

import pandas as pd

from scslab.scenario.loader import deep_merge
from scslab.scenario.schema import Scenario

# Policy sections that make up "the system" beyond the score: emptied in the twin.  Names
# that a scenario schema does not have are ignored, so rewards can arrive later.
SYSTEM_SECTIONS = ("lists", "sanctions", "rewards", "green_channel", "association")

# Acts counted as speech for the chilling measure (matched by name).
SPEECH_MARKERS = ("post", "speech")


def system_off(scenario: Scenario) -> Scenario:
    """The scenario with the scoring system switched off (see the module docstring)."""
    data = scenario.model_dump(mode="python", exclude={"end"})
    policy = data.get("policy", {})
    for key in SYSTEM_SECTIONS:
        if key in policy and isinstance(policy[key], dict):
            policy[key] = {}
    for dept in data.get("departments", {}).values():
        dept["shares_from"] = None
    data = deep_merge(data, {"name": f"{scenario.name}_off"[:60]})
    data["description"] = (
        f"System-off twin of {scenario.name}: same population and acts, no pooled "
        "platform, lists, sanctions or rewards. " + scenario.description
    )
    return Scenario.model_validate(data)


def speech_acts(scenario: Scenario) -> list[str]:
    """The scenario's speech acts (names containing 'post' or 'speech')."""
    return [a for a in scenario.acts if any(m in a for m in SPEECH_MARKERS)]


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


def behaviour(
    scenario="tiny", *, replicates: int = 1, seed: int | None = None,
    residents: int | None = None, days: int | None = None, sets: list[str] | None = None,
) -> pd.DataFrame:
    """Deterrence and chilling: acts with the system on against its system-off twin.

    Runs the scenario and its twin on the same population (seeds ``seed + r``) and returns
    :func:`behaviour_table` of the act totals, averaged over replicates.
    """
    from scslab.compare import build_specs, run_specs

    specs = build_specs([f"off:{scenario}", str(scenario)] if not isinstance(
        scenario, Scenario) else [scenario, scenario], sets=sets)
    if isinstance(scenario, Scenario):
        specs[0].twin = True
        specs[0].label = f"off:{scenario.name}"
    runs = run_specs(specs, replicates=replicates, seed=seed, residents=residents, days=days)
    off_runs, on_runs = runs[specs[0].label], runs[specs[1].label]

    def mean_acts(rs):
        acts = {}
        for rr in rs:
            for a, v in rr.summary["acts"].items():
                acts[a] = acts.get(a, 0.0) + v / len(rs)
        return acts

    return behaviour_table(mean_acts(on_runs), mean_acts(off_runs), on_runs[0].scenario)
