"""The scenario in plain words: each list rule kind, dated values, percentages."""

from __future__ import annotations

import datetime as dt

from scslab.report.words import dated, list_rule, pct
from scslab.scenario.schema import (
    EscalationList,
    FirmLinkedList,
    HouseholdList,
    RecordList,
    ScoreList,
)


def test_each_list_rule_kind_reads_as_a_sentence():
    assert list_rule(ScoreList(kind="score", below=900)) == "score below 900 (black list)"
    assert list_rule(ScoreList(kind="score", at_least=1050, starts=dt.date(2022, 1, 1))) == (
        "score at least 1050 (red list), from 2022-01-01")
    assert list_rule(RecordList(kind="record", acts=["judgment_default"],
                                duration_days=730)) == (
        "a record of judgment_default lists the subject for 730 days (black list)")
    assert list_rule(FirmLinkedList(kind="firm_linked", lists=["dishonest"])) == (
        "legal representative of a firm on dishonest (black list)")
    assert list_rule(HouseholdList(kind="household", lists=["court"])) == (
        "member of a household with someone on court (black list)")
    assert list_rule(EscalationList(kind="escalation", source="abnormal", after_days=1095)) == (
        "on abnormal for 1095 days (lists firms) (black list)")


def test_dated_values_and_shares_in_words():
    assert dated({dt.date(2021, 1, 1): 0.9, dt.date(2022, 1, 1): 0.98}, pct) == (
        "90.0% from 2021-01-01, 98.0% from 2022-01-01")
    assert pct(0.0005) == "0.0005" and pct(0.25) == "25.0%"
