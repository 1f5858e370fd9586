"""Targets files are validated like scenarios, before any model run: through the CLI."""

from __future__ import annotations

import time

import pytest
import yaml
from typer.testing import CliRunner

from scslab.cli import app
from scslab.experiments.targets import TargetsError, load_targets

GOOD = {"description": "x", "targets": [
    {"name": "listed", "measure": "listed_end", "value": 100, "source": "a paper"}]}


def _write(tmp_path, doc) -> str:
    f = tmp_path / "t.yaml"
    f.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    return str(f)


def _target(**changes) -> dict:
    return {"description": "x", "targets": [dict(GOOD["targets"][0], **changes)]}


@pytest.mark.parametrize("doc,path,needle", [
    (_target(value=float("nan")), "targets[0].value", "expected a finite number"),
    (_target(value=float("inf")), "targets[0].value", "expected a finite number"),
    (_target(per_residents=-1.4e9), "targets[0].per_residents", "expected a number above 0"),
    (_target(scale=0), "targets[0].scale", "expected a number above 0"),
    (_target(at="01/02/2017"), "targets[0].at", "expected a date YYYY-MM-DD"),
    (_target(cumulative="yes"), "targets[0].cumulative", "expected true or false"),
    (_target(value=0), "targets[0]", "a target of 0 needs a 'scale'"),
    (_target(valeu=3), "targets[0].valeu", "unknown key; allowed: name, measure, value"),
    ({"description": "x", "tolerance": float("inf"), "targets": GOOD["targets"]},
     "tolerance", "expected a finite number"),
    ({"description": "x", "targets": []}, "targets", "at least 1 item"),
    ("targets:\n  - {measure: listed, value: 1, at: 2017-02-30}\n", "targets[0].at",
     "not a date: day is out of range for month"),
])
def test_bad_targets_are_refused_naming_file_line_path_and_value(tmp_path, doc, path, needle):
    f = _write(tmp_path, doc)
    with pytest.raises(TargetsError) as e:
        load_targets(f)
    first = str(e.value).splitlines()[0]
    assert first.startswith(f"{f}:") and f": {path}: " in first, first
    assert needle in str(e.value)


def test_the_cli_refuses_a_bad_targets_file_before_running_the_model(tmp_path):
    f = _write(tmp_path, _target(value=float("nan"), per_residents=-5))
    t0 = time.perf_counter()
    # documented-china at full scale would run for minutes: refused before it starts
    r = CliRunner().invoke(app, ["targets", "documented-china", "--targets", f])
    assert r.exit_code == 2, r.output
    out = r.stdout + (getattr(r, "stderr", "") or "")
    assert "targets[0].value: expected a finite number" in out
    assert "targets[0].per_residents: expected a number above 0 (got -5)" in out
    assert time.perf_counter() - t0 < 60
    r = CliRunner().invoke(app, ["calibrate", "minimal", "--targets", f, "--params",
                                 "acts.negative.rate.per_day", "--residents", "500"])
    assert r.exit_code == 2 and "expected a finite number" in (
        r.stdout + (getattr(r, "stderr", "") or ""))


def test_the_shipped_targets_pass():
    meta, targets = load_targets("documented-china")
    assert meta["tolerance"] == 0.15 and len(targets) >= 5
    # counts are national (scaled to 1.4B residents); shares (a / b) are not scaled
    assert all(t.per_residents == 1.4e9 if "/" not in t.measure else t.per_residents is None
               for t in targets)
