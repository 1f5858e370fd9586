"""Exact small cases: this resident, with these records, has this score and this list
status on this day.  BASE (tests/conftest.py) is one resident who commits a negative act
every day, recorded at once (-10 points, kept 3 days), listed below 975, flying daily."""

import numpy as np

from tests.conftest import run_case


def col(r, name):
    return r.timeseries[name].tolist()


def test_retention_score_and_listing():
    r = run_case()
    # records of days t-2..t are active: 1, 2, 3, 3, ...; score 990, 980, 970, 970, ...
    assert col(r, "records_active") == [1, 2, 3] + [3] * 7
    assert col(r, "listed") == [0, 0] + [1] * 8
    assert col(r, "listed_new") == [0, 0, 1] + [0] * 7
    assert col(r, "listed_wrongful") == [0] * 10
    assert r.residents["final_score"].tolist() == [970]
    assert r.residents["listed_days"].tolist() == [8]


def test_blocked_only_while_listed():
    r = run_case()
    assert col(r, "blocked_flight") == [0, 0] + [1] * 8
    assert r.summary["blocked"] == {"flight": 8}
    assert r.summary["blocked_wrongful"] == {"flight": 0}


def test_reporting_delay_shifts_records():
    r = run_case(departments={"dept": {"delay_days": 2}})
    # the act of day t is recorded on t+2 and kept until t+5
    assert col(r, "records_active") == [0, 0, 1, 2, 3, 3, 3, 3, 3, 3]
    assert col(r, "listed") == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    assert r.records["day_on"].tolist()[:3] == [2, 3, 4]


def test_pooling_date_holds_records_back():
    # shared from day 5: records of days 3 and 4 are still within retention then
    r = run_case(departments={"dept": {"shares_from": "2021-01-06"}})
    assert col(r, "records_active") == [0] * 5 + [3] * 5
    assert col(r, "listed") == [0] * 5 + [1] * 5
    # records of days 0-2 expired before the platform saw them
    assert (r.records["day_on"].to_numpy()[:3] == -1).all()


def test_never_shared_department_lists_nobody():
    r = run_case(departments={"dept": {"shares_from": None}})
    assert col(r, "records_active") == [0] * 10
    assert col(r, "records_created") == [1] * 10
    assert sum(col(r, "listed")) == 0


def test_cap_limits_what_one_act_type_can_take():
    r = run_case(policy={"score": {"caps": {"neg": 25}, "default_retention_days": "lifelong"}})
    assert r.residents["final_score"].tolist() == [975]  # 1000 - min(100, 25)
    assert sum(col(r, "listed")) == 0


def test_score_floor_clamps():
    r = run_case(policy={"score": {"min": 980}})
    assert r.residents["final_score"].tolist() == [980]
    assert sum(col(r, "listed")) == 0


def test_dated_threshold_reevaluates_everybody_on_its_day():
    r = run_case(policy={
        "score": {"caps": {"neg": 30}, "default_retention_days": "lifelong"},
        "lists": {"black": {"below": {"2021-01-01": 975, "2021-01-06": 965}}},
    })
    # score is 970 from day 2 on; listed below 975, then not below 965 from day 5
    assert col(r, "listed") == [0, 0, 1, 1, 1, 0, 0, 0, 0, 0]
    assert col(r, "delisted") == [0] * 5 + [1] + [0] * 4


def test_dated_points_are_off_before_their_first_date():
    r = run_case(policy={"score": {"points": {"neg": {"2021-01-05": -10}}}})
    # records of days 0-3 carry 0 points; from day 4 on they carry -10
    assert r.records["points"].tolist() == [0] * 4 + [-10] * 6
    assert col(r, "listed") == [0] * 6 + [1] * 4


def test_record_list_duration_and_expiry():
    r = run_case(
        departments={"dept": {"records": {"neg": {"coverage": {"2021-01-01": 1.0,
                                                                "2021-01-03": 0.0}}}}},
        replace={"policy.lists": {"black": {"kind": "record", "acts": ["neg"],
                                            "duration_days": 4}}},
    )
    # records on days 0 and 1 list until day 1 + 4 = 5 (exclusive)
    assert col(r, "list_black") == [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    assert col(r, "delisted") == [0] * 5 + [1] + [0] * 4
    assert col(r, "blocked_flight") == [1] * 5 + [0] * 5


def test_red_list_is_not_a_blacklisting():
    r = run_case(
        acts={"neg": {"valence": "positive"}},
        policy={"score": {"points": {"neg": 10}},
                "lists": {"red": {"kind": "score", "at_least": 1030}}},
        actions={"flight": {"rate": {"per_day": 0.0}}},
    )
    assert col(r, "list_red") == [0, 0] + [1] * 8
    assert sum(col(r, "listed")) == 0


def test_enforcement_zero_blocks_nothing_and_sanction_start_date():
    r = run_case(policy={"sanctions": {"flight": {"enforcement": 0.0}}})
    assert sum(col(r, "blocked_flight")) == 0
    r = run_case(policy={"sanctions": {"flight": {"starts": "2021-01-08"}}})
    assert col(r, "blocked_flight") == [0] * 7 + [1] * 3


def test_misattributed_records_list_the_wrong_resident():
    r = run_case(population={"residents": 2, "units": 1},
                 departments={"dept": {"misattribution": 1.0}})
    rec = r.records
    assert (rec["provenance"] == "misattributed").all()
    assert (rec["subject"] != rec["actor"]).all()
    # both residents are listed from day 2, and every listing is wrongful
    assert col(r, "listed") == [0, 0] + [2] * 8
    assert col(r, "listed_wrongful") == col(r, "listed")
    assert r.summary["blocked_wrongful"] == r.summary["blocked"] == {"flight": 16}


def test_false_records_make_wrongful_listings():
    r = run_case(acts={"neg": {"rate": {"per_day": 0.0}}},
                 departments={"dept": {"records": {"neg": {"false_per_resident_year": 36500}}}})
    assert set(r.records["provenance"]) == {"false"}
    assert (r.records["actor"] == -1).all()
    assert col(r, "listed") == [0, 0] + [1] * 8
    assert col(r, "listed_wrongful") == col(r, "listed")
    events = r.list_events
    assert events["wrongful"].all() and events["listed"].all()


def test_coverage_zero_records_nothing_but_acts_still_happen():
    r = run_case(departments={"dept": {"records": {"neg": {"coverage": 0.0}}}})
    assert col(r, "acts_neg") == [1] * 10
    assert col(r, "records_created") == [0] * 10


def test_list_events_match_the_timeseries():
    r = run_case()
    ev = r.list_events
    assert ev[["day", "subject", "list", "listed", "wrongful"]].values.tolist() == [
        [2, 0, "black", True, False]]
    assert np.array_equal(r.timeseries["list_black"], r.timeseries["listed"])
