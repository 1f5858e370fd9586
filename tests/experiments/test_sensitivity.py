"""Global sensitivity analysis: the estimators recover known indices, a scslab model whose
indices are known exactly gives them, seed noise is measured apart, and results are the
same on threads and on Dask."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scslab.cli import app
from scslab.experiments.sensitivity import (
    NOISE,
    SensitivityError,
    design,
    indices,
    read_sensitivity,
    sensitivity,
)
from scslab.run.options import RunOptions
from scslab.scenario.schema import Scenario
from scslab.scenario.uncertainty import from_unit

from ..conftest import make

# Ishigami's function on [-pi, pi]^3 (a = 7, b = 0.1) has known Sobol indices
# (Saltelli et al., Global Sensitivity Analysis: The Primer, 2008, section 4.8).
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def ishigami(x):
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_the_estimators_recover_ishigami_indices_within_003():
    """The same design -> quantiles -> indices path as a scslab analysis, on a function
    whose indices are known analytically. Tolerance 0.03 at N = 2048 (the estimators'
    error there is about 0.01)."""
    from scslab.scenario.uncertainty import Uniform
    block = {f"x{i}": Uniform(dist="uniform", low=-math.pi, high=math.pi, why="test")
             for i in range(3)}
    unit = design("sobol", 3, 2048, seed=11)
    y = ishigami(from_unit(block, unit))
    got = {(p, idx): (v, lo, hi) for p, idx, v, lo, hi in indices("sobol", list(block), unit,
                                                                  y, seed=11)}
    for i in range(3):
        assert got[(f"x{i}", "S1")][0] == pytest.approx(ISHIGAMI_S1[i], abs=0.03)
        assert got[(f"x{i}", "ST")][0] == pytest.approx(ISHIGAMI_ST[i], abs=0.03)
        v, lo, hi = got[(f"x{i}", "ST")]
        assert lo <= v <= hi


# Two negative acts, no feedback: the total of negative acts is linear in the two daily
# rates, E[Y] = residents x days x (p_a + p_b).  With p_a uniform over a width of 0.02 and
# p_b over 0.01, the variance shares are exactly 0.02^2 : 0.01^2, so S1 = ST = (0.8, 0.2).
RESIDENTS, DAYS, WA, WB = 2000, 100, 0.02, 0.01


def linear_world() -> Scenario:
    return make(
        population={"residents": RESIDENTS, "units": 4},
        days=DAYS,
        acts={"neg": {"rate": {"per_day": 0.01}}, "other": {"rate": {"per_day": 0.005}}},
        outputs={"records": False, "lists": False},
        uncertain={
            "acts.neg.rate.per_day": {"dist": "uniform", "low": 0.001, "high": 0.001 + WA,
                                      "why": "test"},
            "acts.other.rate.per_day": {"dist": "uniform", "low": 0.001, "high": 0.001 + WB,
                                        "why": "test"},
        })


def test_sobol_on_a_scslab_world_with_exact_indices():
    res = sensitivity(linear_world(), method="sobol", samples=32, noise_runs=4,
                      measures=["acts_total_negative"], threads=2)
    r = res.ranked("acts_total_negative")
    # tolerance 0.06: N = 32 Saltelli points, and the counts' own sampling noise
    assert r.loc["acts.neg.rate.per_day", "S1"] == pytest.approx(0.8, abs=0.06)
    assert r.loc["acts.other.rate.per_day", "S1"] == pytest.approx(0.2, abs=0.06)
    assert r.loc["acts.neg.rate.per_day", "ST"] == pytest.approx(0.8, abs=0.06)
    assert r.loc["acts.other.rate.per_day", "ST"] == pytest.approx(0.2, abs=0.06)
    assert list(r.index[:2]) == ["acts.neg.rate.per_day", "acts.other.rate.per_day"]
    # seed noise: Poisson counts of ~2,000 against a spread of ~1,300 over the design
    share = r.loc[NOISE, "noise_share"]
    assert 0 < share < 0.01
    assert len(res.samples) == 32 * 4 + 4
    assert set(res.samples["kind"]) == {"design", "seed_noise"}


def test_morris_elementary_effects_are_the_slopes_and_noise_stays_below_them():
    res = sensitivity(linear_world(), method="morris", samples=6, noise_runs=6,
                      measures=["acts_total_negative"], threads=1)
    r = res.ranked("acts_total_negative")
    # an elementary effect is the change over the whole range (quantile units):
    # residents x days x width, the same on every trajectory (sigma ~ 0)
    slope_a, slope_b = RESIDENTS * DAYS * WA, RESIDENTS * DAYS * WB
    assert r.loc["acts.neg.rate.per_day", "mu_star"] == pytest.approx(slope_a, rel=0.05)
    assert r.loc["acts.other.rate.per_day", "mu_star"] == pytest.approx(slope_b, rel=0.05)
    assert r.loc["acts.neg.rate.per_day", "sigma"] < 0.05 * slope_a
    assert r.loc[NOISE, "mu_star"] < 0.1 * slope_b


def test_same_results_on_threads_and_on_dask():
    kw = dict(method="morris", samples=2, noise_runs=2, measures=["acts_total_negative"])
    one = sensitivity(linear_world(), threads=1, **kw)
    two = sensitivity(linear_world(), threads=2, **kw)
    dask = sensitivity(linear_world(), workers=1, **kw)
    for other in (two, dask):
        pd.testing.assert_frame_equal(one.samples, other.samples, check_exact=True)
        pd.testing.assert_frame_equal(one.table, other.table, check_exact=True)


def test_cli_writes_the_three_files_and_ranks_by_total_effect(tmp_path):
    path = tmp_path / "world.yaml"
    import yaml

    from scslab.scenario.loader import scenario_data
    path.write_text(yaml.safe_dump(scenario_data(linear_world())))
    out = tmp_path / "sens"
    res = CliRunner().invoke(app, [
        "sensitivity", str(path), "--method", "morris", "--samples", "3", "--noise-runs", "3",
        "--measure", "acts_total_negative", "--out", str(out), "--threads", "1"])
    assert res.exit_code == 0, res.output
    text = res.output
    assert text.index("acts.neg.rate.per_day") < text.index("acts.other.rate.per_day")
    assert "seed noise" in text
    back = read_sensitivity(out)
    assert list(back.table.columns) == ["measure", "parameter", "index", "value", "lo", "hi"]
    assert set(back.table["index"]) == {"mu_star", "sigma", "noise_share"}
    assert back.manifest["runs"] == len(back.samples) == 3 * 3 + 3
    assert {"acts.neg.rate.per_day", "seed", "acts_total_negative"} <= set(back.samples)
    res = CliRunner().invoke(app, ["report", str(out), "-o", str(tmp_path / "sens.html")])
    assert res.exit_code == 0, res.output
    page = (tmp_path / "sens.html").read_text()
    assert "Ranked by mu_star" in page and "chart-sens-0" in page
    # --param replaces the declared block
    res = CliRunner().invoke(app, [
        "sensitivity", str(path), "--method", "morris", "--samples", "2", "--noise-runs", "2",
        "--param", "acts.neg.rate.per_day=0.001:0.002", "--measure", "acts_total_negative",
        "--out", str(tmp_path / "one"), "--threads", "1"])
    assert res.exit_code == 0, res.output
    assert read_sensitivity(tmp_path / "one").parameters == ["acts.neg.rate.per_day"]


@pytest.mark.parametrize("args, words", [
    (["--method", "fast"], "choose one of sobol, morris"),
    (["--samples", "48", "--method", "sobol"], "power of 2"),
    (["--param", "acts.neg.rate.per_day=0.002"], "write PATH=LO:HI"),
    (["--param", "acts.nope.rate.per_day=0.001:0.002"], "--param: uncertain.acts.nope"),
    (["--param", "departments.platform.records.negative.coverage=0.5:1.5"],
     "expected a probability between 0 and 1"),
    (["--measure", "happiness"], "unknown measure(s) happiness"),
])
def test_bad_requests_exit_2_with_a_message(tmp_path, args, words):
    if not any(a == "--param" for a in args):
        args = [*args, "--param", "acts.negative.rate.per_day=0.0005:0.002"]
    res = CliRunner().invoke(app, ["sensitivity", "minimal", "--residents", "200", "--days",
                                   "20", "--samples", "2", "--method", "morris", "--noise-runs",
                                   "2", "--out", str(tmp_path / "x"), *args])
    assert res.exit_code == 2, res.output
    assert words in res.output
    assert not (tmp_path / "x" / "manifest.json").exists()


def test_a_scenario_without_declared_unknowns_asks_for_ranges():
    with pytest.raises(SensitivityError, match="--param PATH=LO:HI"):
        sensitivity(make(), RunOptions(days=5))
