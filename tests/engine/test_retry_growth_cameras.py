"""Retried attempts after a block, dated growth of action rates, and cameras.

BASE (tests/conftest.py): one resident, a negative act every day recorded at once, -10
points kept 3 days, listed below 975 from day 2 on, a flight attempted every day and
always blocked while listed."""

from __future__ import annotations

import numpy as np

from scslab.engine.compile import compile_scenario
from tests.conftest import make, run_case


def col(r, name):
    return r.timeseries[name].tolist()


def test_a_blocked_attempt_is_retried_days_later_and_retries_chain():
    r = run_case(policy={"sanctions": {"flight": {"retry": {"probability": 0.999999,
                                                            "days": 3}}}})
    # chain attempts blocked on days 2..9; each block retried 3 days later, and again:
    # day 5 retries day 2's, day 8 retries day 5's retry (of day 2) and day 5's attempt
    assert col(r, "blocked_retry_flight") == [0, 0, 0, 0, 0, 1, 1, 1, 2, 2]
    assert col(r, "blocked_flight") == [0, 0, 1, 1, 1, 2, 2, 2, 3, 3]
    assert r.summary["blocked_retry"] == {"flight": 7}
    # the same resident, counted once: one person blocked 15 times (8 attempts, 7 retries)
    assert int(r.residents["blocked"].iloc[0]) == 15


def test_without_retry_no_column_and_the_same_blocks():
    r = run_case()
    assert "blocked_retry_flight" not in r.timeseries
    assert "blocked_retry" not in r.summary
    assert col(r, "blocked_flight") == [0, 0] + [1] * 8


def test_a_retry_after_delisting_goes_through():
    # acts are recorded on days 0-2 only
    r = run_case(acts={"neg": {"rate": {"per_day": 1.0}}},
                 departments={"dept": {"records": {"neg": {"coverage": {
                     "2021-01-01": 1.0, "2021-01-04": 0.0}}}}},
                 policy={"sanctions": {"flight": {"retry": {"probability": 0.999999,
                                                            "days": 1}}}})
    # records of days 0-2 keep the score below 975 on day 2 only (990, 980, 970, then
    # 980 on day 3): one chain block on day 2; its retry on day 3 finds no listing
    assert col(r, "listed") == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert col(r, "blocked_flight") == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert sum(col(r, "blocked_retry_flight")) == 0


def test_retries_per_block_follow_the_geometric_mean():
    # every resident listed for life from day 2; sparse attempts; each block is retried
    # the next day with p = 0.8 while the run lasts: E[retries | block on day t] =
    # sum_{j=1}^{D-1-t} p^j.  Tolerance: 3% (the SE is about 0.6%).
    p, D = 0.8, 200
    r = run_case(days=D, population={"residents": 20_000, "units": 4},
                 actions={"flight": {"rate": {"per_day": 0.01}}},
                 policy={"score": {"default_retention_days": "lifelong"},
                         "sanctions": {"flight": {"retry": {"probability": p, "days": 1}}}},
                 outputs={"records": False, "lists": False})
    chain = np.array(col(r, "blocked_flight")) - np.array(col(r, "blocked_retry_flight"))
    expected = sum(c * sum(p ** j for j in range(1, D - t)) for t, c in enumerate(chain))
    assert abs(sum(col(r, "blocked_retry_flight")) / expected - 1) < 0.03


def test_growth_thins_attempts_to_the_dated_multiplier():
    # growth 1 until day 4, then 0: no attempt (and no block) from day 4 on
    r = run_case(actions={"flight": {"growth": {"2021-01-01": 1.0, "2021-01-05": 0.0}}})
    assert col(r, "blocked_flight") == [0, 0, 1, 1, 0, 0, 0, 0, 0, 0]


def test_growth_doubles_the_attempt_rate_after_its_date():
    # rate 0.05 a day, twice that from day 100: blocks per listed resident-day follow
    # (binomial; tolerance 5%, about 4 SE)
    r = run_case(days=200, population={"residents": 5_000, "units": 2},
                 actions={"flight": {"rate": {"per_day": 0.05},
                                     "growth": {"2021-04-11": 2.0}}},
                 policy={"score": {"default_retention_days": "lifelong"}},
                 outputs={"records": False, "lists": False})
    b = np.array(col(r, "blocked_flight"), dtype=float)
    assert r.timeseries["date"].iloc[100].isoformat() == "2021-04-11"
    before = b[2:100].sum() / (5_000 * 98)
    after = b[100:].sum() / (5_000 * 100)
    assert abs(before / 0.05 - 1) < 0.05 and abs(after / 0.10 - 1) < 0.05


def test_cameras_add_coverage_for_the_acts_they_observe():
    cams = {"dept": {"cameras": {"2021-01-04": 1.0},
                     "records": {"neg": {"coverage": 0.0, "observed_by_cameras": True}}}}
    r = run_case(departments=cams)
    # no coverage until the cameras come on day 3; then every act is recorded
    assert col(r, "records_created") == [0, 0, 0] + [1] * 7
    unobserved = {"dept": {"cameras": 1.0, "records": {"neg": {"coverage": 0.0}}}}
    assert sum(col(run_case(departments=unobserved), "records_created")) == 0
    half = {"dept": {"cameras": 0.5,
                     "records": {"neg": {"coverage": 0.5, "observed_by_cameras": True}}}}
    cov = compile_scenario(make(departments=half)).arrays.coverage
    assert np.allclose(cov, 0.75)  # 1 - (1 - 0.5)(1 - 0.5)
