"""One bad-input case per rule: each is refused before any work starts with a message that
names the file, the line where possible, the path, the bad value and what is allowed."""

import subprocess
import sys
import textwrap

import pytest

from scslab.errors import ScenarioError
from scslab.scenario.loader import load_scenario, shipped_scenarios

# (id, file text or None for shipped 'minimal', --set list,
#  expected: file ('FILE' = the written file, or '--set'), line, path, value, message part)
CASES = [
    ("yaml-syntax", "name: x\npopulation: {residents: 3\n", [],
     ("FILE", 3, "", None, "YAML syntax error")),
    ("not-utf8", b"name: \xff\xfe\x00bad\n", [],
     ("FILE", None, "", None, "cannot read")),
    ("empty-file", "# only a comment\n", [],
     ("FILE", None, "", None, "the file is empty")),
    ("non-mapping", "- a\n- b\n", [],
     ("FILE", None, "", "list", "must be a mapping")),
    ("duplicate-key", "extends: minimal\nname: a\nname: b\n", [],
     ("FILE", 3, "", "name", "duplicate key 'name'")),
    ("recursive-alias", "name: &x [*x]\n", [],
     ("FILE", 1, "", None, "recursive document")),
    ("too-deep", "name: " + "[" * 100 + "]" * 100 + "\n", [],
     ("FILE", None, "", None, "levels deep")),
    ("alias-bomb", "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [" + ",".join([f"*{p}"] * 10) + "]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True)), [],
     ("FILE", None, "", None, "expands (through &anchors and *aliases)")),
    ("unknown-key", "extends: minimal\nname: bad\npopulation:\n  resident: 5\n", [],
     ("FILE", 4, "population.resident", "resident", "unknown key; allowed: residents")),
    ("wrong-type", "extends: minimal\nname: bad\npopulation:\n  residents: many\n", [],
     ("FILE", 4, "population.residents", "many", "valid integer")),
    ("probability-out-of-range", """
        extends: minimal
        name: bad
        departments:
          platform:
            records:
              negative: {coverage: 1.5}
        """, [],
     ("FILE", 7, "departments.platform.records.negative.coverage", 1.5, "between 0 and 1")),
    ("negative-rate", """
        extends: minimal
        name: bad
        acts:
          negative:
            rate: {per_year: -2}
        """, [],
     ("FILE", 6, "acts.negative.rate.per_year", -2, "greater than or equal to 0")),
    ("false-record-rate-negative", """
        extends: minimal
        name: bad
        departments:
          platform:
            records:
              negative: {false_per_resident_year: -1}
        """, [],
     ("FILE", 7, "departments.platform.records.negative.false_per_resident_year", -1,
      "rate >= 0")),
    ("not-finite", """
        extends: minimal
        name: bad
        population:
          attributes:
            group: {categories: [0, 1], weights: [.inf, 1]}
        """, [],
     ("FILE", 6, "population.attributes.group.weights[0]", float("inf"), "finite number")),
    ("dated-values-out-of-order", None,
     ["policy.lists.blacklist.below={2022-01-01: 900, 2021-01-01: 950}"],
     ("--set", None, "policy.lists.blacklist.below", None, "dates out of order")),
    ("end-before-start", "extends: minimal\nname: bad\ndays: null\nend: 2020-06-01\n", [],
     ("FILE", None, "", None, "end (2020-06-01) must be after start (2021-01-01)")),
    ("undefined-act", """
        extends: minimal
        name: bad
        policy:
          score:
            points: {negtive: -5}
        """, [],
     ("FILE", 6, "policy.score.points.negtive", "negtive",
      "unknown act; defined: negative, prosocial")),
    ("department-records-undefined-act", """
        extends: minimal
        name: bad
        departments:
          courts:
            records: {judgment: {coverage: 1}}
            shares_from: 2021-01-01
        """, [],
     ("FILE", 6, "departments.courts.records.judgment", "judgment", "unknown act")),
    ("undefined-list", """
        extends: minimal
        name: bad
        policy:
          sanctions:
            flight: {lists: [blacklist, nolist]}
        """, [],
     ("FILE", 6, "policy.sanctions.flight.lists[1]", "nolist",
      "unknown list; defined: blacklist")),
    ("undefined-action", """
        extends: minimal
        name: bad
        policy:
          sanctions:
            boat: {lists: [blacklist]}
        """, [],
     ("FILE", 6, "policy.sanctions.boat", "boat", "unknown action; defined: flight")),
    ("extends-cycle", "extends: case.yaml\nname: bad\n", [],
     ("FILE", None, "extends", None, "cycle in extends: ")),
    ("extends-not-a-name", "extends: [minimal, tiny]\nname: bad\n", [],
     ("FILE", 1, "extends", ["minimal", "tiny"], "extends takes one scenario name or path")),
    ("extends-missing", "extends: nowhere.yaml\nname: bad\n", [],
     ("FILE", 1, "extends", "nowhere.yaml", "no such scenario file")),
    ("set-nonexistent-path", None, ["policy.lists.blacklst.below=900"],
     ("--set", None, "policy.lists.blacklst.below", "blacklst",
      "no such path: policy.lists has no 'blacklst' (it has: blacklist)")),
    ("set-into-a-value", None, ["seed.x=3"],
     ("--set", None, "seed.x", "x", "seed is a single value, not a section")),
    ("set-without-equals", None, ["population.residents"],
     ("--set", None, "population.residents", None, "write --set as dotted.path=VALUE")),
    ("score-list-below-unreachable", None, ["policy.score.min=960"],
     ("MINIMAL", "BLACKLIST", "policy.lists.blacklist.below", 950.0,
      "can never list anyone: no score can fall below it (lowest reachable score 960")),
    ("score-list-at-least-unreachable", None,
     ["policy.score.max=1100", "policy.lists.red={kind: score, at_least: 1200}"],
     ("--set", None, "policy.lists.red.at_least", 1200.0,
      "no score reaches it (highest reachable score 1100")),
    ("score-list-acts-never-shared", None, ["departments.platform.shares_from=null"],
     ("MINIMAL", "BLACKLIST", "policy.lists.blacklist.below", 950.0,
      "department platform records it but never shares")),
    ("record-list-acts-never-recorded", """
        extends: minimal
        name: bad
        acts:
          default: {rate: {per_year: 0.1}}
        policy:
          lists:
            court: {kind: record, acts: [default]}
          sanctions:
            flight: {lists: [court]}
        """, [],
     ("FILE", 8, "policy.lists.court.acts", ["default"],
      "none of its acts reaches the platform (default: no department records it)")),
]


