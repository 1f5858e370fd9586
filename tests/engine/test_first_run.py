"""The first run on a machine says it is compiling, once, and later runs do not."""

from __future__ import annotations

import subprocess
import sys

import llvmlite.binding
import pytest

import scslab
from scslab.engine import first_run
from scslab.engine.runner import run_units
from scslab.run.pipeline import prepare


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """A process that has not yet checked, and a machine whose cache has no marker."""
    marker = tmp_path / "cache" / "scslab-compiled-test"
    monkeypatch.setattr(first_run, "marker_path", lambda: marker)
    monkeypatch.setattr(first_run, "_checked", False)
    return marker


def test_a_cold_machine_is_told_once_per_process(fresh):
    said = []
    assert first_run.announce_compile(said.append) is True
    assert said == [first_run.NOTICE]
    assert "compiling the engine" in said[0] and "scslab warmup" in said[0]
    assert first_run.announce_compile(said.append) is False  # once per process
    assert len(said) == 1


def test_a_warm_machine_is_told_nothing(fresh):
    first_run.mark_compiled()
    assert fresh.is_file() and first_run.is_compiled()
    said = []
    assert first_run.announce_compile(said.append) is False
    assert said == []


def test_running_units_announces_then_marks(fresh, capsys):
    cm = prepare("minimal", scslab.RunOptions(residents=50, days=5))
    assert not fresh.exists()
    run_units(cm, [0])
    assert first_run.NOTICE in capsys.readouterr().err
    assert fresh.is_file()  # the next process on this machine will not be told
    run_units(cm, [0])
    assert capsys.readouterr().err == ""


def test_the_marker_names_what_the_cache_is_keyed_by():
    name = first_run.marker_path().name
    assert name.startswith("scslab-compiled-")
    digest = scslab.jit_cache.sources_digest()[:16]
    assert digest in name and f"py{sys.version_info[0]}{sys.version_info[1]}" in name
    assert f"-{llvmlite.binding.get_host_cpu_name()}-" in name


def test_warmup_leaves_the_engine_compiled():
    r = subprocess.run([sys.executable, "-m", "scslab", "warmup"], capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    assert ("engine compiled in" in r.stdout) or ("engine already compiled" in r.stdout)
    assert first_run.is_compiled()
    again = scslab.warmup()
    assert again.compiled is False and again.seconds < 60
