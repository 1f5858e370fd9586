"""Scenario files are data: safe YAML only, no pickle, no eval/exec, no network listener
except an explicit Dask scheduler, and no notion of a real person's identity data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scslab.errors import ScenarioError
from scslab.scenario.loader import load_scenario

SRC = Path(__file__).resolve().parents[1] / "src" / "scslab"


def _sources():
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 10
    return [(f, f.read_text()) for f in files]


def _code_lines(text):
    for i, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        if code.strip():
            yield i, code


def test_yaml_is_only_loaded_safely():
    for f, text in _sources():
        for i, code in _code_lines(text):
            if re.search(r"\byaml\.(load|load_all|unsafe_load|full_load)\s*\(", code):
                assert "SafeLoader" in code or "_LineLoader" in code, f"{f}:{i}: {code}"
            assert not re.search(r"yaml\.(Unsafe|Full)?Loader\b(?!.*Safe)", code) or \
                "SafeLoader" in code, f"{f}:{i}: {code}"


def test_no_pickle_eval_exec_or_shell():
    banned = [r"\bpickle\.loads?\(", r"\bcloudpickle\.loads?\(", r"\bmarshal\.loads?\(",
              r"(?<![\w.])eval\(", r"(?<![\w.])exec\(", r"\bos\.system\(",
              r"shell\s*=\s*True", r"\bshelve\.", r"__import__\("]
    for f, text in _sources():
        for i, code in _code_lines(text):
            for pat in banned:
                assert not re.search(pat, code), f"{f}:{i}: {pat}: {code}"


LISTENER = re.compile(r"\.(bind|listen)\(|socketserver|http\.server|serve_forever|uvicorn|"
                      r"flask|\bsocket\.socket\(")


APP_SERVER = "app/server.py"  # `scslab app`, the sandbox: 127.0.0.1 unless told otherwise


def test_nothing_listens_on_a_port_except_dask_and_the_sandbox_on_localhost():
    assert LISTENER.search("srv.serve_forever()") and LISTENER.search("s.bind((h, p))")
    hits = [f"{f}:{i}: {code}" for f, text in _sources() for i, code in _code_lines(text)
            if LISTENER.search(code) and not ("dask" in f.name.lower() or "distributed" in text)
            and not f.as_posix().endswith(APP_SERVER)]
    assert hits == []
    import inspect

    from scslab.cli.app import app_command
    host = inspect.signature(app_command).parameters["host"].default
    assert host == "127.0.0.1"


def test_an_embedded_dask_cluster_listens_on_localhost_only_and_has_no_dashboard():
    """Dask starts an HTTP server even with ``dashboard_address=None`` (on 8787): scslab
    binds it to a random loopback port with no routes, and stops it, unless a dashboard is
    asked for; tests/run/test_distributed.py checks the sockets of a running cluster."""
    calls = [(f, text, text[m.end(): m.end() + 500].split("\n)", 1)[0])
             for f, text in _sources() for m in re.finditer(r"LocalCluster\(", text)]
    assert calls, "the embedded cluster is no longer found: update this test"
    for f, text, call in calls:
        assert 'host="127.0.0.1"' in call and '"127.0.0.1:0"' in call, f
        assert "security=security" in call, f
        assert '"distributed.scheduler.http.routes": []' in text, f


IDENTITY = re.compile(
    r"\b(id_?card|identity_?card|national_?id|citizen_?id|shenfenzheng|passport_?(no|number)|"
    r"phone_?(no|number)|mobile_?number|social_?security_?number|\bssn\b|home_?address|"
    r"real_?name|face_?(image|photo)|biometric|license_?plate|bank_?account_?number|"
    r"wechat_?id|email_?address)\b", re.I)


def test_no_real_identity_fields_anywhere():
    """MODEL.md section 1 scope line: scslab has no schema for a real person's identity."""
    for f, text in _sources():
        for i, code in _code_lines(text):
            assert not IDENTITY.search(code), f"{f}:{i}: {code}"
    for y in sorted((SRC / "scenarios").glob("*.yaml")):
        for i, line in enumerate(y.read_text().splitlines(), 1):
            key = line.split("#", 1)[0].split(":", 1)[0]
            assert not IDENTITY.search(key), f"{y}:{i}: {line}"


@pytest.mark.parametrize("payload", [
    "!!python/object/apply:os.system ['echo pwned > {flag}']",
    "!!python/name:os.system",
    "!!python/object/new:subprocess.Popen [['touch', '{flag}']]",
])
def test_scenario_files_cannot_run_code(tmp_path, payload):
    flag = tmp_path / "pwned"
    p = tmp_path / "evil.yaml"
    p.write_text(f"extends: minimal\nname: evil\ndescription: {payload.format(flag=flag)}\n")
    with pytest.raises(ScenarioError, match="YAML syntax error|could not determine a constructor"):
        load_scenario(p)
    assert not flag.exists()
