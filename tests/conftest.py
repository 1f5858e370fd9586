"""Shared helpers: small scenarios written as dicts, so each test states its world; and
headless Chromium for the browser tests (tests/report, tests/app).

Chromium is Debian's ``chromium`` package.  When it is missing and the tests run as root
(as CI does, on a fresh machine), the session installs it with apt-get first.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess

import pytest

import scslab
from scslab.scenario.loader import deep_merge
from scslab.scenario.schema import Scenario

BASE = {
    "name": "case",
    "description": "a hand-made test case",
    "seed": 3,
    "start": "2021-01-01",
    "days": 10,
    "population": {"residents": 1, "units": 1},
    "acts": {"neg": {"rate": {"per_day": 1.0}}},
    "departments": {
        "dept": {"records": {"neg": {"coverage": 1.0}}, "shares_from": "2021-01-01"}
    },
    "policy": {
        "score": {"base": 1000, "points": {"neg": -10}, "default_retention_days": 3},
        "lists": {"black": {"kind": "score", "below": 975}},
        "sanctions": {"flight": {"lists": ["black"], "enforcement": 1.0}},
    },
    "actions": {"flight": {"rate": {"per_day": 1.0}}},
    "outputs": {"records": True, "lists": True},
}


def make(replace: dict | None = None, **over) -> Scenario:
    """BASE with nested overrides (dicts merge, other values replace); ``replace`` maps
    dotted paths to values that replace the whole subtree."""
    data = deep_merge(copy.deepcopy(BASE), over)
    for path, value in (replace or {}).items():
        *parents, last = path.split(".")
        node = data
        for p in parents:
            node = node[p]
        node[last] = value
    return Scenario.model_validate(data)


def run_case(replace: dict | None = None, **over):
    return scslab.run(make(replace, **over))


@pytest.fixture(scope="session", autouse=True)
def compiled_engine():
    """Compile the engine once, first (a clean clone's first test would otherwise pay for
    it, and every output checked before it would carry the compile notice)."""
    return scslab.warmup()


@pytest.fixture(scope="session")
def tiny_run():
    return scslab.run("tiny")


COMPARE_ARGS = ("compare", "minimal", "strict=minimal",
                "--set", "strict:policy.lists.blacklist.below=990",
                "--residents", "2000", "--days", "200", "--replicates", "3")


@pytest.fixture(scope="session")
def comparison_dir(tmp_path_factory):
    """``scslab compare --out`` through the command line, its output piped at 80 columns:
    minimal against a stricter blacklist, three paired replicates.  Returns (dir, stdout)."""
    import os
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("comparison") / "cmp"
    env = {**os.environ, "COLUMNS": "80"}
    r = subprocess.run([sys.executable, "-m", "scslab", *COMPARE_ARGS, "--out", str(out)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return out, r.stdout


BROWSERS = ("chromium", "chromium-browser")


def find_chromium() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    path = find_chromium()
    if path is not None:
        return path
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("chromium is not installed and this user cannot apt-get install it")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=1200)
    r = subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], env=env,
                       capture_output=True, text=True, timeout=2400)
    path = find_chromium()
    if path is None:
        pytest.fail(f"could not install chromium with apt-get:\n{r.stdout[-1500:]}"
                    f"\n{r.stderr[-1500:]}")
    return path
