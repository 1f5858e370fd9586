"""Children in households and actions taken for a child; attributes shared within a
household; legal representatives drawn with weights; firms as judgment debtors.

BASE (tests/conftest.py): a negative act every day recorded at once, -10 points kept 3
days, listed below 975 (from day 2 on), a flight attempted every day, always blocked."""

from __future__ import annotations

import numpy as np

from scslab.engine.budget import adult_share
from scslab.engine.compile import compile_scenario
from tests.conftest import make, run_case

AGE = {"age": {"categories": ["0-17", "18-59", "60+"], "weights": [0.0, 0.7, 0.3]}}
# households of two: an adult (resident 0) and a child (resident 1)
FAMILY = {"residents": 2, "units": 1, "household_sizes": {2: 1.0},
          "attributes": {**AGE, "hukou": {"categories": ["local", "migrant"]}},
          "children": {"share_of_households": 1.0, "attribute": "age"}}
SCHOOL = {"school": {"rate": {"per_day": 1.0}, "for_child": True}}


def col(r, name):
    return r.timeseries[name].tolist()


def test_a_listed_parent_blocks_the_childs_school_enrolment():
    r = run_case(population=FAMILY, actions=SCHOOL,
                 policy={"sanctions": {"school": {"lists": ["black"]}}})
    people = r.residents.set_index("resident")
    assert people.loc[1, "age"] == "0-17" and people.loc[0, "age"] != "0-17"
    # the child commits no act: one act a day, the adult's; every record is the adult's
    assert col(r, "acts_neg") == [1] * 10
    assert set(r.records["subject"]) == {0}
    # the adult is listed from day 2 on; the child is blocked at school from then on, and
    # never flies (an adult action); the adult never enrols anybody
    assert col(r, "listed") == [0, 0] + [1] * 8
    assert col(r, "blocked_school") == [0, 0] + [1] * 8
    assert col(r, "blocked_flight") == [0, 0] + [1] * 8
    assert people.loc[1, "blocked"] == 8 and people.loc[0, "blocked"] == 8
    assert col(r, "blocked_wrongful_school") == [0] * 10


def test_a_guardians_wrongful_listing_makes_the_childs_block_wrongful():
    # no true acts; the department files a false record on each adult every day
    r = run_case(population=FAMILY, actions=SCHOOL,
                 acts={"neg": {"rate": {"per_day": 0.0}}},
                 departments={"dept": {"records": {"neg": {"false_per_resident_year": 36500}}}},
                 policy={"sanctions": {"school": {"lists": ["black"]}}})
    assert set(r.records["subject"]) == {0}  # children get no false records
    assert col(r, "blocked_school") == [0, 0] + [1] * 8
    assert col(r, "blocked_wrongful_school") == [0, 0] + [1] * 8


def test_an_adult_living_alone_attempts_no_action_taken_for_a_child():
    alone = dict(FAMILY, household_sizes={1: 1.0}, residents=1)
    r = run_case(population=alone, actions=SCHOOL,
                 policy={"sanctions": {"school": {"lists": ["black"]}}})
    assert sum(col(r, "blocked_school")) == 0 and sum(col(r, "blocked_flight")) == 8


def test_children_are_a_group_of_their_own_in_other_attributes():
    r = run_case(population=FAMILY, actions=SCHOOL,
                 policy={"sanctions": {"school": {"lists": ["black"]}}})
    g = r.groups[(r.groups["period"] == "run") & (r.groups["measure"] == "residents")]
    by = {(a, c): v for a, c, v in zip(g["attribute"], g["group"], g["value"], strict=True)}
    assert by[("age", "0-17")] == 1 and by[("all", "all")] == 2
    # in hukou, the adult counts under its category and the child under 0-17
    assert by[("hukou", "0-17")] == 1
    assert by[("hukou", "local")] + by[("hukou", "migrant")] == 1
    blocked = r.groups[(r.groups["period"] == "run") & (r.groups["measure"] == "blocked")]
    bb = {(a, c): v for a, c, v in zip(blocked["attribute"], blocked["group"],
                                        blocked["value"], strict=True)}
    assert bb[("hukou", "0-17")] == 8  # the child's school blocks stay with children


