"""The sandbox's configuration without a browser: the URL round trip, levers as
``--set`` assignments, the Reproduce commands, and bad input answered with the command
line's messages."""

from __future__ import annotations

import shlex
import subprocess
import sys

import pytest
import yaml

from scslab.app.config import Config, compare_command, overrides_yaml
from scslab.app.levers import LEVERS, item_index, levers_markdown, sets_for
from scslab.app.preview import FieldProblems, Previewer, open_base, variant_of
from scslab.app.screen import parameter_intervals, screen_command
from scslab.errors import ScenarioError
from scslab.scenario.loader import load_scenario


@pytest.fixture(scope="module")
def tiny():
    return load_scenario("tiny")


def test_url_round_trip_keeps_scenario_seed_and_every_item():
    c = Config("tiny", "7", {"below.blacklist": "950", "appeal": "off",
                             "sanctions.flight": "blacklist,court"})
    q = c.query()
    assert q == ("scenario=tiny&seed=7&below.blacklist=950&appeal=off"
                 "&sanctions.flight=blacklist,court")
    assert Config.from_query("?" + q) == c
    assert Config.from_query("") == Config("tiny", None, {})
    # an item set back to the scenario's value leaves the URL
    assert c.with_value("appeal", None).query() == (
        "scenario=tiny&seed=7&below.blacklist=950&sanctions.flight=blacklist,court")
    assert c.with_scenario("minimal") == Config("minimal", None, {})


def test_odd_characters_survive_the_url():
    c = Config("my scenarios/a&b.yaml", "1", {"below.blacklist": "9 5"})
    assert Config.from_query(c.query()) == c


def test_levers_become_the_set_assignments_of_the_command_line(tiny):
    items = item_index(tiny)
    assert {"below.blacklist", "appeal", "enforcement", "retention", "coverage",
            "false_records", "misattribution", "speech", "association", "economic",
            "deterrence", "chilling"} <= set(items)
    assert any(k.startswith("sanctions.") for k in items)
    assert items["appeal"][1].baseline == "off"  # tiny has no notice and appeal
    sets, owner = sets_for(tiny, {"below.blacklist": "950", "appeal": "on",
                                  "economic": "off", "sanctions.flight": "court"})
    assert sets == ["policy.lists.blacklist.below=950",
                    "policy.sanctions.flight.lists=[court]",
                    "policy.remedies.appeals.notified=1",
                    "feedback.economic.enabled=false"]
    assert owner["policy.lists.blacklist.below"] == "below.blacklist"
    # the scenario's own value sets nothing, and unknown keys are ignored
    assert sets_for(tiny, {"below.blacklist": items["below.blacklist"][1].baseline,
                           "no.such": "1"}) == ([], {})
    # what the levers set is exactly what `scslab run --set` loads
    loaded = load_scenario("tiny", sets=sets)
    assert loaded.policy.lists["blacklist"].below == 950
    assert loaded.policy.sanctions["flight"].lists == ["court"]
    assert loaded.policy.remedies.appeals.notified == 1
    assert loaded.feedback.economic.enabled is False
    assert variant_of(open_base("tiny"), sets) == loaded


def test_factor_levers_scale_every_department_and_cap_shares(tiny):
    sets, _ = sets_for(tiny, {"coverage": "1.5", "false_records": "0"})
    # the paths the levers fix are no longer uncertain: the traffic cameras' coverage,
    # declared 0.5 to 0.9, is now 1, and false records 0
    assert sets[-1].startswith("uncertain={")
    assert ("departments.traffic_police.records.traffic_violation.coverage.2022-01-01: null"
            in sets[-1])
    s = load_scenario("tiny", sets=sets)
    assert len(s.uncertain) == len(tiny.uncertain) - sets[-1].count(": null")
    assert not any(u.endswith("false_per_resident_year") or ".coverage" in u
                   for u in s.uncertain)
    for d, dep in tiny.departments.items():
        for a, r in dep.records.items():
            got = s.departments[d].records[a]
            want = (r.coverage if isinstance(r.coverage, dict)
                    else min(1.0, r.coverage * 1.5))
            if not isinstance(r.coverage, dict):
                assert got.coverage == pytest.approx(want, rel=1e-5)
            if not isinstance(r.false_per_resident_year, dict):
                assert got.false_per_resident_year == 0


def test_reproduce_command_and_yaml(tiny):
    sets, _ = sets_for(tiny, {"below.blacklist": "950"})
    cmd = compare_command("tiny", sets, seed=2021, scale=1.0)
    assert shlex.split(cmd) == ["scslab", "compare", "baseline=tiny", "variant=tiny",
                                "--set", "variant:policy.lists.blacklist.below=950",
                                "--seed", "2021", "--replicates", "3"]
    text = overrides_yaml("tiny", sets)
    assert yaml.safe_load(text) == {"extends": "tiny",
                                    "policy": {"lists": {"blacklist": {"below": 950}}}}
    scmd = screen_command("minimal", [], ["listed_end"], seed=1, scale=0.1, out="screen")
    assert shlex.split(scmd) == ["scslab", "sensitivity", "minimal", "--measure",
                                 "listed_end", "--method", "morris", "--samples", "4",
                                 "--noise-runs", "4", "--seed", "1", "--scale", "0.1",
                                 "--out", "screen"]


def test_a_bad_value_gets_the_command_lines_message_beside_its_field():
    previewer = Previewer(workers=0)
    with pytest.raises(FieldProblems) as err:
        previewer.preview(Config("tiny", None, {"enforcement": "1.5"}))
    by_field = err.value.by_field
    assert set(by_field) == {"enforcement"}
    sets, _ = sets_for(load_scenario("tiny"), {"enforcement": "1.5"})
    r = subprocess.run([sys.executable, "-m", "scslab", "validate", "tiny",
                        *[x for a in sets for x in ("--set", a)]],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert by_field["enforcement"][0] in r.stderr
    with pytest.raises(ScenarioError):
        load_scenario("tiny", sets=sets)


def test_a_bad_scenario_or_seed_is_answered_beside_that_field(tmp_path):
    previewer = Previewer(workers=0)
    with pytest.raises(FieldProblems) as err:
        previewer.preview(Config(str(tmp_path / "missing.yaml")))
    assert set(err.value.by_field) == {"scenario"}
    assert "missing.yaml" in err.value.by_field["scenario"][0]
    with pytest.raises(FieldProblems) as err:
        previewer.preview(Config("tiny", "minus one"))
    assert set(err.value.by_field) == {"seed"}
    assert "minus one" in err.value.by_field["seed"][0]


def test_parameter_intervals_are_the_uncertain_blocks_quantiles():
    t = parameter_intervals(load_scenario("minimal"))
    row = t.set_index("parameter").loc["departments.platform.records.negative.coverage"]
    assert row["distribution"] == "uniform 0.7 to 1"
    assert (row["lo"], row["hi"]) == pytest.approx((0.715, 0.985))


def test_the_docs_hold_the_table_of_levers():
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "app.md"
    assert levers_markdown() in doc.read_text(encoding="utf-8")
    assert len(LEVERS) == 13
