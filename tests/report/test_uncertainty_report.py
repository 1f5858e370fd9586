"""Report pages of sensitivity, calibration and draws directories."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scslab.cli import app
from scslab.experiments.posterior import Posterior
from scslab.report.kinds import ReportError, write_report_of
from scslab.report.uncertainty import (
    calibration_sections,
    directory_kind,
    sensitivity_sections,
)
from scslab.scenario.uncertainty import Uniform


def specs(sections) -> dict:
    return {k: v for s in sections for k, v in s.charts.items()}


def test_sensitivity_page_ranks_by_total_effect_with_intervals():
    table = pd.DataFrame(
        [("listed_end", "a", "mu_star", 1.0, 0.5, 1.5), ("listed_end", "a", "sigma", 0.1, 0, 1),
         ("listed_end", "b", "mu_star", 3.0, 2.0, 4.0), ("listed_end", "b", "sigma", 0.1, 0, 1),
         ("listed_end", "seeds", "noise_share", 0.02, 0.01, 0.05),
         ("listed_end", "seeds", "mu_star", 0.2, 0.1, 0.4)],
        columns=["measure", "parameter", "index", "value", "lo", "hi"])
    manifest = {"method": "morris", "measures": ["listed_end"], "scenario_name": "x",
                "parameters": {"a": {"distribution": "uniform 0 to 1", "why": "none"},
                               "b": {"distribution": "uniform 0 to 2", "why": "none"}}}
    sections = sensitivity_sections(table, manifest)
    assert [s.title for s in sections] == ["Unknown parameters", "listed_end"]
    assert "Ranked by mu_star" in sections[1].html
    assert "Seed noise is 2.0%" in sections[1].html
    spec = json.dumps(specs(sections))
    rows = [d for ds in specs(sections)["chart-sens-0"]["datasets"].values() for d in ds]
    bars = [r for r in rows if "parameter" in r]
    assert [r["parameter"] for r in bars] == ["b", "a"]  # largest total effect first
    assert bars[0]["lo"] == 2.0 and bars[0]["hi"] == 4.0
    assert '"noise"' in spec  # the seed-noise floor is drawn


def test_calibration_page_has_prior_posterior_and_predictive_bands():
    prior = {"p": Uniform(dist="uniform", low=0, high=1, why="none")}
    rng = np.random.default_rng(1)
    particles = pd.DataFrame({"p": rng.uniform(0.4, 0.6, 50), "weight": np.full(50, 0.02),
                              "distance": 0.1, "seed": np.arange(50)})
    pred = pd.DataFrame({"series": "listed", "date": pd.date_range("2021-01-31", periods=3,
                                                                  freq="ME").date,
                         "median": [1.0, 2, 3], "p05": [0.5, 1, 2], "p25": [0.8, 1.5, 2.5],
                         "p75": [1.2, 2.5, 3.5], "p95": [1.5, 3, 4],
                         "published": [np.nan, 2.2, np.nan], "target": ["", "t", ""]})
    idn = pd.DataFrame([{"parameter": "p", "prior": "uniform 0 to 1", "prior_lo": 0.05,
                         "prior_hi": 0.95, "median": 0.5, "lo": 0.41, "hi": 0.59,
                         "width_ratio": 0.2}])
    fit = pd.DataFrame([{"target": "t", "measure": "listed", "at": "2021-02-28",
                         "published": 2.2, "median": 2.0, "p05": 1.0, "p95": 3.0,
                         "within_90": True, "source": "s"}])
    post = Posterior(scenario=None, prior=prior, targets=[], particles=particles,
                     predictive=pred, fit=fit, identifiability=idn,
                     correlations=pd.DataFrame(columns=["parameter", "other", "correlation"]),
                     manifest={"particles": 50, "runs": 400, "stopped": "done",
                               "effective_sample_size": 50.0, "generations": []})
    sections = calibration_sections(post)
    assert [s.key for s in sections] == ["cal-identifiability", "cal-prior", "cal-predictive"]
    assert "0.20" in sections[0].html
    charts = specs(sections)
    assert set(charts) == {"chart-prior-0", "chart-pred-0"}
    marks = re.findall(r'"mark": ?\{"type": ?"(\w+)"', json.dumps(charts["chart-pred-0"]))
    assert marks.count("area") == 2 and "line" in marks and "point" in marks


def test_report_command_reads_uncertainty_directories_and_refuses_a_mix(tmp_path, tiny_run):
    d = tmp_path / "sens"
    d.mkdir()
    (d / "manifest.json").write_text(json.dumps({"kind": "sensitivity"}))
    assert directory_kind(d) == "sensitivity"
    assert directory_kind(tmp_path) is None
    run_dir = tmp_path / "run"
    tiny_run.path = None
    from scslab.outputs.rundir import write_run
    write_run(run_dir, manifest=tiny_run.manifest, summary=tiny_run.summary,
              tables=tiny_run.tables())
    with pytest.raises(ReportError, match="directories of one kind"):
        write_report_of([d, run_dir], tmp_path / "r.html")
    res = CliRunner().invoke(app, ["report", str(d), "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 2 and "sensitivity" in res.output