def test_children_share_and_count_per_household():
    # households of 3, half with children, 1 or 2 children (weights 1:1): children are
    # 0.5 * 1.5 / 3 = 25% of residents (binomial over households; tolerance 0.015, ~4 SE)
    pop = {"residents": 30_000, "units": 3, "household_sizes": {3: 1.0}, "attributes": AGE,
           "children": {"share_of_households": 0.5, "per_household": {1: 1.0, 2: 1.0},
                        "attribute": "age"}}
    r = run_case(population=pop, acts={"neg": {"rate": {"per_day": 0.0}}}, days=1)
    people = r.residents
    child = people["age"] == "0-17"
    assert abs(child.mean() - 0.25) < 0.015
    # the memory budget expects the same share of adults (children make no records)
    assert abs(adult_share(compile_scenario(make(population=pop)).arrays) - 0.75) < 1e-12
    # every household has an adult first; children are its last members
    for _, h in people.groupby(["unit", "household"]):
        flags = (h.sort_values("resident")["age"] == "0-17").tolist()
        assert not flags[0] and flags == sorted(flags)


def test_household_correlation_shares_hukou():
    pop = {"residents": 40_000, "units": 2, "household_sizes": {2: 1.0},
           "attributes": {"hukou": {"categories": ["local", "migrant"], "weights": [0.62, 0.38],
                                    "household_correlation": 0.8}}}
    r = run_case(population=pop, acts={"neg": {"rate": {"per_day": 0.0}}}, days=1)
    people = r.residents
    mixed = people.groupby(["unit", "household"])["hukou"].nunique().gt(1).mean()
    # the second member draws independently with probability 0.2: mixed with
    # 0.2 * 2 * 0.62 * 0.38 = 0.0942 (binomial over 20,000 households; tolerance 0.01)
    assert abs(mixed - 0.0942) < 0.01
    assert abs((people["hukou"] == "migrant").mean() - 0.38) < 0.01  # marginal kept
    one = dict(pop, attributes={"hukou": dict(pop["attributes"]["hukou"],
                                              household_correlation=1.0)})
    r1 = run_case(population=one, acts={"neg": {"rate": {"per_day": 0.0}}}, days=1)
    assert r1.residents.groupby(["unit", "household"])["hukou"].nunique().max() == 1


def test_representatives_are_weighted_adults():
    pop = {"residents": 20_000, "units": 2, "household_sizes": {3: 1.0},
           "attributes": {**AGE, "income": {"categories": ["low", "high"]}},
           "children": {"share_of_households": 0.5, "attribute": "age"},
           "firms": {"per_1000_residents": 100,
                     "representatives": {"multipliers": {"age": {"60+": 0.0},
                                                         "income": {"high": 3.0}}}}}
    r = run_case(population=pop, acts={"neg": {"rate": {"per_day": 0.0}}}, days=1)
    people = r.residents.set_index("resident")
    reps = people.loc[r.firms["representative"]]
    assert (reps["age"] == "18-59").all()  # no child, nobody over 60
    # among working-age adults, high income is weighted 3:1, so 3/4 of representatives
    # (2,000 draws: SE 0.01; tolerance 0.04)
    assert abs((reps["income"] == "high").mean() - 0.75) < 0.04


def test_a_firm_judgment_debtor_bans_its_legal_representative():
    # one resident, one firm that defaults every day; the firm's court record lists it
    # for 4 days, and its legal representative is barred from flying while it is listed
    r = run_case(population={"residents": 1, "firms": {"per_1000_residents": 1000}},
                 acts={"neg": {"rate": {"per_day": 0.0}},
                       "firm_default": {"subject": "firm", "rate": {"per_day": 1.0}}},
                 departments={"dept": {"records": {"firm_default": {"coverage": {
                     "2021-01-01": 1.0, "2021-01-03": 0.0}}}}},
                 replace={"policy.lists": {
                     "court": {"kind": "record", "acts": ["firm_default"], "duration_days": 4},
                     "representatives": {"kind": "firm_linked", "lists": ["court"]}},
                     "policy.sanctions": {"flight": {"lists": ["representatives"]}}})
    assert r.firms["representative"].tolist() == [0]
    assert col(r, "list_court") == [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    assert col(r, "list_representatives") == [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    assert col(r, "blocked_flight") == [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    assert np.all(r.records["subject_kind"] == "firm")
