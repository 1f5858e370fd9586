"""Batches: the plan of runs, and the figures table of replicates."""

from __future__ import annotations

import pytest

from scslab.errors import ScenarioError
from scslab.run.batch import batch_plan, run_batch
from scslab.run.options import RunOptions


def test_the_plan_names_every_run_and_its_seed():
    plan = batch_plan(5, 2, "policy.lists.blacklist.below=900,950")
    assert [(r["name"], r["seed"]) for r in plan] == [
        ("policy.lists.blacklist.below=900/rep-000", 5),
        ("policy.lists.blacklist.below=900/rep-001", 6),
        ("policy.lists.blacklist.below=950/rep-000", 5),
        ("policy.lists.blacklist.below=950/rep-001", 6)]
    assert plan[3]["sets"] == ["policy.lists.blacklist.below=950"]
    assert [r["name"] for r in batch_plan(1, 3)] == ["rep-000", "rep-001", "rep-002"]
    with pytest.raises(ScenarioError, match="expected a.b.c=VALUE1,VALUE2"):
        batch_plan(1, 1, "no-equals-sign")


def test_replicates_table_has_one_row_per_seed(tmp_path):
    path, table = run_batch("minimal", tmp_path / "b", RunOptions(residents=500, days=30),
                            replicates=3)
    assert path.name == "replicates.parquet"
    assert table["seed"].tolist() == [1, 2, 3]  # minimal's seed is 1
    assert table["run"].tolist() == ["rep-000", "rep-001", "rep-002"]
    assert len(set(table["records_created"])) > 1  # different seeds, different runs
