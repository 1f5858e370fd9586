"""Feedback loops: each one changes behaviour when on, and switching it off (or switching
the system off) removes its effect exactly, thanks to common random numbers."""

import numpy as np

from tests.conftest import run_case

N, DAYS, P = 20_000, 100, 0.01
CROWD = {"population": {"residents": N, "units": 4}, "days": DAYS,
         "acts": {"neg": {"rate": {"per_day": P}}},
         "outputs": {"records": False, "lists": False}}
SYSTEM_OFF = {"departments": {"dept": {"shares_from": None}}}


def acts(r, name="neg"):
    return int(r.timeseries[f"acts_{name}"].sum())


def test_deterrence_lowers_scored_acts_and_is_gone_when_switched_off():
    """With general deterrence 0.5 and no personal term each act is kept with probability
    0.5: expected 10,000 of 20,000 (sd of the ratio ~0.005; tolerance 0.02)."""
    off = run_case(**CROWD)
    on = run_case(**CROWD, feedback={"deterrence": {"enabled": True, "general": 0.5,
                                                    "personal": 0.0}})
    assert abs(acts(off) - N * DAYS * P) < 5 * np.sqrt(N * DAYS * P)
    assert abs(acts(on) / acts(off) - 0.5) < 0.02
    twin = run_case(**CROWD, **SYSTEM_OFF,
                    feedback={"deterrence": {"enabled": True, "general": 0.5}})
    assert twin.timeseries["acts_neg"].equals(off.timeseries["acts_neg"])


def test_personal_deterrence_acts_on_residents_with_records():
    off = run_case(**CROWD)
    on = run_case(**CROWD, feedback={"deterrence": {"enabled": True, "general": 0.0,
                                                    "personal": 0.9}})
    # a resident with an active record (3 days after each act) acts 90% less meanwhile
    assert acts(on) < acts(off)
    assert acts(on) > 0.9 * acts(off)  # records are short-lived, so the effect is modest


def test_chilling_lowers_speech():
    speech = {**CROWD, "acts": {"neg": {"rate": {"per_day": P}, "speech": True}}}
    off = run_case(**speech)
    on = run_case(**speech, feedback={"chilling": {"enabled": True, "surveillance": 0.5,
                                                   "salience": 0.0}})
    assert abs(acts(on) / acts(off) - 0.5) < 0.02
    deterred_only = run_case(**speech, feedback={"deterrence": {"enabled": True}})
    assert deterred_only.timeseries["acts_neg"].equals(off.timeseries["acts_neg"])


ECONOMY = {
    **CROWD,
    "acts": {"neg": {"rate": {"per_day": 0.002}, "shock_multiplier": 10}},
    "actions": {"job": {"rate": {"per_day": 0.2}}},
    "replace": {"policy.lists": {"court": {"kind": "record", "acts": ["neg"],
                                           "duration_days": 30}},
                "policy.sanctions": {"job": {"lists": ["court"], "income_shock_days": 100}}},
}


def run_economy(sanction=None, **over):
    spec = {k: v for k, v in ECONOMY.items() if k != "replace"}
    spec.update(over)
    replace = dict(ECONOMY["replace"])
    if sanction is not None:
        replace["policy.sanctions"] = {"job": sanction}
    return run_case(replace, **spec)


def test_economic_loop_raises_defaults_after_blocked_jobs():
    off = run_economy()
    on = run_economy(feedback={"economic": {"enabled": True}})
    assert on.summary["income_shocks"] > 0 and off.summary["income_shocks"] == 0
    assert acts(on) > 1.2 * acts(off)  # shocked residents default 10x as often
    assert on.summary["listings_during_shock"] > 0
    assert off.summary["listings_during_shock"] == 0
    # no blocks (enforcement 0): the loop has nothing to act on, acts are identical
    idle = run_economy(feedback={"economic": {"enabled": True}},
                       sanction={"lists": ["court"], "enforcement": 0.0,
                                 "income_shock_days": 100})
    assert idle.timeseries["acts_neg"].equals(off.timeseries["acts_neg"])
