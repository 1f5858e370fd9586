"""The uncertain: block: distributions, their checks against the fields they cover, and
how extends: merges them."""

import datetime as dt
import math
import textwrap

import numpy as np
import pytest
import yaml
from pydantic import TypeAdapter
from scipy import stats

from scslab.errors import ScenarioError
from scslab.scenario import uncertainty as u
from scslab.scenario.loader import load_scenario, scenario_data


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    if not (tmp_path / "base.yaml").exists():
        # minimal without its own unknowns, so each test declares exactly its own
        data = scenario_data(load_scenario("minimal"))
        data.pop("uncertain", None)
        (tmp_path / "base.yaml").write_text(yaml.safe_dump(data))
    return p


def make(**kw):
    return TypeAdapter(u.Distribution).validate_python({"why": "test", **kw})


def test_quantiles_medians_and_densities_are_the_textbook_ones():
    lu = make(dist="loguniform", low=0.001, high=0.1)
    assert lu.median() == pytest.approx(0.01)  # geometric midpoint
    tri = make(dist="triangular", low=0, mode=0, high=1)
    assert tri.median() == pytest.approx(1 - math.sqrt(0.5))
    be = make(dist="beta", a=2, b=6, low=0.2, high=0.6)
    assert be.frozen().mean() == pytest.approx(0.2 + 0.4 * 2 / 8)
    tn = make(dist="truncnormal", mean=0, sd=1, low=0, high=50)
    assert tn.median() == pytest.approx(stats.halfnorm.ppf(0.5), rel=1e-4)
    un = make(dist="uniform", low=2, high=4)
    assert un.logpdf([3, 5]).tolist() == [math.log(0.5), -math.inf]
    no = make(dist="normal", mean=1, sd=2)
    # a design's corner in an unbounded tail stays finite
    assert no.ppf([0.0, 1.0]).tolist() == pytest.approx(
        [stats.norm.ppf(u.TAIL, 1, 2), stats.norm.ppf(1 - u.TAIL, 1, 2)])


def test_sampling_is_reproducible_and_stays_in_the_support():
    block = {"a": make(dist="loguniform", low=1, high=100),
             "b": make(dist="beta", a=3, b=3)}
    x1 = u.sample(block, 2000, np.random.default_rng(7))
    x2 = u.sample(block, 2000, np.random.default_rng(7))
    assert np.array_equal(x1, x2) and x1.shape == (2000, 2)
    assert x1[:, 0].min() >= 1 and x1[:, 0].max() <= 100
    # log10 of a loguniform(1, 100) is uniform on [0, 2]: mean 1, sd 2/sqrt(12)
    lg = np.log10(x1[:, 0])
    assert lg.mean() == pytest.approx(1.0, abs=4 * (2 / math.sqrt(12)) / math.sqrt(2000))
    assert np.all(np.isfinite(u.log_density(block, x1)))


UNCERTAIN_MINIMAL = """
    extends: base.yaml
    uncertain:
      acts.negative.rate.per_day:
        dist: loguniform
        low: 0.0005
        high: 0.002
        why: no source; a factor of two either way
      policy.lists.blacklist.below: {dist: normal, mean: 950, sd: 10, why: none}
    """


def test_a_valid_block_loads_and_its_values_apply(tmp_path):
    s = load_scenario(write(tmp_path, "s.yaml", UNCERTAIN_MINIMAL))
    assert list(s.uncertain) == ["acts.negative.rate.per_day", "policy.lists.blacklist.below"]
    assert u.nominal_values(s, s.uncertain) == {"acts.negative.rate.per_day": 0.001,
                                                "policy.lists.blacklist.below": 950.0}
    s2 = u.with_values(s, {"acts.negative.rate.per_day": 0.0015,
                           "policy.lists.blacklist.below": 940.5})
    assert s2.acts["negative"].rate.per_day == 0.0015
    assert s2.policy.lists["blacklist"].below == 940.5
    assert s.acts["negative"].rate.per_day == 0.001  # the original is untouched


