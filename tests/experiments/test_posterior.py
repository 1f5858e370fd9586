"""Bayesian calibration: ABC-SMC finds an exact posterior, simulation-based calibration on
`minimal` gives honest intervals, and the calibrate command writes a directory that runs
and draws read back."""

from __future__ import annotations

import datetime as dt
import functools
import math

import numpy as np
import pytest
import yaml
from pydantic import TypeAdapter
from typer.testing import CliRunner

import scslab
from scslab.cli import app
from scslab.experiments.abc import abc_smc
from scslab.experiments.points import run_point
from scslab.experiments.posterior import (
    calibrate_abc,
    read_posterior,
    target_values,
    weighted_quantiles,
)
from scslab.experiments.targets import Target
from scslab.run.options import RunOptions
from scslab.scenario import uncertainty as u
from scslab.scenario.loader import load_scenario

DIST = TypeAdapter(u.Distribution)
RATE = "acts.negative.rate.per_day"
FALSE = "departments.platform.records.negative.false_per_resident_year"
COVERAGE = "departments.platform.records.negative.coverage"


def test_abc_smc_finds_the_posterior_of_a_conjugate_normal_model():
    """theta ~ N(0, 1), y ~ N(theta, 0.5^2), y = 1: the posterior is N(0.8, 0.447^2)."""
    prior = {"theta": DIST.validate_python({"dist": "normal", "mean": 0, "sd": 1, "why": "t"})}

    def simulate(x, seeds):
        return np.array([[np.random.default_rng(int(s)).normal(x[i, 0], 0.5)]
                         for i, s in enumerate(seeds)])

    res = abc_smc(simulate, prior, [1.0], [0.5], particles=400, generations=12,
                  max_runs=20_000, seed=3)
    mean = float(res.weights @ res.x[:, 0])
    sd = math.sqrt(float(res.weights @ (res.x[:, 0] - mean) ** 2))
    # tolerances: 0.08 on the mean (the Monte Carlo error of ~400 weighted particles and
    # the last tolerance), 15% on the sd
    assert mean == pytest.approx(0.8, abs=0.08)
    assert sd == pytest.approx(math.sqrt(0.2), rel=0.15)
    assert res.adjusted  # 400 particles for one summary: the regression is safe
    assert [g.index for g in res.generations] == list(range(len(res.generations)))
    assert all(a.tolerance > b.tolerance for a, b in zip(res.generations, res.generations[1:],
                                                          strict=False))


# Simulation-based calibration: 20 truths drawn from the prior, targets made by scslab at
# each (its own seed), one ABC-SMC fit each (60 particles, at most 400 runs).
PRIOR = {
    RATE: {"dist": "loguniform", "low": 0.0005, "high": 0.002, "why": "test"},
    FALSE: {"dist": "loguniform", "low": 0.005, "high": 0.05, "why": "test"},
    COVERAGE: {"dist": "uniform", "low": 0.6, "high": 1.0, "why": "test"},
}
FITS = 20


def sbc_targets(base, truth: dict, seed: int) -> list[Target]:
    start = base.start
    # placeholders: each value is replaced by what the model made at the truth
    tg = [Target(name=f"listed_{d}", measure="listed", value=1,
                 at=start + dt.timedelta(days=d)) for d in (90, 180, 270, 364)]
    tg += [Target(name=f"wrongful_{d}", measure="listed_wrongful", value=1,
                  at=start + dt.timedelta(days=d)) for d in (180, 364)]
    tg.append(Target(name="records", measure="records_created", value=1, cumulative=True,
                     at=start + dt.timedelta(days=364)))
    options = RunOptions(residents=1000, days=365)
    made, _ = run_point(base, truth, seed, options, functools.partial(target_values, tg),
                        tables="timeseries")
    for t in tg:
        t.value = max(made[t.name], 1.0)  # a relative residual needs a value above zero
    return tg


@pytest.fixture(scope="module")
def sbc():
    base = load_scenario("minimal", sets=["population.units=1"])
    prior = {p: DIST.validate_python(d) for p, d in PRIOR.items()}
    base = base.model_copy(update={"uncertain": prior})
    inside = {p: 0 for p in prior}
    ratios = {p: [] for p in prior}
    corr = []
    for f in range(FITS):
        truth = dict(zip(prior, u.sample(prior, 1, np.random.default_rng([f, 7]))[0],
                         strict=True))
        targets = sbc_targets(base, truth, 10_000 + f)
        post = calibrate_abc(base, targets, options=RunOptions(residents=1000, days=365,
                                                               seed=100 * f),
                             particles=60, max_runs=400, min_acceptance=0.1, predictive=0,
                             threads=2)
        idn = post.identifiability.set_index("parameter")
        for p, v in truth.items():
            inside[p] += bool(idn.loc[p, "lo"] <= v <= idn.loc[p, "hi"])
            ratios[p].append(idn.loc[p, "width_ratio"])
        c = post.correlations.set_index(["parameter", "other"])["correlation"]
        corr.append(c.loc[(RATE, COVERAGE)])
    return inside, ratios, corr


def test_sbc_90_percent_intervals_hold_the_truth_80_to_97_percent_of_the_time(sbc):
    inside, _, _ = sbc
    share = sum(inside.values()) / (FITS * len(inside))
    assert 0.80 <= share <= 0.97, inside


