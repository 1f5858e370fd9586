"""A violated invariant stops the run, naming the rule, before anything is written."""

from __future__ import annotations

import numpy as np
import pytest

import scslab
from scslab.errors import InvariantError, ScenarioError
from scslab.metrics import invariants, tables
from scslab.metrics.invariants import check_tables, table_problems
from scslab.run import pipeline
from scslab.run.options import RunOptions


@pytest.fixture(scope="module")
def clean():
    r = scslab.run("tiny", residents=3000, days=200, trace=True)
    return r, list(r.scenario.population.attributes)


def _broken(clean, table, fn):
    r, attrs = clean
    t = {k: v.copy() for k, v in r.tables().items()}
    fn(t[table])
    return table_problems(t, 3000, attrs)


def test_a_real_run_keeps_every_invariant(clean):
    r, attrs = clean
    assert table_problems(r.tables(), 3000, attrs) == []


def _set(col, value, row=5):
    def f(df):
        df[col] = df[col].astype(float) if isinstance(value, float) else df[col]
        df.loc[row, col] = value
    return f


CASES = [
    ("timeseries", _set("listed_wrongful", np.nan), "no-nan"),
    ("timeseries", _set("records_active", -1), "non-negative-counts"),
    ("timeseries", _set("listed", 3001), "listed-le-residents"),
    ("timeseries", _set("list_court", 5000), "listed-le-residents"),
    ("timeseries", _set("listed_wrongful", 10**6), "wrongful-le-listed"),
    ("timeseries", _set("blocked_wrongful_flight", 10**6), "wrongful-le-listed"),
    ("timeseries", _set("listed_new", 10**5, row=0), "listing-flow"),
    ("timeseries", _set("records_created_false", 10**5), "records-by-provenance"),
    ("records", lambda df: df.__setitem__("provenance", df["provenance"].astype(object))
     or df.__setitem__("provenance", [None] + list(df["provenance"].iloc[1:])),
     "record-provenance"),
    ("records", _set("subject", -1, row=0), "record-provenance"),
    ("groups", lambda df: df.loc[df.measure == "ever_listed", "value"].iloc[:1].pipe(
        lambda s: df.__setitem__("value", df["value"].where(df.index != s.index[0], -3.0))),
     "non-negative-counts"),
    ("groups", lambda df: df.loc[(df.measure == "residents") & (df.attribute == "sex"),
                                 "value"].iloc[:1].pipe(
        lambda s: df.__setitem__("value", df["value"].where(df.index != s.index[0], 1.0))),
     "group-residents"),
    ("scores", _set("residents", -2, row=0), "non-negative-counts"),
]


@pytest.mark.parametrize("table,fn,rule", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_each_broken_rule_is_named(clean, table, fn, rule):
    problems = _broken(clean, table, fn)
    assert problems and any(p.startswith(rule + ":") for p in problems), problems


@pytest.fixture
def broken_timeseries(monkeypatch):
    """Runs whose timeseries has a negative count (records_active on day 3)."""
    real = tables.timeseries_table

    def negative(cm, out):
        ts = real(cm, out)
        ts.loc[3, "records_active"] = -7
        return ts

    monkeypatch.setattr(tables, "timeseries_table", negative)


def test_a_broken_run_stops_with_the_rule_and_writes_nothing(tmp_path, broken_timeseries):
    out = tmp_path / "run"
    with pytest.raises(InvariantError, match="non-negative-counts: timeseries.records_active "
                                             "is negative \\(first on day 3"):
        scslab.run("minimal", residents=200, days=20, out=out)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_the_cli_reports_a_broken_invariant_without_a_traceback(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from scslab.cli import app

    monkeypatch.setattr(invariants, "table_problems",
                        lambda *a, **k: ["listed-le-residents: timeseries.listed exceeds"])
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["run", "minimal", "--residents", "100", "--days", "10",
                                 "--out", str(out), "-q"])
    assert r.exit_code == InvariantError.exit_code == 3
    assert isinstance(r.exception, SystemExit)
    assert not out.exists()


def test_check_tables_raises_with_every_rule(clean):
    r, attrs = clean
    t = {k: v.copy() for k, v in r.tables().items()}
    t["timeseries"].loc[2, "listed"] = -1
    with pytest.raises(InvariantError) as e:
        check_tables(t, 3000, attrs)
    assert "non-negative-counts" in str(e.value) and "listing-flow" in str(e.value)


def test_a_preview_run_skips_the_checks_and_a_written_run_never_does(tmp_path,
                                                                    broken_timeseries):
    with pytest.raises(InvariantError):
        scslab.run("minimal", residents=200, days=20)
    preview = RunOptions(residents=200, days=20)
    r = pipeline.run("minimal", preview, check_invariants=False)
    assert int(r.timeseries.loc[3, "records_active"]) == -7  # unchecked: as built
    out = tmp_path / "run"
    with pytest.raises(ScenarioError, match="check_invariants"):
        pipeline.run("minimal", preview, out=out, check_invariants=False)
    assert not out.exists()
