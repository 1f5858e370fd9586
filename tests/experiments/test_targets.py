"""Targets files: validated like scenarios, filtered by date for fitting (--until) and
split into in-sample and out-of-sample figures for validation (--holdout-after)."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from typer.testing import CliRunner

import scslab
from scslab.cli import app
from scslab.experiments.calibrate import CalibrationError, calibrate
from scslab.experiments.targets import (
    IN_SAMPLE,
    OUT_OF_SAMPLE,
    Target,
    TargetsError,
    check_targets,
    load_holdout,
    load_targets,
    model_value,
    split_targets,
    targets_until,
)
from scslab.run.options import RunOptions

END = dt.date(2021, 3, 1)


def write(path, doc):
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def t(name, at, value=1.0, measure="listed_new"):
    return {"name": name, "measure": measure, "at": at, "cumulative": True, "value": value}


def test_a_nan_value_is_refused_naming_file_path_and_value(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("targets:\n  - {name: a, measure: listed, value: 3}\n"
                    "  - {name: b, measure: listed, value: .nan}\n")
    with pytest.raises(TargetsError) as e:
        load_targets(path)
    assert str(e.value) == (f"{path}:3: targets[1].value: expected a finite number "
                            "(not .nan or .inf) (got nan)")


def test_unknown_keys_bad_dates_and_bad_measures_are_refused(tmp_path):
    bad = write(tmp_path / "k.yaml", {"targets": [{"measure": "listed", "value": 1,
                                                   "when": "2021-01-01"}]})
    with pytest.raises(TargetsError, match=r"targets\[0\]\.when: unknown key; allowed: name"):
        load_targets(bad)
    bad = write(tmp_path / "d.yaml", {"targets": [{"measure": "listed", "value": 1,
                                                   "at": "2021-13-01"}]})
    with pytest.raises(TargetsError, match=r"targets\[0\]\.at: .*\(got '2021-13-01'\)"):
        load_targets(bad)
    bad = write(tmp_path / "m.yaml", {"targets": [{"measure": "listed; rm", "value": 1}]})
    with pytest.raises(TargetsError, match=r"targets\[0\]\.measure: a measure is"):
        load_targets(bad)
    bad = write(tmp_path / "s.yaml", {"targets": [{"measure": "a / (a + b)", "value": 0.1,
                                                   "per_residents": 1e6}]})
    with pytest.raises(TargetsError, match="a share .* is not scaled"):
        load_targets(bad)


def test_a_file_with_until_refuses_a_later_figure(tmp_path):
    path = write(tmp_path / "u.yaml", {"until": "2021-01-31", "targets": [
        t("jan", "2021-01-31"), t("feb", "2021-02-01")]})
    with pytest.raises(TargetsError, match=r"feb\) is dated 2021-02-01, after this file's "
                                           r"until: 2021-01-31"):
        load_targets(path)


def test_until_keeps_targets_dated_on_or_before_it_and_undated_ones_at_the_run_end():
    ts = [Target(**t("jan", "2021-01-31")), Target(**t("feb", "2021-02-01")),
          Target(name="whole_run", measure="listed_end", value=1.0)]
    assert [x.name for x in targets_until(ts, dt.date(2021, 1, 31), END)] == ["jan"]
    assert [x.name for x in targets_until(ts, END, END)] == ["jan", "feb", "whole_run"]
    assert targets_until(ts, None, END) == ts
    inside, outside = split_targets(ts, dt.date(2021, 1, 31), END)
    assert [x.name for x in inside] == ["jan"]
    assert [x.name for x in outside] == ["feb", "whole_run"]


def test_sums_and_shares_of_columns():
    rr = scslab.run("minimal", residents=1000, days=60)
    ts = rr.timeseries
    at = ts["date"].iloc[29]
    both = Target(name="s", measure="listed_new + delisted", at=at, cumulative=True, value=1)
    assert model_value(rr, both) == ts["listed_new"].iloc[:30].sum() + \
        ts["delisted"].iloc[:30].sum()
    share = Target(name="r", measure="listed_wrongful / (listed)", at=at, value=0.1)
    assert model_value(rr, share) == ts["listed_wrongful"].iloc[29] / ts["listed"].iloc[29]


@pytest.fixture
def target_sets(tmp_path):
    write(tmp_path / "h.yaml", {"after": "2021-01-31", "targets": [
        t("feb_listings", "2021-02-15", 50.0)]})
    main = write(tmp_path / "m.yaml", {"tolerance": 0.2, "until": "2021-01-31",
                                       "holdout": "h.yaml", "targets": [
        t("jan_listings", "2021-01-31", 30.0), t("mid_jan_listings", "2021-01-15", 20.0)]})
    return main


def test_holdout_after_splits_rows_and_reads_the_holdout_file(target_sets):
    assert [x.name for x in load_holdout(target_sets)] == ["feb_listings"]
    rr = scslab.run("minimal", residents=2000, days=60)
    plain, tol = check_targets(rr, target_sets)
    assert tol == 0.2 and list(plain["target"]) == ["mid_jan_listings", "jan_listings"]
    assert set(plain["sample"]) == {IN_SAMPLE}
    table, _ = check_targets(rr, target_sets, holdout_after=dt.date(2021, 1, 20))
    assert list(zip(table["target"], table["sample"], table["file"], strict=True)) == [
        ("mid_jan_listings", IN_SAMPLE, "targets"),
        ("jan_listings", OUT_OF_SAMPLE, "targets"),
        ("feb_listings", OUT_OF_SAMPLE, "holdout")]


def test_cli_prints_in_sample_and_out_of_sample_apart(target_sets, tmp_path):
    runner = CliRunner()
    rr = scslab.run("minimal", residents=2000, days=60, out=tmp_path / "run")
    res = runner.invoke(app, ["targets", str(rr.path), "--targets", str(target_sets),
                              "--holdout-after", "2021-01-31"])
    assert res.exit_code in (0, 1), res.output
    text = res.output
    assert "in-sample: figures dated on or before 2021-01-31" in text
    assert "out-of-sample: figures dated after 2021-01-31" in text
    assert text.index("jan_listings") < text.index("out-of-sample: figures")
    assert text.index("feb_listings") > text.index("out-of-sample: figures")
    assert "in-sample: " in text and "of 2 within 20%" in text and "of 1 within 20%" in text
    res = runner.invoke(app, ["targets", str(rr.path), "--targets", str(target_sets),
                              "--holdout-after", "31/01/2021"])
    assert res.exit_code == 2 and "--holdout-after 31/01/2021: write a date" in res.output


def test_calibrate_until_fits_only_earlier_targets(target_sets):
    opts = RunOptions(residents=1000, days=40)
    with pytest.raises(CalibrationError, match="no target is dated on or before 2020-12-31"):
        calibrate("minimal", target_sets, ["acts.negative.rate.per_day"], opts,
                  until=dt.date(2020, 12, 31))
    res = calibrate("minimal", target_sets, ["acts.negative.rate.per_day"], opts,
                    until=dt.date(2021, 1, 20), max_evals=2)
    assert [x.name for x in res.targets] == ["mid_jan_listings"]
    assert list(res.table["target"]) == ["mid_jan_listings"]


def test_cli_calibrate_until_names_a_bad_date_and_an_empty_selection(target_sets):
    runner = CliRunner()
    args = ["calibrate", "minimal", "--targets", str(target_sets), "--params",
            "acts.negative.rate.per_day", "--residents", "1000"]
    res = runner.invoke(app, args + ["--until", "31/12/2020"])
    assert res.exit_code == 2 and "--until 31/12/2020: write a date YYYY-MM-DD" in res.output
    res = runner.invoke(app, args + ["--until", "2020-12-31"])
    assert res.exit_code == 2
    assert "no target is dated on or before 2020-12-31; nothing to fit" in res.output


def test_cli_splits_by_the_files_own_cut_off_by_default(target_sets, tmp_path):
    rr = scslab.run("minimal", residents=2000, days=60, out=tmp_path / "run")
    res = CliRunner().invoke(app, ["targets", str(rr.path), "--targets", str(target_sets)])
    assert "out-of-sample: figures dated after 2021-01-31" in res.output
    assert "feb_listings" in res.output
