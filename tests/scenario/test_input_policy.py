"""One input policy for files and --set values, extends: limited and never echoing, one
naming scheme, and messages a teacher editing YAML can act on.  Through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import scslab
from scslab.cli import app
from scslab.outputs.rundir import read_manifest
from scslab.scenario.loader import load_scenario, shipped_scenarios

SMALL = ["--residents", "50", "--days", "10", "--set", "population.units=1", "-q"]
SECRET = "TOKEN-8f1c2e"  # must never be printed back


def validate(*args, cwd=None):
    r = CliRunner().invoke(app, ["validate", *map(str, args)])
    out = (r.stdout or "") + (getattr(r, "stderr", "") or "")
    return r.exit_code, out


def cli(*args, cwd=None) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "scslab", *map(str, args)], capture_output=True,
                       text=True, cwd=cwd, timeout=600)
    assert "Traceback" not in r.stderr, r.stderr
    return r


BOMB = "[" + ",".join(["&a0 [x,x,x,x,x,x,x,x,x,x]"] + [
    f"&a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]) + "]"


@pytest.mark.parametrize("value,needle,path", [
    (BOMB, "expands (through &anchors and *aliases)", "days"),
    ("&a [*a]", "recursive document", "days"),
    ("{<<: {residents: 5}, units: 1}", "YAML merge keys (<<) are not read", "population"),
    ("9" * 5000, "a whole number of 5,000 digits", "days"),
    ('"\\ud800"', "lone surrogate", "description"),
    ("9999-12-31T23:59:59-05:00", "expected a date YYYY-MM-DD (no time of day) (got "
     "'9999-12-31T23:59:59-05:00')", "start"),
    ("2021-13-01", "not a date: month must be in 1..12", "start"),
    ("[" * 200 + "]" * 200, "levels deep", "days"),
])
def test_set_values_get_the_checks_files_get(value, needle, path):
    t0 = time.perf_counter()
    code, out = validate("minimal", "--set", f"{path}={value}")
    assert code == 2, out
    assert needle in out and out.startswith(f"error: --set: {path}"), out
    assert time.perf_counter() - t0 < 20  # an alias bomb is refused, not expanded
    assert len(out) < 600  # a 5,000-digit number is not printed back whole


@pytest.mark.parametrize("text,needle,line,path", [
    ("extends: minimal\npopulation:\n  <<: {residents: 5}\n", "merge keys", 3, "population"),
    ("extends: minimal\nseed: " + "1" * 40 + "\n", "a whole number of 40 digits", 2, "seed"),
    ('extends: minimal\ndescription: "\\udc80"\n', "lone surrogate", 2, "description"),
    ("extends: minimal\nstart: 2021-13-01\n", "month must be in 1..12", 2, "start"),
    ("extends: minimal\nstart: 0000-01-01\n", "not a date: year 0 is out of range", 2,
     "start"),
])
def test_files_get_the_same_checks_at_their_path(tmp_path, text, needle, line, path):
    f = tmp_path / "case.yaml"
    f.write_text(text)
    code, out = validate(f)
    assert code == 2 and out.startswith(f"error: {f}:{line}: {path}: "), out
    assert needle in out, out


# ---------------------------------------------------------------- extends: and echoes


def test_extends_names_only_shipped_scenarios_or_yaml_files(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(f"password: {SECRET}\n")
    for target in ("/etc/passwd", str(secret), "secret"):
        f = tmp_path / "x.yaml"
        f.write_text(f"extends: {target}\n")
        code, out = validate(f)
        assert code == 2 and "extends names a shipped scenario" in out, out
        assert "or a scenario file ending in .yaml or .yml" in out and SECRET not in out
    (tmp_path / "base.yml").write_text("extends: minimal\nname: base\n")
    (tmp_path / "child.yaml").write_text("extends: base.yml\n")
    assert validate(tmp_path / "child.yaml")[0] == 0


@pytest.mark.parametrize("text", [
    f"apiVersion: v1\nkind: Secret\ndata:\n  password: {SECRET}\n",  # YAML, not a scenario
    f"key: {SECRET}: [\n",  # not even YAML
    f"- {SECRET}\n- more\n",
    f"{SECRET}\n",
])
def test_a_file_that_is_not_a_scenario_is_never_echoed(tmp_path, text):
    other = tmp_path / "other.yaml"
    other.write_text(text)
    for f in (other, tmp_path / "child.yaml"):
        (tmp_path / "child.yaml").write_text("extends: other.yaml\nname: child\n")
        code, out = validate(f)
        assert code == 2 and SECRET not in out, out


def test_a_file_too_large_to_be_a_scenario_is_not_read(tmp_path):
    f = tmp_path / "huge.yaml"
    f.write_text("extends: minimal\n# " + "x" * (5 * 2**20) + "\n")
    code, out = validate(f)
    assert code == 2 and "too large to be a scenario" in out


# ---------------------------------------------------------------- names


def test_shipped_names_are_hyphenated_as_typed_and_underscores_still_work():
    for name, path in shipped_scenarios().items():
        assert load_scenario(name).name == name == path.stem
    code, out = validate("described_beijing")
    assert code == 0 and "valid scenario 'described-beijing'" in out
    assert scslab.run("documented_china", residents=200, days=5).scenario.name == \
        "documented-china"
    code, out = validate("described-bejing")
    assert code == 2 and "did you mean 'described-beijing'?" in out


def test_a_name_of_ones_own_and_one_from_the_file(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: minimal\nname: my-class\n")
    assert load_scenario(tmp_path / "a.yaml").name == "my-class"
    (tmp_path / "My Class (v2).yaml").write_text("extends: tiny\n")
    assert load_scenario(tmp_path / "My Class (v2).yaml").name == "my-class-v2"
    (tmp_path / "b.yaml").write_text("extends: tiny\nname: null\n")
    assert load_scenario(tmp_path / "b.yaml").name == "b"
    code, out = validate(tmp_path / "a.yaml", "--set", "name=My Class")
    assert code == 2 and "expected a scenario name" in out and "e.g. my-class" in out


def test_runs_go_to_runs_name_with_or_without_a_sweep(tmp_path):
    """A file extending tiny without a name of its own never writes runs/tiny."""
    for sub, extra in (("single", []), ("sweep", ["--sweep", "seed=1,2"])):
        d = tmp_path / sub
        d.mkdir()
        (d / "class.yaml").write_text("extends: tiny\n")
        r = cli("run", "class.yaml", *SMALL, *extra, cwd=d)
        assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in (d / "runs").iterdir()) == ["class"]
    assert read_manifest(tmp_path / "single" / "runs" / "class")["scenario_name"] == "class"
    assert (tmp_path / "sweep" / "runs" / "class" / "sweep.parquet").is_file()


def test_runs_written_before_names_were_hyphenated_still_read_and_replace(tmp_path):
    out = tmp_path / "run"
    (tmp_path / "old_style.yaml").write_text("extends: minimal\nname: old_style\n")
    scslab.run(tmp_path / "old_style.yaml", out=out, residents=50, days=10)
    m = json.loads((out / "manifest.json").read_text())
    assert m["scenario_name"] == "old_style"
    assert scslab.load_run(out).scenario.name == "old_style"
    (tmp_path / "old-style.yaml").write_text("extends: minimal\nname: old-style\n")
    scslab.run(tmp_path / "old-style.yaml", out=out, residents=50, days=10)  # no --force
    assert read_manifest(out)["scenario_name"] == "old-style"


# ---------------------------------------------------------------- teachers' messages


def test_a_misspelled_list_kind_names_the_kinds(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("extends: minimal\npolicy:\n  lists:\n    blacklist: {kind: scroe, below: 9}\n")
    code, out = validate(f)
    assert code == 2 and "discriminator" not in out, out
    assert f"{f}:4: policy.lists.blacklist.kind: unknown kind 'scroe'; allowed: score, " \
           "record, firm_linked, household, escalation" in out
    f.write_text("extends: minimal\npolicy:\n  lists:\n    other: {below: 9}\n")
    code, out = validate(f)
    assert code == 2 and "policy.lists.other.kind: a kind is required; allowed: score" in out


def test_dates_are_asked_for_as_yyyy_mm_dd_at_their_field(tmp_path):
    f = tmp_path / "c.yaml"
    for text, line in (("start: 01/01/2021", "expected a date YYYY-MM-DD (got '01/01/2021')"),
                       ("start: 2021-13-01", "not a date: month must be in 1..12")):
        f.write_text(f"extends: minimal\n{text}\n")
        code, out = validate(f)
        assert code == 2 and out.startswith(f"error: {f}:2: start: "), out
        assert line in out and "invalid character" not in out, out


@pytest.mark.parametrize("value", ['"no"', '"yes"', "0", "1", '"false"'])
def test_booleans_are_true_or_false_only(tmp_path, value):
    f = tmp_path / "c.yaml"
    f.write_text(f"extends: minimal\nfeedback:\n  deterrence: {{enabled: {value}}}\n")
    code, out = validate(f)
    assert code == 2 and "feedback.deterrence.enabled: expected true or false" in out, out
    f.write_text("extends: minimal\nfeedback:\n  deterrence: {enabled: no}\n")  # YAML false
    assert validate(f)[0] == 0


def test_null_removes_an_inherited_entry_as_documented(tmp_path):
    """The example of docs/scenario-reference.md, run as written there."""
    ref = (Path(__file__).resolve().parents[2] / "docs" / "scenario-reference.md").read_text()
    example = ref.split("**Removing what a scenario inherits.**", 1)[1]
    example = example.split("```yaml\n", 1)[1].split("```", 1)[0]
    f = tmp_path / "no-green-channel.yaml"
    f.write_text(example)
    s = load_scenario(f)
    assert s.name == "no-green-channel"
    assert "redlist" not in s.policy.lists and s.policy.rewards == {}
    assert set(load_scenario("described-beijing").policy.lists) - set(s.policy.lists) == {
        "redlist"}
    # an act, and from the command line; a dangling reference is named where it is made
    sets = ["acts.prosocial=null", "departments.platform.records.prosocial=null",
            "policy.score.points.prosocial=null"]
    code, out = validate("minimal", *[a for s in sets for a in ("--set", s)])
    assert code == 0, out
    s = load_scenario("minimal", sets=sets)
    assert set(s.acts) == {"negative"} and s.policy.score.points == {"negative": -50}
    code, out = validate("minimal", "--set", "acts.prosocial=null")
    assert code == 2 and "unknown act; defined: negative" in out, out
    code, out = validate("minimal", "--set", "policy.lists.blacklist=null")
    assert code == 2 and "policy.sanctions.flight.lists[0]: unknown list" in out, out
    # where null is a value's meaning it stays: a tier without a floor is "the rest"
    s = load_scenario("described-beijing", sets=["policy.score.tiers.D=null"])
    assert list(s.policy.score.tiers) == ["AAA", "AA", "A", "B", "C", "D"]
    assert s.policy.score.tiers["D"] is None


def test_show_prints_the_resolved_scenario_without_the_removed_list():
    r = CliRunner().invoke(app, ["show", "described-beijing", "--set",
                                 "policy.lists.redlist=null", "--set", "policy.rewards=null"])
    assert r.exit_code == 0, r.output
    shown = yaml.safe_load(r.stdout)
    assert "redlist" not in shown["policy"]["lists"] and shown["policy"]["rewards"] == {}


def test_removing_a_part_removes_the_unknowns_declared_inside_it():
    base = load_scenario("described-beijing")
    assert "policy.sanctions.flight.enforcement" in base.uncertain
    s = load_scenario("described-beijing", sets=["policy.sanctions.flight=null"])
    assert "flight" not in s.policy.sanctions
    assert not [k for k in s.uncertain if k.startswith("policy.sanctions.flight.")]
    # only what sits inside the removed part goes
    assert "policy.sanctions.train.enforcement" in s.uncertain
    assert len(s.uncertain) == len(base.uncertain) - len(
        [k for k in base.uncertain if k.startswith("policy.sanctions.flight.")])