def test_sbc_the_posterior_is_narrower_where_the_targets_inform(sbc):
    _, ratios, corr = sbc
    # the list's size and its wrongful part pin the act rate and the false-record rate
    assert np.mean(ratios[RATE]) < 0.75
    assert np.mean(ratios[FALSE]) < 0.85
    # coverage and the act rate enter the list only as a product: the targets fix the
    # product, not each, so coverage alone stays about as wide as its prior and the two
    # are negatively correlated in the posterior
    assert np.mean(ratios[COVERAGE]) > 0.85
    assert np.mean(corr) < -0.2


def test_weighted_quantiles_of_equal_weights_are_the_midpoint_rule():
    v = np.array([3.0, 1.0, 2.0, 4.0])
    assert weighted_quantiles(v, np.ones(4), [0.5]).tolist() == [2.5]
    assert weighted_quantiles(v, np.array([0, 0, 1.0, 0]) + 1e-12, [0.5])[0] == \
        pytest.approx(2.0)


def test_cli_writes_posterior_predictive_and_a_calibrated_scenario(tmp_path):
    scen = tmp_path / "world.yaml"
    scen.write_text(yaml.safe_dump({
        "extends": "minimal",
        "uncertain": {RATE: PRIOR[RATE], FALSE: PRIOR[FALSE], COVERAGE: None},
    }))
    rr = scslab.run("minimal", residents=500, days=120)
    ts = rr.timeseries
    targets = tmp_path / "targets.yaml"
    targets.write_text(yaml.safe_dump({"description": "made by the model", "targets": [
        {"name": "listed_60", "measure": "listed", "at": ts["date"].iloc[59],
         "value": float(max(ts["listed"].iloc[59], 1)), "source": "scslab itself"},
        {"name": "records", "measure": "records_created", "cumulative": True,
         "value": float(ts["records_created"].sum()), "source": "scslab itself"},
    ]}))
    out = tmp_path / "cal"
    res = CliRunner().invoke(app, [
        "calibrate", str(scen), "--targets", str(targets), "--residents", "500", "--days",
        "120", "--particles", "8", "--generations", "2", "--predictive", "5",
        "--threads", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "posterior (90% intervals)" in res.output and "width ratio" in res.output
    post = read_posterior(out)
    assert list(post.particles.columns) == [RATE, FALSE, "weight", "distance", "seed"]
    assert post.particles["weight"].sum() == pytest.approx(1.0)
    assert {"series", "date", "median", "p05", "p25", "p75", "p95", "published",
            "target"} <= set(post.predictive.columns)
    row = post.predictive[post.predictive["target"] == "listed_60"].iloc[0]
    assert row["p05"] <= row["median"] <= row["p95"] and row["published"] > 0
    doc = yaml.safe_load((out / "calibrated.yaml").read_text())
    assert doc["extends"] == "../world.yaml"
    assert set(doc["uncertain"]) == {RATE, FALSE}
    calibrated = load_scenario(out / "calibrated.yaml")
    median = post.identifiability.set_index("parameter").loc[RATE, "median"]
    assert calibrated.acts["negative"].rate.per_day == pytest.approx(median, rel=1e-5)
    assert calibrated.uncertain[RATE].dist == "truncnormal"
    # a run with draws from this posterior
    res = CliRunner().invoke(app, ["run", str(scen), "--draws", "3", "--posterior", str(out),
                                   "--residents", "500", "--days", "120", "--noise-runs", "2",
                                   "--out", str(tmp_path / "d"), "-q"])
    assert res.exit_code == 0, res.output
    assert "posterior" in res.output


@pytest.mark.parametrize("args, words", [
    (["--start", "0.001"], "--start is for --method lsq"),
    (["--out", "x.yaml"], "writes a directory"),
    (["--params", "policy.lists.blacklist.below"], "no prior"),
    (["--params", RATE, "--bounds", "0.002:0.001"], "low (0.002) must be below high"),
    (["--method", "mcmc"], "choose abc or lsq"),
])
def test_bad_calibrations_exit_2(tmp_path, args, words):
    res = CliRunner().invoke(app, ["calibrate", "minimal", "--targets", "documented-china",
                                   "--residents", "100", "--days", "10", *args])
    assert res.exit_code == 2, res.output
    assert words in res.output


def test_collapsed_weights_are_flagged_and_the_equal_weight_spread_is_kept():
    """One particle carrying all the weight gives a zero-width 'posterior'; the table must
    also carry the population's own spread, and the result must say the weights collapsed."""
    from scslab.experiments.abc import ABCResult
    from scslab.experiments.posterior import identifiability, weights_collapsed
    prior = {"a.b": u.Uniform(dist="uniform", low=0.0, high=10.0, why="a test")}
    x = np.arange(20, dtype=float).reshape(-1, 1) / 2  # 0, 0.5, ..., 9.5
    w = np.full(20, 1e-12)
    w[7] = 1.0
    w /= w.sum()
    res = ABCResult(paths=["a.b"], x=x, z=x, weights=w, distances=np.zeros(20),
                    summaries=np.zeros((20, 1)), seeds=np.arange(20), generations=[],
                    stopped="", adjusted=False)
    assert weights_collapsed(res)
    row = identifiability(prior, res).iloc[0]
    assert row["width_ratio"] < 0.15  # the weighted interval is one particle and its neighbours
    # equal weights: the 5% and 95% points of 0..9.5 in steps of 0.5, over a prior 90% width 9
    assert row["equal_lo"] < 1.0 and row["equal_hi"] > 8.5
    assert 0.8 < row["equal_width_ratio"] < 1.05
    even = ABCResult(paths=["a.b"], x=x, z=x, weights=np.full(20, 0.05), distances=np.zeros(20),
                     summaries=np.zeros((20, 1)), seeds=np.arange(20), generations=[],
                     stopped="", adjusted=False)
    assert not weights_collapsed(even)
