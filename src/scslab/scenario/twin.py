"""The system-off twin of a scenario: the same synthetic population with no scoring system.

The twin keeps everything that happens without the system (acts at their unsanctioned
rates, departments keeping their own records, residents attempting actions) and removes
the system itself: no list, no sanction, no green channel, no account removal, and no
department shares into
the pooled platform, so no score moves.  Any behavioural feedback the scenario switches on
(deterrence, chilling) then has nothing to respond to.

Because randomness is keyed to (seed, stream, resident, counter), the twin at the same
seed draws the same randomness as the scenario: differences in acts between the two are
the system's effect on behaviour, not noise.

>>> from scslab.scenario.loader import load_scenario
>>> off = system_off(load_scenario("tiny"))
>>> off.policy.lists, off.policy.sanctions
({}, {})
"""

from __future__ import annotations

from scslab.scenario.loader import deep_merge
from scslab.scenario.params import ParameterError, get_param
from scslab.scenario.schema import Scenario

# Policy sections that make up "the system" beyond the score: emptied in the twin.  Names
# that the schema does not have are ignored.
SYSTEM_SECTIONS = ("lists", "sanctions", "rewards", "green_channel", "association")


def system_off(scenario: Scenario) -> Scenario:
    """The scenario with the scoring system switched off (see the module docstring)."""
    data = scenario.model_dump(mode="python", exclude={"end"})
    policy = data.get("policy", {})
    for key in SYSTEM_SECTIONS:
        if key in policy and isinstance(policy[key], dict):
            policy[key] = {}
    policy["account_removal"] = None
    for dept in data.get("departments", {}).values():
        dept["shares_from"] = None
    # unknowns of the removed system (a list's extension, a sanction's enforcement) go too
    data["uncertain"] = {p: d for p, d in data.get("uncertain", {}).items()
                         if _has(data, p)}
    data = deep_merge(data, {"name": f"{scenario.name}_off"[:60]})
    data["description"] = (
        f"System-off twin of {scenario.name}: same population and acts, no pooled "
        "platform, lists, sanctions or rewards. " + scenario.description
    )
    return Scenario.model_validate(data)


def economic_loop_off(scenario: Scenario) -> Scenario:
    """The scenario with its economic feedback loop switched off (the loop-off twin):
    blocks still happen, but no income shock raises any act's rate.

    >>> from scslab.scenario.loader import load_scenario
    >>> economic_loop_off(load_scenario("tiny")).feedback.economic.enabled
    False
    """
    data = scenario.model_dump(mode="python", exclude={"end"})
    data["feedback"]["economic"]["enabled"] = False
    data["name"] = f"{scenario.name}_loop_off"[:60]
    return Scenario.model_validate(data)


def _has(data: dict, path: str) -> bool:
    try:
        get_param(data, path)
    except ParameterError:
        return False
    return True
