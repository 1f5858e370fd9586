"""Mechanisms of issue 14 items 2-6: listing routes, the poverty trap against the loop-off
twin, deterrence through sanctions and awareness, faster performance once listed, lawful
speech and account removal, obligations by subject kind."""

import numpy as np
import pytest

from scslab.experiments.twin import poverty_trap
from scslab.scenario.twin import system_off
from tests.conftest import make, run_case

# two residents of one household (seed 3): resident 0 (g = a) acts every day, resident 1
# (g = b) never does
PAIR = {"population": {"residents": 2, "units": 1, "household_sizes": {2: 1.0},
                       "attributes": {"g": {"categories": ["a", "b"]}}},
        "acts": {"neg": {"rate": {"per_day": 1.0}, "multipliers": {"g": {"b": 0.0}}}}}
ROUTES = {"policy.lists": {"court": {"kind": "record", "acts": ["neg"], "duration_days": 30},
                           "family": {"kind": "household", "lists": ["court"]}},
          "policy.sanctions": {"flight": {"lists": ["court", "family"]}}}


def day(r, t, *cols):
    return tuple(int(r.timeseries[c].iloc[t]) for c in cols)


STOCKS = ("listed", "listed_wrongful", "listed_association", "listed_association_wrongful")


def test_listed_counts_own_route_and_association_apart():
    r = run_case(ROUTES, **PAIR)
    assert list(r.residents["g"]) == ["a", "b"]
    # day 0: resident 0 on the court list (own record), resident 1 on the family list only
    assert day(r, 0, *STOCKS) == (1, 0, 1, 0)
    assert r.summary["residents_ever_listed"] == 1
    assert r.summary["residents_ever_listed_association"] == 1
    g = r.groups.set_index(["period", "attribute", "group", "measure"])["value"]
    assert g["run", "g", "a", "ever_listed"] == 1 and g["run", "g", "a",
                                                        "ever_listed_association"] == 0
    assert g["run", "g", "b", "ever_listed"] == 0 and g["run", "g", "b",
                                                        "ever_listed_association"] == 1
    assert g["run", "g", "b", "listed_association_days"] == 10
    # the association listing still blocks, as configured
    assert r.summary["blocked"]["flight"] == 20


def test_wrongfulness_is_judged_per_route():
    """Every act of resident 0 is misattributed to resident 1: resident 1 is listed on its
    own (wrong) records, resident 0 through association with a wrongful listing."""
    r = run_case(ROUTES, **PAIR, departments={"dept": {"misattribution": 1.0}})
    assert day(r, 0, *STOCKS) == (1, 1, 1, 1)
    ev = r.list_events
    assert set(ev[ev["list"] == "court"]["subject"]) == {1}
    assert set(ev[ev["list"] == "family"]["subject"]) == {0}
    assert r.summary["wrongful_share_of_list_days"] == 1.0
    assert r.summary["wrongful_share_of_association_list_days"] == 1.0


# ---- 3. the poverty trap against the loop-off twin
ECONOMY = {"population": {"residents": 5000, "units": 2}, "days": 200,
           "acts": {"neg": {"rate": {"per_day": 0.002}, "shock_multiplier": 10}},
           "actions": {"job": {"rate": {"per_day": 0.2}}},
           "feedback": {"economic": {"enabled": True}},
           "outputs": {"records": False, "lists": False}}
ECONOMY_LISTS = {"policy.lists": {"court": {"kind": "record", "acts": ["neg"],
                                            "duration_days": 30}},
                 "policy.sanctions": {"job": {"lists": ["court"], "income_shock_days": 100}}}


def test_poverty_trap_is_zero_without_shock_effect_and_positive_with_it():
    flat = poverty_trap(make(ECONOMY_LISTS, **{**ECONOMY, "acts": {
        "neg": {"rate": {"per_day": 0.002}, "shock_multiplier": 1}}}))
    assert flat["residents_shocked"] > 0
    assert flat["extra_listings"] == 0 and flat["extra_listings_per_100k"] == 0.0
    assert flat["shocked_listed_again_share"] == 0.0
    trap = poverty_trap(make(ECONOMY_LISTS, **ECONOMY))
    assert trap["extra_listings"] > 0 and trap["shocked_listed_again_share"] > 0
    assert trap["extra_listings_per_100k"] == pytest.approx(trap["extra_listings"] / 5000 * 1e5)


def test_descriptive_shock_counts():
    r = run_case(ECONOMY_LISTS, **{**ECONOMY, "outputs": {"records": True, "lists": False}})
    assert r.summary["residents_shocked"] == int(r.residents["shocked"].sum()) > 0
    assert r.summary["listings_during_shock"] == int(r.residents["listings_during_shock"].sum())
    assert "poverty_trap_share" not in r.summary


# ---- 4. deterrence through sanctions and awareness; performance once listed
N, DAYS, P = 20_000, 100, 0.01
CROWD = {"population": {"residents": N, "units": 4}, "days": DAYS,
         "acts": {"neg": {"rate": {"per_day": P}}},
         "outputs": {"records": False, "lists": False}}
