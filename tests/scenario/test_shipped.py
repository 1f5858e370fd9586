"""The shipped scenarios: valid, described, sourced, and (documented-china) matching the
published figures."""

import copy
import datetime as dt

import yaml

import scslab
from scslab.experiments.targets import (
    IN_SAMPLE,
    OUT_OF_SAMPLE,
    check_targets,
    load_targets,
)
from scslab.scenario.loader import SHIPPED_DIR, shipped_scenarios

EXPECTED = {"tiny", "minimal", "described-beijing", "documented-china", "rongcheng",
            "safeguards", "safeguard-appeals", "safeguard-expiry", "safeguard-data",
            "safeguard-pooling", "hangzhou", "described-china"}


def test_all_promised_scenarios_ship_with_a_description_and_sources():
    assert EXPECTED <= set(shipped_scenarios())
    for name in EXPECTED:
        s = scslab.load_scenario(name)
        assert len(s.description) > 100, name
        assert s.sources, name
    assert scslab.load_scenario("described-beijing").population.residents == 22_000_000
    dc = scslab.load_scenario("documented-china")
    assert dc.population.residents == 1_400_000_000
    assert dc.start.isoformat() == "2013-10-01" and dc.n_days == 2099  # 2013-10-01 up to 2019-07-01


def _merge(a, b):
    out = copy.deepcopy(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def test_safeguards_is_the_union_of_the_four_single_safeguards():
    union: dict = {}
    for part in ("appeals", "expiry", "data", "pooling"):
        d = yaml.safe_load((SHIPPED_DIR / f"safeguard-{part}.yaml").read_text())
        union = _merge(union, {k: v for k, v in d.items()
                               if k not in ("name", "extends", "description", "sources")})
    combined = yaml.safe_load((SHIPPED_DIR / "safeguards.yaml").read_text())
    body = {k: v for k, v in combined.items()
            if k not in ("name", "extends", "description", "sources")}
    assert body == union


def test_scale_shrinks_the_population_and_reports_counts_scaled_up():
    r = scslab.run("tiny", scale=0.5, days=200)
    assert r.summary["residents"] == 5000 and r.summary["units"] == 2
    assert r.manifest["scale"] == 0.5
    sc = r.summary["scaled"]
    assert sc["residents"] == 10_000
    assert sc["blocked"] == {k: v / 0.5 for k, v in r.summary["blocked"].items()}


# In-sample figures the scenario misses today, and why: each needs an engine mechanism
# (docs/calibration.md).  A fix may remove a name; a new miss fails the test.
KNOWN_MISSES = {
    "performed_2013_11_04": "performance is front-loaded after listing (needs compliance)",
    "flights_2014_08_03": "about 9 refused attempts per person in the first month; the "
                          "fitted retry chance (0.55) and the passport gap give far fewer",
    "flights_2015_12_31": "blocks per listed debtor fell about threefold after 2015",
    "flights_2016_03_01": "as above",
    "flights_2017_02_14": "as above",
    "trains_2015_12_31": "as above, for rail",
    "trains_2016_03_01": "as above, for rail",
    "trains_2017_02_14": "as above, for rail",
    "performed_2016_12_31": "the published performance series is not consistent in 2016-18",
    "performed_2018_03_01": "as above",
    "performed_2018_05_31": "as above",
    "flights_2018_04_30": "one attempt rate compromises between early and late blocks",
    "flights_2018_05_31": "as above",
    "flights_2018_03_01": "as above",
    "trains_2018_04_30": "as above",
    "trains_2018_05_31": "as above",
    "trains_2018_03_01": "as above",
}


def test_documented_china_against_its_in_sample_and_holdout_figures():
    """At 0.3% of the population (4.2M residents): every listing figure (residents and
    organisations) and the abnormal-operations list are matched within 15% once scaled up;
    blocks and performance are within 30% from November 2017 on; the in-sample tax-grade
    share too; the figures it misses today are the known ones above.  The holdout file is
    read only with holdout_after, and every one of its figures is dated after the in-sample
    cut-off."""
    meta, ins = load_targets("documented-china")
    assert meta["until"] == dt.date(2018, 5, 31) and len(ins) == 39
    assert all(t.at <= meta["until"] and t.source for t in ins)
    r = scslab.run("documented-china", scale=0.003)
    table, tol = check_targets(r, "documented-china")
    assert tol == 0.15 and set(table["sample"]) == {IN_SAMPLE} and len(table) == 39
    missed = set(table.loc[~table["within"], "target"])
    assert missed <= set(KNOWN_MISSES), missed - set(KNOWN_MISSES)
    listing = table[table["target"].str.startswith(("listings_", "organisations_", "abnormal"))]
    assert len(listing) == 17 and listing["within"].all(), listing.to_string()
    late = table[(table["date"] >= dt.date(2017, 11, 1))
                 & table["target"].str.startswith(("flights_", "trains_", "performed_"))]
    # within 30%: one attempt rate per mode with retries and travel growth still
    # compromises between the early and the late blocks (docs/calibration.md)
    assert len(late) == 11 and (late["error"].abs() < 0.30).all(), late.to_string()
    early = table[(table["date"] < dt.date(2016, 12, 10))
                  & table["target"].str.startswith("flights_")]
    assert (early["error"] < -0.25).all(), early.to_string()  # see KNOWN_MISSES
    both, _ = check_targets(r, "documented-china", holdout_after=meta["until"])
    held = both[both["file"] == "holdout"]
    assert len(held) == 24 and (held["sample"] == OUT_OF_SAMPLE).all()
    # the grades follow the STA's rules (two unpaid arrears in a year make a C): the
    # in-sample C-or-D share is matched, and the 2018 shares of all grades sum to one
    tax = both.set_index("target")["model"]
    assert abs(tax["tax_grade_c_or_d_2017"] - 0.10) < 0.015, tax["tax_grade_c_or_d_2017"]
    grades = ["tax_grade_a_2018", "tax_grade_b_or_m_2018", "tax_grade_c_2018",
              "tax_grade_d_2018"]
    assert abs(tax[grades].sum() - 1) < 1e-9 and (tax[grades] > 0.01).all(), tax[grades]
    assert (both.loc[both["file"] == "targets", "sample"] == IN_SAMPLE).all()
