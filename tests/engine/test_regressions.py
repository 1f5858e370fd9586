"""Regression tests for bugs found in review: each states the rule it protects."""

import numpy as np

from scslab.engine.compile import compile_scenario
from tests.conftest import make, run_case


def test_household_flags_follow_rightfulness_not_only_membership():
    """A household flag is wrongful exactly when no other member is rightfully listed;
    recounted day by day from the records (false records lifelong, true ones 20 days).
    Wrongfulness is judged per route: an own listing from the resident's own score, a
    listing only through association from the relatives'."""
    n, days = 30, 300
    r = run_case(
        days=days,
        population={"residents": n, "household_sizes": {2: 1.0, 3: 1.0}},
        acts={"fake": {"rate": {"per_day": 0.0}}},
        departments={"dept": {"records": {"fake": {"coverage": 1.0,
                                                   "false_per_resident_year": 1.0}}}},
        policy={"score": {"points": {"neg": -10, "fake": -10},
                          "retention_days": {"neg": 20, "fake": "lifelong"}}},
        replace={"acts.neg": {"rate": {"per_year": 6}},
                 "policy.lists": {"black": {"kind": "score", "below": 995},
                                  "assoc": {"kind": "household", "lists": ["black"]}},
                 "policy.sanctions": {}},
    )
    rec, res = r.records, r.residents
    hh = res["household"].to_numpy()
    on, off = rec["day_on"].to_numpy(), rec["day_off"].to_numpy()
    subj, pts = rec["subject"].to_numpy(), rec["points"].to_numpy()
    true = (rec["provenance"] == "true").to_numpy()
    expected = np.zeros(days, dtype=int)
    expected_association = np.zeros(days, dtype=int)
    for d in range(days):
        act = (on >= 0) & (on <= d) & ((off < 0) | (off > d))
        s_all = 1000 + np.bincount(subj[act], weights=pts[act], minlength=n)
        s_true = 1000 + np.bincount(subj[act & true], weights=pts[act & true], minlength=n)
        listed, rightful = s_all < 995, s_true < 995
        for i in range(n):
            others = (hh == hh[i]) & (np.arange(n) != i)
            flag, flag_right = listed[others].any(), (listed & rightful)[others].any()
            expected[d] += listed[i] and not rightful[i]
            expected_association[d] += (not listed[i]) and flag and not flag_right
    assert expected.sum() > 0 and expected_association.sum() > 0
    assert np.array_equal(r.timeseries["listed_wrongful"].to_numpy(), expected)
    assert np.array_equal(r.timeseries["listed_association_wrongful"].to_numpy(),
                          expected_association)


def test_green_channel_pays_when_the_attempt_is_not_blocked():
    r = run_case(policy={"score": {"default_retention_days": 30}},
                 replace={"policy.lists": {"black": {"kind": "score", "below": 975},
                                           "red": {"kind": "score", "at_least": 0}},
                          "policy.sanctions": {"flight": {"lists": ["black"],
                                                          "enforcement": 0.0}},
                          "policy.rewards": {"flight": {"lists": ["red"], "days_saved": 5}}})
    assert r.timeseries["list_black"].tolist()[:3] == [0, 0, 1]
    assert r.timeseries["fast_tracked_flight"].tolist() == [1] * 10  # never blocked
    assert r.summary["blocked"] == {"flight": 0}


def test_an_extension_belongs_to_its_own_list():
    r = run_case(
        departments={"dept": {"records": {"neg": {"coverage": {"2021-01-01": 1.0,
                                                                "2021-01-02": 0.0}}}}},
        replace={"policy.lists": {
            "la": {"kind": "record", "acts": ["neg"], "duration_days": 3,
                   "extension": {"probability": 1.0, "days": 4}},
            "lb": {"kind": "record", "acts": ["neg"], "duration_days": 3}},
            "policy.sanctions": {}})
    assert r.timeseries["list_la"].tolist() == [1] * 7 + [0] * 3
    assert r.timeseries["list_lb"].tolist() == [1] * 3 + [0] * 7


def test_a_threshold_that_starts_later_reevaluates_only_on_its_days():
    s = make(days=100, policy={"lists": {"black": {"below": {"2021-03-01": 975}}}})
    reeval = compile_scenario(s).arrays.reeval_day
    assert np.flatnonzero(reeval).tolist() == [0, 59]
