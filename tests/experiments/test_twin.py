"""The system-off twin, and speech taken from the act's ``speech`` flag, never its name."""

from __future__ import annotations

import pytest

from scslab.experiments.twin import behaviour_table
from scslab.metrics.measures import speech_acts
from scslab.scenario.twin import system_off
from tests.conftest import make


def scenario():
    return make(acts={"chatter": {"rate": {"per_day": 0.01}, "speech": True},
                      "post_office_fraud": {"rate": {"per_day": 0.01}}},
                departments={"dept": {"records": {"chatter": {}, "post_office_fraud": {}}}})


def test_speech_is_what_the_scenario_declares():
    s = scenario()
    assert speech_acts(s) == ["chatter"]
    table = behaviour_table({"chatter": 8, "neg": 5}, {"chatter": 10, "neg": 5}, s)
    kinds = dict(zip(table["act"], table["kind"], strict=True))
    assert kinds == {"neg": "negative", "chatter": "speech", "post_office_fraud": "negative"}
    row = table.set_index("act").loc["chatter"]
    assert row["change"] == -2 and row["relative_change"] == pytest.approx(-0.2)


def test_the_twin_keeps_acts_and_departments_but_no_system():
    off = system_off(scenario())
    assert off.policy.lists == {} and off.policy.sanctions == {}
    assert off.policy.score.points == scenario().policy.score.points
    assert all(d.shares_from is None for d in off.departments.values())
    assert set(off.acts) == set(scenario().acts)
