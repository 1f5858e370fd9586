"""Exact small cases for the mechanisms beyond score lists: obligations and their
performance, extensions, appeals, credit repair, the green channel, tiers, household
association, firms (records, escalation, firm-linked listing of the legal representative).

BASE (tests/conftest.py): one resident, a negative act every day recorded at once, -10
points kept 3 days, listed below 975, a flight attempted every day."""

from tests.conftest import run_case

TWO_DAYS = {"dept": {"records": {"neg": {"coverage": {"2021-01-01": 1.0,
                                                       "2021-01-03": 0.0}}}}}
COURT = {"court": {"kind": "record", "acts": ["neg"], "duration_days": 4}}


def col(r, name):
    return r.timeseries[name].tolist()


def test_performing_the_obligation_removes_the_listing_after_removal_days():
    # records on days 0 and 1; each is performed the day it is recorded; removal in 3 days
    r = run_case(departments=TWO_DAYS,
                 policy={"remedies": {"perform": {"neg": {"rate": {"per_day": 1.0},
                                                          "removal_days": 3}}}},
                 replace={"policy.lists": COURT, "policy.sanctions": {}})
    assert col(r, "obligations_performed") == [1, 1] + [0] * 8
    assert col(r, "list_court") == [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    assert r.records["day_performed"].tolist() == [0, 1]


def test_unperformed_listing_is_extended():
    court = {"court": dict(COURT["court"], extension={"probability": 1.0, "days": 5})}
    r = run_case(departments=TWO_DAYS, replace={"policy.lists": court, "policy.sanctions": {}})
    # the day-1 record lists until 1 + 4 + 5 = 10: the whole run
    assert col(r, "list_court") == [1] * 10
    r = run_case(departments=TWO_DAYS,
                 policy={"remedies": {"perform": {"neg": {"rate": {"per_day": 1.0},
                                                          "removal_days": 0}}}},
                 replace={"policy.lists": court, "policy.sanctions": {}})
    assert col(r, "list_court") == [0] * 10  # performed at once: no listing, no extension


FALSE_ONLY = {"acts": {"neg": {"rate": {"per_day": 0.0}}},
              "departments": {"dept": {"records": {"neg": {"false_per_resident_year": 36500}}}}}
APPEALS = {"notified": 1.0, "notice_if_notified": 1.0, "filing_days": 1, "review_days": 1,
           "success_wrong": 1.0}


def test_appeal_removes_false_records_after_filing_and_review():
    r = run_case(**FALSE_ONLY, policy={"remedies": {"appeals": APPEALS}})
    # each false record (on day t) is removed on t + 2, so at most two are active: 980
    assert col(r, "records_active") == [1] + [2] * 9
    assert col(r, "appeals_filed") == [1] * 10
    assert col(r, "appeals_won") == [0, 0] + [1] * 8
    assert sum(col(r, "listed")) == 0
    assert r.summary["mean_days_to_correct_wrong_record_on_appeal"] == 2.0
    assert set(r.records["removed_by"][r.records["day_removed"] >= 0]) == {"appeal"}


def test_unnoticed_or_failed_appeals_change_nothing():
    base = run_case(**FALSE_ONLY)
    for appeals in (dict(APPEALS, success_wrong=0.0), dict(APPEALS, notified=0.0,
                                                             notice_otherwise=0.0)):
        r = run_case(**FALSE_ONLY, policy={"remedies": {"appeals": appeals}})
        assert col(r, "listed") == col(base, "listed") == [0, 0] + [1] * 8
        assert sum(col(r, "appeals_won")) == 0


def test_true_records_are_appealed_rarely_and_seldom_won():
    r = run_case(policy={"remedies": {"appeals": dict(APPEALS, appeal_true_records=0.0)}})
    assert sum(col(r, "appeals_filed")) == 0
    r = run_case(policy={"remedies": {"appeals": dict(APPEALS, appeal_true_records=1.0,
                                                      success_true=0.0)}})
    assert sum(col(r, "appeals_filed")) == 10 and sum(col(r, "appeals_won")) == 0


def test_credit_repair_removes_records_after_the_minimum_period():
    r = run_case(policy={"remedies": {"repair": {"after_days": 1,
                                                 "rate": {"per_day": 1.0}}}})
    # each record is repaired the day after it appears: one active record, score 990
    assert col(r, "records_active") == [1] * 10
    assert col(r, "credit_repairs") == [0] + [1] * 9
    assert sum(col(r, "listed")) == 0


def test_green_channel_saves_days_for_the_red_listed():
    r = run_case(acts={"neg": {"valence": "positive"}},
                 policy={"score": {"points": {"neg": 10}, "default_retention_days": "lifelong"},
                         "rewards": {"flight": {"lists": ["red"], "days_saved": 7}}},
                 replace={"policy.lists": {"red": {"kind": "score", "at_least": 1030}},
                          "policy.sanctions": {}})
    assert col(r, "list_red") == [0, 0] + [1] * 8
    assert col(r, "fast_tracked_flight") == [0, 0] + [1] * 8
    assert r.summary["green_channel_days_saved"] == {"flight": 56.0}
    assert r.residents["green_days"].tolist() == [56.0]


def test_tiers_follow_the_score():
    r = run_case(policy={"score": {"tiers": {"A": 1000, "B": 975, "C": None}}})
    assert col(r, "tier_A") == [0] * 10
    assert col(r, "tier_B") == [1, 1] + [0] * 8
    assert col(r, "tier_C") == [0, 0] + [1] * 8


def test_household_association_flags_the_other_members():
    lists = dict(COURT, family={"kind": "household", "lists": ["court"]})
    r = run_case(population={"residents": 2, "household_sizes": {2: 1.0}},
                 replace={"policy.lists": lists, "policy.sanctions": {}})
    assert col(r, "list_court") == [2] * 10
    assert col(r, "list_family") == [2] * 10  # each is flagged for the other
    r = run_case(population={"residents": 2, "household_sizes": {1: 1.0}},
                 replace={"policy.lists": lists, "policy.sanctions": {}})
    assert col(r, "list_family") == [0] * 10  # living alone: nobody to be flagged for


FIRM_WORLD = dict(
    population={"residents": 1, "firms": {"per_1000_residents": 1000}},
    acts={"neg": {"rate": {"per_day": 0.0}},
          "missed_report": {"subject": "firm", "rate": {"per_day": 1.0}}},
    departments={"market": {"records": {"missed_report": {
        "coverage": {"2021-01-01": 1.0, "2021-01-03": 0.0}}}, "shares_from": "2021-01-01"}},
    policy={"score": {"points": {"missed_report": -5}},
            "firm_score": {"base": 100, "tiers": {"A": 95, "B": None}},
            "sanctions": {"flight": {"lists": ["black", "rep"]}}},
)
FIRM_LISTS = {
    "black": {"kind": "score", "below": 975},
    "abnormal": {"kind": "record", "acts": ["missed_report"], "duration_days": 5},
    "serious": {"kind": "escalation", "source": "abnormal", "after_days": 3},
    "rep": {"kind": "firm_linked", "lists": ["serious"]},
}


def test_firm_records_escalation_and_the_legal_representative():
    r = run_case(**FIRM_WORLD, replace={"policy.lists": FIRM_LISTS})
    assert r.summary["firms"] == 1
    assert col(r, "list_abnormal") == [1] * 6 + [0] * 4  # until 1 + 5
    assert col(r, "list_serious") == [0, 0, 0, 1, 1, 1, 0, 0, 0, 0]  # 3 days uncorrected
    assert col(r, "list_rep") == col(r, "list_serious")  # the resident represents it
    assert col(r, "listed") == col(r, "list_serious")
    assert col(r, "blocked_flight") == col(r, "list_serious")
    # firm score 100: -5 per report kept 3 days -> 95, 90, 90, 95, 100 ...
    assert col(r, "firm_tier_A") == [1, 0, 0, 1, 1, 1, 1, 1, 1, 1]
    assert col(r, "firm_tier_B") == [0, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert r.firms["representative"].tolist() == [0]
    assert set(r.records["subject_kind"]) == {"firm"}


def test_a_corrected_firm_never_escalates():
    lists = dict(FIRM_LISTS, abnormal=dict(FIRM_LISTS["abnormal"], duration_days=2))
    r = run_case(**FIRM_WORLD, replace={"policy.lists": lists})
    assert col(r, "list_abnormal") == [1, 1, 1] + [0] * 7
    assert sum(col(r, "list_serious")) == sum(col(r, "listed")) == 0


def test_performance_depends_on_means():
    perform = {"neg": {"rate": {"per_day": 1.0}, "removal_days": 3,
                       "multipliers": {"income": {"poor": 0.0}}}}
    for weights, expected in (([1, 0], [1] * 6 + [0] * 4), ([0, 1], [1] * 4 + [0] * 6)):
        income = {"categories": ["poor", "rich"], "weights": weights}
        r = run_case(population={"attributes": {"income": income}},
                     departments=TWO_DAYS, policy={"remedies": {"perform": perform}},
                     replace={"policy.lists": dict(COURT, court=dict(COURT["court"],
                                                                      duration_days=5)),
                              "policy.sanctions": {}})
        assert col(r, "list_court") == expected, weights  # the poor never pay: 1 + 5 days


def test_new_firms_get_a_fixed_grade_whatever_their_score():
    world = dict(FIRM_WORLD)
    world["population"] = {"residents": 1, "firms": {
        "per_1000_residents": 1000, "attributes": {"age": {"categories": ["new", "old"],
                                                           "weights": [1, 0]}}}}
    world["policy"] = dict(FIRM_WORLD["policy"], firm_score={
        "base": 100, "tiers": {"A": 95, "B": None},
        "fixed_grade": {"attribute": "age", "grades": {"new": "M"}}})
    r = run_case(**world, replace={"policy.lists": FIRM_LISTS})
    assert col(r, "firm_tier_M") == [1] * 10
    assert sum(col(r, "firm_tier_A")) == sum(col(r, "firm_tier_B")) == 0
