"""Scenario files: extends, --set, dated values, and errors that name the file, line,
path, bad value and what is allowed."""

import datetime as dt
import textwrap

import pytest

from scslab.errors import ScenarioError
from scslab.scenario.loader import load_scenario, shipped_scenarios


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_every_shipped_scenario_validates():
    assert {"tiny", "minimal"} <= set(shipped_scenarios())
    for name in shipped_scenarios():
        s = load_scenario(name)
        assert s.description and s.sources, name


def test_extends_overrides_parts_and_keeps_the_rest(tmp_path):
    p = write(tmp_path, "child.yaml", """
        extends: minimal
        name: child
        policy:
          lists:
            blacklist: {below: {2021-01-01: 950, 2022-01-01: 900}}
        """)
    s = load_scenario(p)
    assert s.name == "child"
    assert s.population.residents == 100_000  # inherited
    assert s.policy.lists["blacklist"].below == {dt.date(2021, 1, 1): 950.0,
                                                 dt.date(2022, 1, 1): 900.0}
    assert s.policy.lists["blacklist"].kind == "score"  # merged, not replaced


def test_extends_a_relative_file_and_cycles_are_errors(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    with pytest.raises(ScenarioError, match="cycle in extends"):
        load_scenario(tmp_path / "a.yaml")


def test_set_overrides_with_yaml_values():
    s = load_scenario("minimal", sets=["population.residents=500", "start=2020-02-01",
                                       "policy.sanctions.flight.enforcement=0.5"])
    assert s.population.residents == 500
    assert s.start == dt.date(2020, 2, 1)
    assert s.policy.sanctions["flight"].enforcement == 0.5


def problem(excinfo):
    return excinfo.value.problems[0]


def test_bad_probability_names_file_line_path_value_and_range(tmp_path):
    p = write(tmp_path, "bad.yaml", """
        extends: minimal
        name: bad
        departments:
          platform:
            records:
              negative: {coverage: 1.5}
        """)
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    pr = problem(e)
    assert pr["file"] == str(p) and pr["line"] == 7
    assert pr["path"] == "departments.platform.records.negative.coverage"
    assert pr["value"] == 1.5
    assert "between 0 and 1" in pr["message"]
    assert str(p) in str(e.value) and "coverage" in str(e.value)


def test_unknown_key_lists_the_allowed_ones(tmp_path):
    p = write(tmp_path, "bad.yaml", "extends: minimal\nname: bad\npopulation:\n  resident: 5\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    pr = problem(e)
    assert pr["path"] == "population.resident" and pr["line"] == 4
    assert "unknown key" in pr["message"] and "residents" in pr["message"]


def test_undefined_references_are_named(tmp_path):
    p = write(tmp_path, "bad.yaml", """
        extends: minimal
        name: bad
        policy:
          sanctions:
            flight: {lists: [blacklist, nolist]}
        """)
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    pr = problem(e)
    assert pr["path"] == "policy.sanctions.flight.lists[1]"
    assert pr["value"] == "nolist"
    assert "unknown list; defined: blacklist" in pr["message"]


def test_dates_out_of_order_and_bad_set(tmp_path):
    with pytest.raises(ScenarioError, match="dates out of order"):
        load_scenario("minimal", sets=["policy.lists.blacklist.below={2022-01-01: 1, "
                                       "2021-01-01: 2}"])
    with pytest.raises(ScenarioError) as e:
        load_scenario("minimal", sets=["population.residents=-4"])
    assert problem(e)["file"] == "--set"
    assert problem(e)["path"] == "population.residents"


def test_yaml_syntax_error_has_a_line(tmp_path):
    p = write(tmp_path, "bad.yaml", "name: x\npopulation: {residents: 3\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    assert "YAML syntax error" in problem(e)["message"] and problem(e)["line"]


def test_unknown_scenario_lists_the_shipped_ones():
    with pytest.raises(ScenarioError, match="shipped: .*minimal"):
        load_scenario("no-such-scenario")