UNSCORED_SANCTIONED = {"policy.score.points": {},
                       "policy.lists": {"court": {"kind": "record", "acts": ["neg"],
                                                  "duration_days": 30}},
                       "policy.sanctions": {"flight": {"lists": ["court"]}}}


def acts(r):
    return int(r.timeseries["acts_neg"].sum())


def test_an_unscored_act_that_brings_a_sanction_is_deterred():
    """0 points, but its record lists and the list blocks flights: with ``sanctions`` 0.5
    each act is kept with probability 0.5 (sd of the ratio ~0.005; tolerance 0.02)."""
    det = {"deterrence": {"enabled": True, "general": 0.5, "sanctions": 0.5, "personal": 0.0}}
    off = run_case(UNSCORED_SANCTIONED, **CROWD)
    on = run_case(UNSCORED_SANCTIONED, **CROWD, feedback=det)
    assert abs(acts(on) / acts(off) - 0.5) < 0.02
    # no sanction in force (enforcement 0): nothing to be deterred by
    idle = run_case({**UNSCORED_SANCTIONED, "policy.sanctions": {
        "flight": {"lists": ["court"], "enforcement": 0.0}}}, **CROWD, feedback=det)
    assert idle.timeseries["acts_neg"].equals(off.timeseries["acts_neg"])


def test_awareness_limits_deterrence_to_the_aware_share():
    """30% aware, general deterrence 0.5, nobody listed: acts fall by 0.3 x 0.5 = 15%."""
    quiet = {"policy.lists": {}, "policy.sanctions": {}}
    off = run_case(quiet, **CROWD)
    on = run_case(quiet, **CROWD, feedback={"deterrence": {
        "enabled": True, "general": 0.5, "personal": 0.0, "awareness": {"base": 0.3}}})
    assert abs(acts(on) / acts(off) - 0.85) < 0.015


def test_awareness_grows_with_exposure():
    """Nobody is aware at first; resident 0 acts on day 0, is listed that day and is aware
    from then on, and so is its household member: general deterrence 1 stops its acts."""
    det = {"enabled": True, "general": 1.0, "personal": 0.0,
           "awareness": {"base": 0.0, "listed": 1.0, "household_listed": 1.0}}
    r = run_case(ROUTES, **PAIR, feedback={"deterrence": det})
    assert r.timeseries["acts_neg"].tolist() == [1] + [0] * 9
    unexposed = run_case(ROUTES, **PAIR, feedback={"deterrence": {**det, "awareness": {
        "base": 0.0, "listed": 0.0, "household_listed": 0.0}}})
    assert unexposed.timeseries["acts_neg"].tolist() == [1] * 10
    everybody = run_case(ROUTES, **PAIR, feedback={"deterrence": {**det, "awareness": None}})
    assert everybody.timeseries["acts_neg"].tolist() == [0] * 10


PERFORM = {"population": {"residents": 4000, "units": 2}, "days": 400,
           "acts": {"neg": {"rate": {"per_day": 0.002}}},
           "outputs": {"records": True, "lists": False}}
PERFORM_LISTS = {"policy.score.points": {},
                 "policy.lists": {"court": {"kind": "record", "acts": ["neg"],
                                            "duration_days": 3000}},
                 "policy.sanctions": {},
                 "policy.remedies": {"perform": {"neg": {
                     "rate": {"per_day": 0.01}, "listed_multiplier": 10.0}}}}


def test_listing_raises_the_rate_of_performing():
    """A debtor is listed the day its record turns on, after that day's records phase: on
    that day it performs at 0.01, from the next at 0.01 x 10.  The wait W (days after the
    record turns on) is 0 with probability 0.01, else 1 + a geometric count of failures
    with mean 0.9 / 0.1 = 9: E[W] = 0.99 x 10 = 9.9 (sd ~9.5; some 2,400 records: se
    ~0.2; tolerance 1).  Without the multiplier E[W] would be about 99."""
    r = run_case(PERFORM_LISTS, **PERFORM)
    rec = r.records[(r.records["day_on"] < 300) & (r.records["day_on"] >= 0)]
    wait = (rec["day_performed"] - rec["day_on"]).to_numpy()
    assert (wait >= 0).all()
    assert abs(wait.mean() - 9.9) < 1.0
    # nobody listed: the multiplier never applies, every candidate is thinned to the base
    # rate (other days than the single draw without it, the same law): totals agree
    # within sampling error (~2,000 performances, sd ~2%; tolerance 8%)
    unlisted = {**PERFORM_LISTS, "policy.lists": {}}
    base = run_case({**unlisted, "policy.remedies": {"perform": {"neg": {
        "rate": {"per_day": 0.01}}}}}, **PERFORM)
    faster = run_case(unlisted, **PERFORM)
    n_base = base.summary["obligations_performed"]
    assert n_base > 1000
    assert abs(faster.summary["obligations_performed"] / n_base - 1) < 0.08
    assert r.summary["obligations_performed"] > 1.2 * n_base  # most debts are paid either way


