"""Comparisons with common random numbers, and the system-off twin."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import scslab
from scslab.api import compare
from scslab.cli import app
from scslab.experiments.compare import CompareError, build_specs
from scslab.experiments.twin import behaviour
from scslab.run.options import RunOptions
from scslab.scenario.twin import system_off

SMALL = {"residents": 3000, "days": 400}
# A list nobody can reach in 400 days (16 live negative records at once) and a sanction on
# it: a policy change that touches nobody.
UNREACHABLE = ["2:policy.lists.deep={kind: score, below: 200}",
               "2:policy.sanctions.flight.lists=[blacklist, deep]"]


def test_a_scenario_against_itself_differs_by_exactly_zero():
    c = compare(["tiny", "tiny"], replicates=2, residents=2000, days=365)
    assert c.labels == ["tiny", "tiny#2"]
    assert len(c.table) > 40
    assert (c.table["difference"].dropna() == 0).all()
    second = c.table[c.table["scenario"] == "tiny#2"]
    assert (second["lo"].dropna() == 0).all() and (second["hi"].dropna() == 0).all()
    defined = second[second["value"].notna()]
    assert len(defined) > 40 and defined["difference"].notna().all()


def test_a_policy_change_that_touches_nobody_changes_nothing():
    c = compare(["minimal", "minimal"], sets=UNREACHABLE, replicates=2, **SMALL)
    w = c.wide()
    assert w.loc["list_deep_end", "minimal#2"] == 0
    shared = w.dropna()
    assert len(shared) > 10
    assert (shared["minimal"] == shared["minimal#2"]).all()
    assert w.loc["blocked_flight", "minimal"] > 0  # the untouched sanction still bites


def test_replicate_r_uses_seed_plus_r_in_every_scenario():
    c = compare(["minimal", "strict=minimal"], sets=["strict:policy.lists.blacklist.below=990"],
                replicates=2, seed=7, **SMALL)
    for r in range(2):
        alone = scslab.run("minimal", seed=7 + r, **SMALL)
        assert c.runs["minimal"][r].summary["listed_end"] == alone.summary["listed_end"]
        strict = scslab.run("minimal", seed=7 + r, sets=["policy.lists.blacklist.below=990"],
                            **SMALL)
        assert c.runs["strict"][r].summary["listed_end"] == strict.summary["listed_end"]
    row = c.table.set_index(["measure", "scenario"]).loc[("listed_end", "strict")]
    paired = [c.runs["strict"][r].summary["listed_end"] - c.runs["minimal"][r].summary[
        "listed_end"] for r in range(2)]
    assert row["difference"] == pytest.approx(np.mean(paired))
    assert row["difference"] > 0 and row["lo"] <= row["difference"] <= row["hi"]


def test_run_directories_are_read_and_compared(tmp_path):
    scslab.run("minimal", out=tmp_path / "base", **SMALL)
    c = compare([tmp_path / "base", "minimal"], residents=SMALL["residents"],
                days=SMALL["days"])
    assert c.labels == ["base", "minimal"]
    assert c.runs["base"][0].path is not None  # read, not re-run
    assert (c.table["difference"].dropna() == 0).all()


def test_a_scaled_run_directory_sets_the_scale_of_the_others(tmp_path):
    scslab.run("described-beijing", scale=0.0001, days=60, out=tmp_path / "db")
    c = compare([tmp_path / "db", "described-beijing"], replicates=2)
    assert [rr.manifest["residents"] for rr in c.runs["described-beijing"]] == [2200, 2200]
    assert [rr.manifest["residents"] for rr in c.runs["db"]] == [2200, 2200]
    assert c.runs["db"][0].path is not None and c.runs["db"][1].path is None
    assert (c.table["difference"].dropna() == 0).all()


def test_a_bare_shipped_name_is_the_scenario_even_beside_a_run_directory(tmp_path,
                                                                         monkeypatch):
    scslab.run("minimal", out=tmp_path / "minimal", residents=500, days=20)
    monkeypatch.chdir(tmp_path)
    bare, dotted = build_specs(["minimal", "./minimal"])
    assert bare.run_dir is None and dotted.run_dir is not None


def test_set_prefixes_and_labels():
    specs = build_specs(["a=tiny", "off:tiny", "tiny"],
                        ["x.y=1", "a:p.q=2", "3:r.s={k: v}", "off:tiny:t.u=3"])
    assert [s.label for s in specs] == ["a", "off:tiny", "tiny"]
    assert specs[0].sets == ["x.y=1", "p.q=2"]
    assert specs[1].twin and specs[1].sets == ["x.y=1", "t.u=3"]
    assert specs[2].sets == ["x.y=1", "r.s={k: v}"]
    with pytest.raises(CompareError, match="no scenario labelled"):
        build_specs(["tiny"], ["zz:a.b=1"])


def test_system_off_twin_lists_nobody_and_keeps_acts_without_feedback():
    c = compare(["off:minimal", "minimal"], **SMALL)
    w = c.wide()
    assert w.loc["listed_end", "off:minimal"] == 0
    assert w.loc["listings_new", "off:minimal"] == 0
    assert w.loc["blocked_flight", "off:minimal"] == 0
    assert w.loc["listings_new", "minimal"] > 0
    acts = [m for m in w.index if m.startswith("acts_")]
    assert acts and (w.loc[acts, "off:minimal"] == w.loc[acts, "minimal"]).all()


def test_twin_measures_deterrence_and_chilling_only_through_feedback():
    off = system_off(scslab.api.prepare("tiny").scenario)
    assert off.policy.lists == {} and off.policy.sanctions == {}
    assert all(d.shares_from is None for d in off.departments.values())
    # account removal silences listed residents directly (a sanction, not a loop): off too
    no_loops = ["feedback.deterrence.enabled=false", "feedback.chilling.enabled=false",
                "feedback.economic.enabled=false", "policy.account_removal=null"]
    flat = behaviour("tiny", RunOptions(residents=2000, days=365, sets=no_loops))
    assert (flat["change"] == 0).all()
    loops = behaviour("tiny", RunOptions(residents=2000, days=365)).set_index("act")
    # with the loops on, the system lowers speech (chilling) and negative acts (deterrence)
    assert loops.loc["flagged_post", "kind"] == "speech"
    assert loops.loc["flagged_post", "change"] < 0
    negative = loops[loops["kind"] == "negative"]
    assert negative["change"].sum() < 0
    assert (loops[loops["kind"] == "positive"]["change"] == 0).all()


def test_cli_compare_writes_the_parquet(tmp_path):
    res = CliRunner().invoke(app, [
        "compare", "minimal", "minimal", "--replicates", "2", "--residents", "2000",
        "--days", "200", "--out", str(tmp_path / "cmp"),
        "--set", "2:policy.lists.blacklist.below=990"])
    assert res.exit_code == 0, res.output
    df = pd.read_parquet(tmp_path / "cmp" / "comparison.parquet")
    assert {"measure", "scenario", "value", "difference", "lo", "hi"} <= set(df.columns)
    assert set(df["scenario"]) == {"minimal", "minimal#2"}
    assert "listed_mean_last_100_days" in res.output
    meta = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert meta["seeds"] == [1, 2] and meta["scenarios"] == ["minimal", "minimal#2"]
    row = df.set_index(["measure", "scenario"]).loc[("listed_end", "minimal#2")]
    assert row["difference"] > 0


def test_cli_compare_errors_are_clean():
    res = CliRunner().invoke(app, ["compare", "tiny", "no-such-scenario"])
    assert res.exit_code == 2
    assert "no-such-scenario" in res.output and "Traceback" not in res.output
