"""The documentation site builds with ``mkdocs build --strict`` (issue 17.8): every page,
the scenario reference generated from the schema, the API from the docstrings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_mkdocs_build_strict(tmp_path):
    if not (ROOT / "mkdocs.yml").is_file():
        pytest.skip("needs the source tree")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"),
                                          *filter(None, [os.environ.get("PYTHONPATH")])])}
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                        str(site)], cwd=ROOT, capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "WARNING" not in r.stderr
    api = (site / "api" / "index.html").read_text()
    for name in ("load_comparison", "difference_from", "DirectoryKind", "RunOptions",
                 "group_difference"):
        assert name in api, name
    reference = (site / "scenario-reference" / "index.html").read_text()
    assert "ScoreList" in reference and "household" in reference
    home = (site / "index.html").read_text()
    assert "A laboratory for studying social credit systems" in home
    assert (site / "tutorial" / "index.html").is_file()