# ---- 5. lawful speech and account removal
SPEECH = {**CROWD, "acts": {"post": {"rate": {"per_day": P}, "speech": True}},
          "departments": {"dept": {"records": {"post": {"coverage": 1.0}}}},
          "lawful_speech": {"posts_per_day": 2.0, "multipliers": {"g": {"b": 0.5}}},
          "population": {"residents": 1000, "units": 2,
                         "attributes": {"g": {"categories": ["a", "b"]}}}}
SPEECH_POLICY = {"policy.score": {"base": 1000, "points": {"post": -1},
                                  "default_retention_days": 3},
                 "policy.lists": {"black": {"kind": "score", "below": 999}},
                 "policy.sanctions": {}}


def test_lawful_speech_lost_equals_the_system_off_twin_difference():
    chill = {"chilling": {"enabled": True, "surveillance": 0.5, "salience": 0.2}}
    s = make(SPEECH_POLICY, **SPEECH, feedback=chill)
    import scslab
    on, off = scslab.run(s), scslab.run(system_off(s))
    b = int((on.residents["g"] == "b").sum()) if on.residents is not None else None
    ts_on, ts_off = on.timeseries, off.timeseries
    np.testing.assert_allclose(ts_on["lawful_posts"] + ts_on["lawful_speech_lost"],
                               ts_off["lawful_posts"], rtol=1e-12)
    assert (ts_off["lawful_speech_lost"] == 0).all()
    # the twin posts 2 a day per resident of group a and 1 per resident of group b
    n_b = off.groups.set_index(["period", "attribute", "group", "measure"])["value"][
        "run", "g", "b", "residents"]
    assert ts_off["lawful_posts"].iloc[0] == pytest.approx(2.0 * (1000 - n_b) + 1.0 * n_b)
    assert b is None or b == n_b
    assert on.summary["lawful_speech_lost"] > 0


REMOVAL = {"acts": {"neg": {"rate": {"per_day": 1.0}},
                    "post": {"rate": {"per_day": 1.0}, "speech": True}},
           "lawful_speech": {"posts_per_day": 3.0},
           "policy": {"account_removal": {"lists": ["black"]}}}


def test_account_removal_silences_a_listed_resident():
    """One resident loses 10 points a day (3-day retention): listed on day 2 (score 970 <
    975), its account is removed from then: no lawful posts, no speech acts."""
    r = run_case(**REMOVAL)
    ts = r.timeseries
    assert ts["listed"].tolist() == [0, 0] + [1] * 8
    assert ts["accounts_removed"].tolist() == [0, 0] + [1] * 8
    # day 2's acts come before its listing: the account is gone from day 3
    assert ts["acts_post"].tolist() == [1, 1, 1] + [0] * 7
    assert ts["speech_acts_removed"].tolist() == [0, 0, 0] + [1] * 7
    assert ts["lawful_posts"].tolist() == [3.0, 3.0] + [0.0] * 8
    assert ts["lawful_posts_removed"].tolist() == [0.0, 0.0] + [3.0] * 8
    assert r.summary["accounts_removed_end"] == 1
    twin = system_off(make(**REMOVAL))
    assert twin.policy.account_removal is None


# ---- 6. obligations performed by subject kind; speech only from speech: true
def test_obligations_performed_split_by_subject_kind():
    r = run_case(
        {"policy.lists": {}, "policy.sanctions": {}},
        population={"residents": 1, "units": 1, "firms": {"per_1000_residents": 1000}},
        acts={"report": {"subject": "firm", "rate": {"per_day": 1.0}}},
        departments={"dept": {"records": {"report": {"coverage": 1.0}}}},
        policy={"remedies": {"perform": {"neg": {"rate": {"per_day": 1.0}},
                                         "report": {"rate": {"per_day": 1.0}}}}})
    ts = r.timeseries
    assert ts["obligations_performed_resident"].tolist() == [1] * 10
    assert ts["obligations_performed_firm"].tolist() == [1] * 10
    assert ts["obligations_performed"].tolist() == [2] * 10
    assert r.summary["obligations_performed_firm"] == 10


def test_speech_is_only_what_is_declared_speech():
    """An act named like speech but not declared ``speech: true`` is deterred, not
    chilled, and counts as negative, not speech, in every measure."""
    from scslab.experiments.twin import behaviour_table
    from scslab.metrics.measures import run_measures
    s = make(acts={"post_rumour": {"rate": {"per_day": 0.5}}, "speech_act": {
        "rate": {"per_day": 0.5}, "speech": True}})
    table = behaviour_table({"post_rumour": 1, "speech_act": 1}, {}, s)
    assert dict(zip(table["act"], table["kind"], strict=True)) == {
        "neg": "negative", "post_rumour": "negative", "speech_act": "speech"}
    r = run_case(acts={"post_rumour": {"rate": {"per_day": 0.5}}, "speech_act": {
        "rate": {"per_day": 0.5}, "speech": True}})
    m = run_measures(r)
    assert m["acts_total_speech"] == r.summary["acts"]["speech_act"]
    assert m["acts_total_negative"] == r.summary["acts"]["neg"] + r.summary["acts"][
        "post_rumour"]
