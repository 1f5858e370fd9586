"""Calibration recovers known parameters from targets the model itself produced."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

import scslab
from scslab.cli import app
from scslab.experiments.calibrate import calibrate
from scslab.experiments.targets import Target, TargetsError, load_targets, model_value
from scslab.run.options import RunOptions
from scslab.scenario.loader import load_scenario

RES = 20_000
RATE = "acts.negative.rate.per_day"
FALSE = "departments.platform.records.negative.false_per_resident_year"


def self_targets(tmp_path, sets=None):
    rr = scslab.run("minimal", residents=RES, sets=sets)
    doc = {"description": "made by the model itself", "targets": [
        {"name": "listed", "measure": "listed_mean_last_100_days",
         "value": rr.summary["listed_mean_last_100_days"], "source": "scslab minimal itself"},
        {"name": "wrongful", "measure": "wrongful_share_of_list_days",
         "value": rr.summary["wrongful_share_of_list_days"], "source": "scslab minimal itself"},
    ]}
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path, rr


def test_recovers_the_negative_act_rate_from_the_mean_list_size(tmp_path):
    path, _ = self_targets(tmp_path)
    _, targets = load_targets(path)
    res = calibrate("minimal", targets[:1], [RATE], RunOptions(residents=RES), start=[0.0015])
    # truth 0.001; started 50% away; same seed, so the objective is zero at the truth
    assert res.fitted[RATE] == pytest.approx(0.001, rel=0.01)
    assert abs(res.table["relative_error"].iloc[0]) < 0.005
    assert res.evaluations <= 40


def test_recovers_two_parameters_from_two_targets(tmp_path):
    path, _ = self_targets(tmp_path)
    res = calibrate("minimal", path, [RATE, FALSE], RunOptions(residents=RES),
                    start=[0.0013, 0.03])
    assert res.fitted[RATE] == pytest.approx(0.001, rel=0.01)
    assert res.fitted[FALSE] == pytest.approx(0.01825, rel=0.05)
    assert res.table["relative_error"].abs().max() < 0.02


def test_cli_writes_a_scenario_that_extends_the_original(tmp_path):
    path, rr = self_targets(tmp_path)
    out = tmp_path / "cal" / "minimal_cal.yaml"
    res = CliRunner().invoke(app, [
        "calibrate", "minimal", "--method", "lsq", "--targets", str(path), "--params", RATE,
        "--start", "0.0015", "--residents", str(RES), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "fitted" in res.output and "wrongful" in res.output
    assert str(out) in res.output
    doc = yaml.safe_load(out.read_text())
    assert doc["extends"] == "minimal" and doc["name"] == "minimal-calibrated"
    fitted = doc["acts"]["negative"]["rate"]["per_day"]
    assert fitted == pytest.approx(0.001, rel=0.01)
    s = load_scenario(out)
    assert s.acts["negative"].rate.per_day == fitted
    assert s.policy.score.points == load_scenario("minimal").policy.score.points
    again = scslab.run(out, residents=RES).summary["listed_mean_last_100_days"]
    assert again == pytest.approx(rr.summary["listed_mean_last_100_days"], rel=0.01)


def test_model_values_at_dates_cumulative_and_scaled():
    rr = scslab.run("minimal", residents=1000, days=60)
    ts = rr.timeseries
    t = Target(name="x", measure="listed_new", value=1.0, cumulative=True,
               at=ts["date"].iloc[9], per_residents=1e6)
    assert model_value(rr, t) == pytest.approx(ts["listed_new"].iloc[:10].sum() * 1000)
    t2 = Target(name="y", measure="listed", value=1.0, at=ts["date"].iloc[9])
    assert model_value(rr, t2) == ts["listed"].iloc[9]
    t3 = Target(name="z", measure="blocked.flight", value=1.0)
    assert model_value(rr, t3) == rr.summary["blocked"]["flight"]
    with pytest.raises(TargetsError, match="unknown measure"):
        model_value(rr, Target(name="w", measure="happiness", value=1.0))


def test_shipped_targets_load_and_errors_are_clear(tmp_path):
    _, targets = load_targets("documented-china")
    assert len(targets) >= 9 and all(t.source for t in targets)
    with pytest.raises(TargetsError, match="no such targets file"):
        load_targets("nowhere")
    res = CliRunner().invoke(app, ["calibrate", "minimal", "--targets", "documented-china",
                                   "--params", "acts.nothing.rate.per_day"])
    assert res.exit_code == 2 and "acts.nothing" in res.output
