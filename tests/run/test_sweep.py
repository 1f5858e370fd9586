"""``scslab.sweep`` (issue 17.5): the command line's --sweep from Python, with RunOptions."""

from __future__ import annotations

import scslab
from scslab.run.result import load_run

SMALL = {"residents": 1000, "days": 60}
SPEC = "policy.lists.blacklist.below=950,990"


def test_sweep_in_memory_is_one_run_per_value():
    s = scslab.sweep("minimal", SPEC, **SMALL)
    assert list(s.runs) == ["policy.lists.blacklist.below=950",
                            "policy.lists.blacklist.below=990"]
    assert s.table["value"].tolist() == ["950", "990"] and s.param == SPEC.split("=")[0]
    one = scslab.run("minimal", sets=["policy.lists.blacklist.below=990"], **SMALL)
    assert s.runs["policy.lists.blacklist.below=990"].timeseries.equals(one.timeseries)
    row = s.table.set_index("value").loc["990"]
    assert row["listed_end"] == one.summary["listed_end"] and row["seed"] == 1
    assert "Sweep of policy.lists.blacklist.below over 2 values" in repr(s)


def test_sweep_with_replicates_written_to_disk(tmp_path):
    opts = scslab.RunOptions(seed=5, **SMALL)
    s = scslab.sweep("minimal", SPEC, opts, replicates=2, out=tmp_path / "sw")
    assert list(s.runs) == [f"policy.lists.blacklist.below={v}/rep-00{r}"
                            for v in (950, 990) for r in (0, 1)]
    assert s.table["seed"].tolist() == [5, 6, 5, 6]
    back = load_run(tmp_path / "sw" / "policy.lists.blacklist.below=990" / "rep-001")
    assert back.timeseries.equals(s.runs["policy.lists.blacklist.below=990/rep-001"].timeseries)
    assert (tmp_path / "sw" / "sweep.parquet").is_file()
