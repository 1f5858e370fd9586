"""Intervals over replicates cover the true value at about their nominal rate.

Model with a known answer: a record list fed by one act that happens with probability p
each day and is always recorded; nobody leaves the list within the run.  A resident is
ever listed in d days with probability 1 - (1 - p)^d.
"""

from __future__ import annotations

from scipy import stats

from scslab.experiments.compare import Spec, run_specs
from scslab.metrics.frame import GroupMetricFrame
from scslab.run.options import RunOptions
from tests.conftest import make

P, D, N = 0.03, 10, 200
TRUE = 1 - (1 - P) ** D
EXPERIMENTS, REPLICATES, LEVEL = 20, 5, 0.9
GROUPS = ["a", "b", "c", "d"]  # four independent sets of ~50 residents per run


def scenario():
    return make(
        {"policy.lists": {"court": {"kind": "record", "acts": ["neg"], "duration_days": 100}},
         "policy.sanctions": {}, "actions": {}, "policy.score.points": {},
         "acts": {"neg": {"rate": {"per_day": P}}}},
        days=D, outputs={"records": False, "lists": False},
        population={"residents": N, "units": 1,
                    "attributes": {"group": {"categories": GROUPS}}},
    )


def test_t_intervals_cover_at_about_the_nominal_rate():
    s = scenario()
    covered = total = 0
    for e in range(EXPERIMENTS):
        # disjoint seeds per experiment: 1000 + 5e ... 1000 + 5e + 4
        runs = run_specs([Spec("m", s)], RunOptions(seed=1000 + REPLICATES * e),
                         replicates=REPLICATES)
        mf = GroupMetricFrame(groups=[rr.groups for rr in runs["m"]],
                              sensitive_features="group", metrics=["listing_rate"])
        iv = mf.intervals("by_group", level=LEVEL)  # one interval per group
        for _, row in iv.iterrows():
            total += 1
            covered += row["lo"] <= TRUE <= row["hi"]
    print(f"{covered}/{total} {LEVEL:.0%} intervals covered {TRUE:.4f}")
    assert total == len(GROUPS) * EXPERIMENTS
    # coverage ~ Binomial(80, 0.9): accept within the central 99.9% (mean 72, sd 2.7)
    lo, hi = stats.binom.ppf([0.0005, 0.9995], total, LEVEL)
    assert lo <= covered <= hi, f"{covered}/{total} intervals covered {TRUE:.4f}"


def test_the_listing_probability_is_the_analytic_one():
    runs = run_specs([Spec("m", scenario())], RunOptions(seed=5, residents=20000), replicates=1)
    rate = GroupMetricFrame(groups=runs["m"][0].groups, sensitive_features="group").overall[
        "listing_rate"]
    se = (TRUE * (1 - TRUE) / 20000) ** 0.5
    assert abs(rate - TRUE) < 4 * se
