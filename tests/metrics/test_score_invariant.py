"""score-in-range: an overflowed or otherwise impossible final score stops the run."""

from __future__ import annotations

import pytest

from scslab import api
from scslab.errors import InvariantError
from scslab.metrics.invariants import check_run, check_tables, score_bounds, table_problems
from tests.conftest import run_case


def test_a_real_traced_run_holds_the_rule_with_and_without_min_and_max():
    for over in ({}, {"policy": {"score": {"min": 990, "max": 1010}}}):
        rr = run_case(days=20, population={"residents": 30, "units": 1}, **over)
        assert rr.residents is not None and rr.records is not None and len(rr.records)
        check_run(rr)


def test_an_overflowed_score_breaks_it_per_resident():
    rr = run_case(days=20, population={"residents": 30, "units": 1})
    tables = rr.tables()
    people = tables["residents"].copy()
    people.loc[3, "final_score"] = 1_017_768_296  # what an int32 points sum that wrapped gave
    tables["residents"] = people
    bounds = score_bounds(rr.scenario)
    problems = table_problems(tables, 30, score=bounds)
    assert len(problems) == 1 and problems[0].startswith("score-in-range: resident "), problems
    assert "ends with score 1,017,768,296" in problems[0]
    with pytest.raises(InvariantError, match="score-in-range"):
        check_tables(tables, 30, score=bounds)
    # a score outside a set min/max, too
    bounds = dict(bounds, min=0, max=2000)
    people.loc[3, "final_score"] = 2500
    assert any("above the score's max 2,000" in p for p in table_problems(
        dict(tables, residents=people), 30, score=bounds))


def test_an_overflowed_score_breaks_it_on_average_without_traces():
    rr = api.run("minimal", residents=2000, days=60)
    assert rr.residents is None
    check_run(rr)
    groups = rr.groups.copy()
    mean = (groups["measure"] == "mean_final_score") & (groups["attribute"] == "all")
    groups.loc[mean, "value"] = 1_017_768_296 / 2000
    problems = table_problems(dict(rr.tables(), groups=groups), 2000,
                              score=score_bounds(rr.scenario))
    assert any(p.startswith("score-in-range: the mean final score") for p in problems), problems


def test_bounds_follow_dated_points():
    s = api.prepare("minimal", sets=["policy.score.points.negative="
                                     "{2021-01-01: -50, 2021-06-01: -400}"]).scenario
    assert score_bounds(s)["max_points"] == 400