def _case(tmp_path, text, sets):
    if text is None:
        return "minimal", sets
    p = tmp_path / "case.yaml"
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(textwrap.dedent(text))
    return p, sets


@pytest.mark.parametrize("cid,text,sets,want", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_a_clear_message(tmp_path, cid, text, sets, want):
    ref, sets = _case(tmp_path, text, sets)
    with pytest.raises(ScenarioError) as e:
        load_scenario(ref, sets=sets)
    file, line, path, value, message = want
    p = e.value.problems[0]
    if file == "FILE":
        assert p["file"] == str(ref)
    elif file == "MINIMAL":
        assert p["file"].endswith("minimal.yaml")
    else:
        assert p["file"] == file
    if line == "BLACKLIST":  # the line of minimal.yaml that defines the black list
        text = shipped_scenarios()["minimal"].read_text()
        line = 1 + next(i for i, t in enumerate(text.splitlines()) if "blacklist: {" in t)
    if line is not None:
        assert p.get("line") == line, p
    assert p["path"] == path, p
    if value is not None:
        assert p["value"] == value, p
    assert message in str(e.value), str(e.value)
    # rendered for the user: where, what and the bad value, on one line each
    first = str(e.value).splitlines()[0]
    assert first.startswith(str(p["file"]) + (f":{line}" if line else ""))


def test_a_sanction_hanging_on_lists_that_never_list_is_named_too():
    with pytest.raises(ScenarioError) as e:
        load_scenario("minimal", sets=["policy.score.points.negative=0"])
    paths = [p["path"] for p in e.value.problems]
    assert paths == ["policy.lists.blacklist.below", "policy.sanctions.flight.lists"]
    assert "this sanction never applies" in str(e.value)


def test_lists_that_can_list_pass():
    # a floor below the threshold, a cap that still reaches it, a red list under the max
    s = load_scenario("tiny")
    assert set(s.policy.lists) >= {"blacklist", "court", "redlist"}
    load_scenario("minimal", sets=["policy.score.min=900", "policy.score.caps.negative=60"])


@pytest.mark.parametrize("args,needle", [
    (["run", "{bad}", "--out", "{out}"], "policy.lists.blacklist.below"),
    (["run", "minimal", "--set", "policy.lists.blacklst.below=900", "--out", "{out}"],
     "no such path"),
])
def test_cli_refuses_before_any_work(tmp_path, args, needle):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: minimal\nname: bad\npolicy:\n  score:\n    min: 990\n")
    out = tmp_path / "run"
    argv = [a.format(bad=bad, out=out) for a in args]
    r = subprocess.run([sys.executable, "-m", "scslab", *argv], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and needle in r.stderr
    assert r.stderr.startswith("error: ")
    assert not out.exists() and not list(tmp_path.glob(".run*"))


def test_residents_below_the_units_shrink_the_units_unless_units_are_given():
    from scslab import api

    cm = api.prepare("minimal", residents=30, days=5)  # minimal has more units than 30
    assert cm.scenario.population.units == 30 and cm.residents == 30
    with pytest.raises(ScenarioError, match=r"units \(80\) cannot exceed residents \(50\)"):
        api.prepare("minimal", residents=50, sets=["population.units=80"])
