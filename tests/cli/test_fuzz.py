"""Random and mutated scenario files through the command line, in process: never a
traceback, always exit 0 or 2, never a partial run directory."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from scslab.cli import app
from scslab.scenario.loader import shipped_scenarios

SHIPPED = {n: shipped_scenarios()[n].read_text() for n in ("tiny", "minimal")}
SMALL = ["--residents", "50", "--set", "population.units=1", "--days", "20", "-q"]


def _paths(node, prefix=()):
    """Every path to a key or list item in a parsed scenario."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append(prefix + (k,))
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append(prefix + (i,))
            out += _paths(v, prefix + (i,))
    return out


def _parent(data, path):
    node = data
    for p in path[:-1]:
        node = node[p]
    return node


values = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
    st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(-3, 3), max_size=2),
    st.sampled_from([0, 1, -1, 0.5, 1.5, 2, 365, 366, "lifelong", "score", "record",
                     "black", "negative", "flight", "blacklist", "2021-01-01"]),
)


@st.composite
def mutated_yaml(draw) -> bytes:
    name = draw(st.sampled_from(sorted(SHIPPED)))
    text = SHIPPED[name]
    kind = draw(st.sampled_from(["delete", "replace", "add", "bytes", "random"]))
    if kind == "bytes":
        raw = bytearray(text.encode())
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(raw) - 1))
            op = draw(st.sampled_from(["flip", "insert", "delete"]))
            b = draw(st.integers(0, 255))
            if op == "flip":
                raw[i] = b
            elif op == "insert":
                raw.insert(i, b)
            else:
                del raw[i]
        return bytes(raw)
    if kind == "random":
        return draw(st.one_of(
            st.text(max_size=200),
            st.builds(lambda d: yaml.safe_dump(d), st.dictionaries(
                st.sampled_from(["name", "description", "start", "days", "population",
                                 "acts", "policy", "extends", "seed"]), values, max_size=6)),
        )).encode()
    data = yaml.safe_load(text)
    data["name"] = "fuzzed"
    paths = _paths(data)
    for _ in range(draw(st.integers(1, 3))):
        path = paths[draw(st.integers(0, len(paths) - 1))]
        try:
            parent = _parent(data, path)
            if kind == "delete":
                del parent[path[-1]]
            elif kind == "replace":
                parent[path[-1]] = draw(values)
            elif isinstance(parent, dict):
                parent[draw(st.sampled_from(["extra", "rate", "lists", "below", "kind"]))] = (
                    draw(values))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()


def _invoke(args):
    result = CliRunner().invoke(app, args)
    out = (result.stdout or "") + (getattr(result, "stderr", "") or "")
    return result, out


def _check(tmpdir: Path, text: bytes | str):
    scen = tmpdir / "s.yaml"
    scen.write_bytes(text.encode() if isinstance(text, str) else text)
    out = tmpdir / "run"
    result, output = _invoke(["run", str(scen), "--out", str(out), *SMALL])
    assert result.exit_code in (0, 2), (result.exit_code, output, text)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), (result.exception, text)
    assert "Traceback" not in output
    if result.exit_code == 2:
        assert "error: " in output
        assert not out.exists(), "a refused run left a run directory"
    else:
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["complete"] and manifest["residents"] == 50
    assert not [p for p in tmpdir.iterdir() if p.name.startswith(".run")], "partial run left"


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
@given(text=mutated_yaml())
def test_mutated_scenarios_never_crash_and_never_leave_a_partial_run(text):
    with tempfile.TemporaryDirectory() as d:
        _check(Path(d), text)


def test_the_fuzzer_reaches_both_outcomes(tmp_path):
    """The mutations above are not all refused: an unmutated file runs, a broken one not."""
    ok = tmp_path / "ok"
    ok.mkdir()
    _check(ok, SHIPPED["minimal"])
    assert (ok / "run" / "manifest.json").is_file()
    bad = tmp_path / "bad"
    bad.mkdir()
    _check(bad, SHIPPED["minimal"].replace("per_day: 0.001", "per_day: 2"))
    assert not (bad / "run").exists()


def test_set_values_fuzzed_through_the_cli(tmp_path):
    for i, s in enumerate(["population.units=0", "days=-3", "seed=abc", "start=2021-13-40",
                           "policy.lists=[]", "acts={}", "population.residents=1.5",
                           "policy.sanctions.flight.lists=[blacklist, blacklist]",
                           "outputs.records=maybe", "population=null"]):
        out = tmp_path / f"run{i}"
        result, output = _invoke(["run", "minimal", "--set", s, "--out", str(out), *SMALL])
        assert result.exit_code in (0, 2), (s, output)
        assert "Traceback" not in output
        assert out.exists() == (result.exit_code == 0), s


def test_a_few_through_a_real_subprocess(tmp_path):
    """The installed entry point behaves the same as the in-process CLI."""
    cases = {"bytes.yaml": b"\x00\xff\xfe garbage \x81", "list.yaml": b"[1, 2, 3]\n",
             "deep.yaml": ("name: " + "[" * 400 + "]" * 400).encode()}
    env = dict(os.environ)
    for name, blob in cases.items():
        p = tmp_path / name
        p.write_bytes(blob)
        out = tmp_path / ("run-" + name)
        r = subprocess.run([sys.executable, "-m", "scslab", "run", str(p), "--out", str(out)],
                           capture_output=True, text=True, env=env)
        assert r.returncode == 2, (name, r.stderr)
        assert "Traceback" not in r.stderr and r.stderr.startswith("error: ")
        assert not out.exists()
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_mutation_helpers_cover_the_scenario():
    data = yaml.safe_load(SHIPPED["minimal"])
    paths = _paths(data)
    assert ("policy", "lists", "blacklist", "below") in paths
    d2 = copy.deepcopy(data)
    del _parent(d2, ("policy", "lists", "blacklist"))["blacklist"]
    assert "blacklist" not in d2["policy"]["lists"]
