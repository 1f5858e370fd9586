"""Intervals over parameter draws: the split between parameters and seeds, common seeds
across draws and scenarios, and the run and compare commands."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from scslab.cli import app
from scslab.experiments.draws import (
    DrawsError,
    _draw_plans,
    compare_draws,
    interval,
    run_draws,
)
from scslab.scenario.loader import scenario_data

from ..conftest import make
from .test_sensitivity import linear_world


def test_the_interval_adds_seed_noise_to_the_parameters_spread():
    y = np.array([10.0, 20.0, 30.0])  # one value per draw
    z = np.array([4.0, 6.0])  # one point at two seeds: noise -1, +1
    v = interval(y, z, level=0.5)
    pool = np.array([9, 11, 19, 21, 29, 31], dtype=float)
    assert v["median"] == pytest.approx(np.quantile(pool, 0.5))
    assert (v["lo"], v["hi"]) == pytest.approx(tuple(np.quantile(pool, [0.25, 0.75])))
    # var(y) = 100, var(z) = 2: shares of 100/102 and 2/102
    assert v["parameter_share"] == pytest.approx(100 / 102)
    assert v["seed_share"] == pytest.approx(2 / 102)
    assert v["parameter_sd"] == pytest.approx(10.0) and v["seed_sd"] == pytest.approx(2 ** 0.5)
    # a count stays a count
    assert interval(np.array([0.0, 0.0, 1.0]), np.array([0.0, 5.0]))["lo"] == 0.0


def test_draws_of_a_linear_world_are_mostly_parameter_spread():
    d = run_draws(linear_world(), draws=6, noise_runs=3, threads=2)
    assert len(d.table) == 6 + 3
    assert list(d.table["kind"]).count("draw") == 6
    row = d.intervals.set_index("measure").loc["acts_total_negative"]
    # the rates spread the total over ~3,000 acts; Poisson noise of one run is ~50
    assert row["parameter_share"] > 0.99
    draws = d.table[d.table["kind"] == "draw"]
    assert set(draws["seed"]) == {linear_world().seed}  # common random numbers
    expected = 2000 * 100 * (draws["acts.neg.rate.per_day"] + draws["acts.other.rate.per_day"])
    assert np.allclose(draws["acts_total_negative"], expected, rtol=0.08)


def test_a_scenario_without_unknowns_cannot_draw():
    with pytest.raises(DrawsError, match="declares no uncertain"):
        run_draws(make(), draws=3)


def test_compare_draws_pairs_each_draw_across_scenarios():
    world = linear_world()
    more = make(population={"residents": 2000, "units": 4}, days=100,
                acts={"neg": {"rate": {"per_day": 0.01}}, "other": {"rate": {"per_day": 0.005}},
                      "extra": {"rate": {"per_day": 0.001}}},
                outputs={"records": False, "lists": False},
                uncertain={p: d.model_dump() for p, d in world.uncertain.items()})
    comp = compare_draws([world, more], draws=4, noise_runs=2, threads=2)
    t = comp.table.set_index(["measure", "scenario"])
    diff = t.loc[("acts_total_negative", "case#2")]
    # the second world adds one act at 0.001 a day: 200 more acts, the same in every draw
    assert diff["difference"] == pytest.approx(200, abs=60)
    assert diff["hi"] - diff["lo"] < 150
    assert t.loc[("acts_total_negative", "case"), "difference"] == 0
    assert any("case#2 has no" in n for n in comp.notes) is False


def test_run_draws_cli_writes_draws_summary_and_manifest(tmp_path):
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(scenario_data(linear_world())))
    out = tmp_path / "d"
    res = CliRunner().invoke(app, ["run", str(path), "--draws", "3", "--noise-runs", "2",
                                   "--out", str(out), "--threads", "1", "-q"])
    assert res.exit_code == 0, res.output
    assert "90% interval" in res.output and "parameters" in res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["draws"] == 3 and summary["level"] == 0.9
    m = summary["measures"]["records_created"]
    assert m["lo"] <= m["median"] <= m["hi"]
    assert m["parameter_share"] + m["seed_share"] == pytest.approx(1)
    assert (out / "draws.parquet").is_file() and (out / "manifest.json").is_file()
    res = CliRunner().invoke(app, ["run", str(path), "--posterior", str(out)])
    assert res.exit_code == 2 and "give --draws N too" in res.output


def test_a_draw_is_the_same_quantile_of_each_scenarios_own_range():
    world = linear_world()
    data = {p: d.model_dump() for p, d in world.uncertain.items()}
    data["acts.neg.rate.per_day"].update(low=0.002, high=0.002 + 2 * 0.02)
    twice = make(population={"residents": 2000, "units": 4}, days=100,
                 acts={"neg": {"rate": {"per_day": 0.02}},
                       "other": {"rate": {"per_day": 0.005}}},
                 uncertain=data)
    plans, notes = _draw_plans([world, twice], ["a", "b"], 5, 1, None)
    (pa, xa, _), (pb, xb, _) = plans["a"], plans["b"]
    assert pa == pb == ["acts.neg.rate.per_day", "acts.other.rate.per_day"]
    assert np.allclose(xb[:, 0], 2 * xa[:, 0])  # the same quantile of a range twice as wide
    assert np.array_equal(xb[:, 1], xa[:, 1])
