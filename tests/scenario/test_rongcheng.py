"""rongcheng: a face-valid grade distribution, sanctions that fire, and the 2015 record
counts of the city's database."""

import scslab
from scslab.experiments.targets import check_targets


def test_grades_sanctions_and_records_at_small_scale():
    """At 5% of the city (33,500 residents): nearly everyone at A or better (research
    proxy: 85-99%), AA or better a small minority (0.3-3%), a D tail of chronic defaulters
    (above 0, at most 2%) whose loans, public jobs and subsidies are blocked; AAA
    residents (the heating discount) are counted and AA or better are fast-tracked; the
    2015 record counts within 15%."""
    r = scslab.run("rongcheng", scale=0.05)
    ts = r.timeseries
    n = r.summary["residents"]
    end = ts.iloc[-1]
    share = {g: end[f"tier_{g}"] / n for g in ("AAA", "AA", "A", "B", "C", "D")}
    assert sum(share.values()) == 1.0
    assert share["AAA"] + share["AA"] + share["A"] >= 0.9
    assert 0.003 <= share["AAA"] + share["AA"] <= 0.03, share
    assert 0 < share["D"] <= 0.02, share
    assert end["list_grade_d"] == end["tier_D"]
    blocked = r.summary["blocked"]
    assert blocked["loan"] > 0 and blocked["subsidy"] > 0
    assert end["list_grade_aaa"] == end["tier_AAA"] > 0
    assert ts["fast_tracked_public_service"].sum() > 0
    table, tol = check_targets(r, "rongcheng")
    assert table["within"].all(), table.to_string()