@pytest.mark.parametrize("entry, line, words", [
    ("acts.nothing.rate.per_day: {dist: uniform, low: 0, high: 1, why: x}", 4,
     ["uncertain.acts.nothing.rate.per_day", "no 'acts.nothing'"]),
    ("departments.platform.records.negative.coverage: {dist: uniform, low: 0.5, high: 1.2, "
     "why: x}", 4, ["highest value 1.2", "expected a probability between 0 and 1",
                    "uniform 0.5 to 1.2"]),
    ("acts.prosocial.rate.per_day: {dist: normal, mean: 0.005, sd: 0.001, why: x}", 4,
     ["lowest value -inf", "greater than or equal to 0", "use truncnormal or beta"]),
    ("policy.score.points.negative: {dist: uniform, low: -60, high: -40, why: x}", 4,
     ["fractional value", "whole points", "only fields that take any real number"]),
    ("departments.platform.records.negative.coverage: {dist: uniform, low: 0.5, high: 1}", 4,
     ["coverage.why", "required field is missing"]),
    ("acts.negative.rate.per_day: {dist: lognormal, mean: 1, sd: 1, why: x}", 4,
     ["'lognormal'", "uniform, loguniform, normal, truncnormal, beta, triangular"]),
    ("acts.negative.rate.per_day: {dist: loguniform, low: 0, high: 1, why: x}", 4,
     ["need 0 < low < high"]),
    ("acts.negative.rate.per_day: {dist: uniform, lo: 0, high: 1, why: x}", 4,
     ["unknown key; allowed: dist, low, high, why", "'lo'"]),
    ("acts.negative.rate.per_day: {dist: uniform, low: 0, high: 1, why: ''}", 4,
     ["why", "at least 1 character"]),
    ("policy.score.points: {dist: uniform, low: 0, high: 1, why: x}", 4,
     ["not a number"]),
])
def test_bad_entries_name_the_file_line_path_value_and_what_is_allowed(
        tmp_path, entry, line, words):
    p = write(tmp_path, "bad.yaml", f"""
        extends: base.yaml
        uncertain:
          {entry}
        """)
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    text = str(e.value)
    assert text.startswith(f"{p}:{line}: uncertain."), text
    for w in words:
        assert w in text, text


def test_extends_replaces_a_distribution_whole_and_null_drops_it(tmp_path):
    write(tmp_path, "parent.yaml", UNCERTAIN_MINIMAL)
    child = write(tmp_path, "child.yaml", """
        extends: parent.yaml
        uncertain:
          acts.negative.rate.per_day: {dist: triangular, low: 0.0008, mode: 0.001,
                                       high: 0.0015, why: child}
          policy.lists.blacklist.below: null
          acts.prosocial.rate.per_day: {dist: uniform, low: 0.004, high: 0.006, why: child}
        """)
    s = load_scenario(child)
    assert list(s.uncertain) == ["acts.negative.rate.per_day", "acts.prosocial.rate.per_day"]
    neg = s.uncertain["acts.negative.rate.per_day"]
    assert (neg.dist, neg.low, neg.mode, neg.high) == ("triangular", 0.0008, 0.001, 0.0015)


def test_a_dated_value_is_uncertain_one_date_at_a_time(tmp_path):
    p = write(tmp_path, "dated.yaml", """
        extends: base.yaml
        policy:
          lists:
            blacklist: {below: {2021-01-01: 950, 2022-01-01: 900}}
        uncertain:
          policy.lists.blacklist.below.2022-01-01: {dist: uniform, low: 880, high: 920,
                                                    why: none}
        """)
    s = load_scenario(p)
    s2 = u.with_values(s, {"policy.lists.blacklist.below.2022-01-01": 911.0})
    assert s2.policy.lists["blacklist"].below == {dt.date(2021, 1, 1): 950.0,
                                                  dt.date(2022, 1, 1): 911.0}
    whole = write(tmp_path, "whole.yaml", """
        extends: dated.yaml
        uncertain:
          policy.lists.blacklist.below: {dist: uniform, low: 880, high: 920, why: none}
        """)
    with pytest.raises(ScenarioError, match=r"the value is dated .*below\.2021-01-01"):
        load_scenario(whole)


def test_values_that_break_the_scenario_are_a_clear_error(tmp_path):
    s = load_scenario(write(tmp_path, "s.yaml", UNCERTAIN_MINIMAL))
    with pytest.raises(ScenarioError, match=r"acts\.negative\.rate\.per_day.*invalid"):
        u.with_values(s, {"acts.negative.rate.per_day": 2.0})


def test_the_system_off_twin_drops_the_unknowns_of_the_system_it_removes(tmp_path):
    from scslab.scenario.twin import system_off
    p = write(tmp_path, "s.yaml", UNCERTAIN_MINIMAL + """
      policy.sanctions.flight.enforcement: {dist: uniform, low: 0.8, high: 1.0, why: none}
    """)
    s = load_scenario(p)
    off = system_off(s)
    assert list(off.uncertain) == ["acts.negative.rate.per_day"]
