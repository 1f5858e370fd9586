"""``scslab report DIR`` reads what DIR is: run directories or a comparison directory
(issue 17.2), through one registry of directory kinds."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest

import scslab
from scslab.metrics.figures import figure, interval
from scslab.report.kinds import (
    KINDS,
    DirectoryKind,
    ReportError,
    kind_of,
    register,
    write_report_of,
)


def scslab_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "scslab", *args], capture_output=True,
                          text=True, cwd=cwd)


def _chart_spec(html: str, cid: str) -> dict:
    text = re.search(rf'data-chart="{cid}">(.*?)</script>', html, re.S).group(1)
    return json.loads(text)


def _pool(html: str) -> dict:
    return json.loads(re.search(r'id="scslab-data">(.*?)</script>', html, re.S).group(1))


def _rows(pool: dict, name: str) -> list[dict]:
    p = pool[name]
    while "same" in p:
        p = pool[p["same"]]
    cols = {k: (v if isinstance(v, list) else [v["levels"][c] for c in v["codes"]])
            for k, v in p["columns"].items()}
    return [{k: cols[k][i] for k in cols} for i in range(p["n"])]


def test_report_of_a_comparison_directory(comparison_dir, tmp_path):
    out, _ = comparison_dir
    r = scslab_cli("report", str(out), "-o", "cmp.html", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "cmp.html").read_text()
    comp = scslab.load_comparison(out)
    assert "scslab comparison: minimal, strict" in html
    assert "3 replicates at seeds 1 to 3" in html
    # the differences chart: one panel per measure, a zero line, intervals
    spec = _chart_spec(html, "chart-differences")
    layers = spec["spec"]["layer"]
    assert any(layer["encoding"]["x"].get("datum") == 0 for layer in layers)
    assert spec["facet"]["header"]["labelLimit"] == 0  # titles never cut
    rows = _rows(_pool(html), spec["usermeta"]["scslabData"][0])
    t = comp.table.set_index(["measure", "scenario"])
    listed = next(x for x in rows if x["measure"] == "listed_end")
    assert listed["difference"] == pytest.approx(t.loc[("listed_end", "strict"), "difference"])
    assert listed["lo"] == pytest.approx(t.loc[("listed_end", "strict"), "lo"], rel=1e-5)
    share = next(x for x in rows if x["measure"] == "wrongful_share_of_list_days")
    assert share["panel"].endswith("(percentage points)")
    assert share["difference"] == pytest.approx(
        100 * t.loc[("wrongful_share_of_list_days", "strict"), "difference"], rel=1e-5)
    # the table of every printed measure, with its interval
    row = t.loc[("listed_end", "strict")]
    assert (f"<td>strict</td><td>{figure(row['value'])}</td>"
            f"<td>{figure(row['difference'], signed=True)}</td>"
            f"<td>{interval(row['lo'], row['hi'])}</td>") in html


def test_report_refuses_what_it_cannot_read(comparison_dir, two_runs, tmp_path):
    out, _ = comparison_dir
    (tmp_path / "empty").mkdir()
    r = scslab_cli("report", "empty", "-o", "x.html", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "not a directory scslab report can read" in r.stderr
    assert "comparison.parquet and comparison.json" in r.stderr and "manifest.json" in r.stderr
    r = scslab_cli("report", str(out), str(two_runs[0]), "-o", "x.html", cwd=tmp_path)
    assert r.returncode == 2 and "one kind" in r.stderr
    r = scslab_cli("report", str(out), "--twin", "-o", "x.html", cwd=tmp_path)
    assert r.returncode == 2 and "--twin" in r.stderr
    assert not (tmp_path / "x.html").exists()


def test_a_new_kind_of_directory_plugs_in(tmp_path):
    d = tmp_path / "sens"
    d.mkdir()
    (d / "sensitivity.parquet").write_bytes(b"")
    with pytest.raises(ReportError, match="not a directory scslab report can read"):
        kind_of(d)
    written = []

    def write(dirs, out, *, title=None, twin=False):
        written.append(dirs)
        out.write_text("sensitivity report")
        return out

    before = list(KINDS)
    try:
        register(DirectoryKind("sensitivity", "sensitivity.parquet",
                               lambda p: (p / "sensitivity.parquet").is_file(), write))
        assert kind_of(d).name == "sensitivity"
        assert write_report_of([d], tmp_path / "r.html").read_text() == "sensitivity report"
        assert written == [[d]]
    finally:
        KINDS[:] = before


def test_comparison_plot_has_a_zero_line_and_whole_titles():
    table = pd.DataFrame({
        "measure": ["di_blocked_per_resident[employment=unemployed/employed]"] * 2,
        "scenario": ["a", "b"], "value": [1.0, 1.5], "difference": [0.0, 0.5],
        "lo": [0.0, 0.2], "hi": [0.0, 0.8]})
    comp = scslab.Comparison(table=table, labels=["a", "b"], runs={}, seed=1, replicates=3,
                             level=0.95)
    spec = comp.plot().to_dict()
    assert spec["facet"]["header"]["labelLimit"] == 0
    assert spec["facet"]["header"]["labelOrient"] == "top"
    assert any(layer["encoding"]["x"].get("datum") == 0 for layer in spec["spec"]["layer"])
    rows = next(iter(spec["datasets"].values()))
    assert rows[0]["panel"] == "di blocked per resident[employment=unemployed/employed]"
