"""What ``scslab compare`` prints: every figure, at any width, piped or not (issue 17.1)."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd

from scslab.cli.compare import render
from scslab.experiments.compare import Comparison, load_comparison, printed
from scslab.metrics.figures import figure, interval, is_share


def _cells(row, reference: str) -> list[str]:
    share = is_share(row.measure)
    cells = [row.scenario, figure(row.value, share=share)]
    if row.scenario != reference:
        cells += [figure(row.difference, share=share, signed=True),
                  interval(row.lo, row.hi, share=share)]
    return cells


def test_piped_output_at_80_columns_has_every_figure(comparison_dir):
    out, stdout = comparison_dir
    table = pd.read_parquet(out / "comparison.parquet")
    lines = stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert "…" not in stdout
    # each printed row is one line holding the scenario, value, difference and interval
    rows = list(printed(table).itertuples(index=False))
    assert len(rows) > 20
    for row in rows:
        cells = _cells(row, "minimal")
        assert any(all(c in line for c in cells) for line in lines), (row.measure, cells)
    # shares as percentages, their differences in percentage points
    share = table.set_index(["measure", "scenario"]).loc[
        ("wrongful_share_of_list_days", "strict")]
    assert f"{share['value'] * 100:.1f}%" in stdout
    assert "percentage points (pp)" in stdout and " pp" in stdout


def test_figures_survive_any_width_and_names_wrap():
    big = 2_306_123.5
    table = pd.DataFrame({
        "measure": ["di_blocked_per_resident[employment=unemployed/employed]"] * 2
        + ["wrongful_share_of_list_days"] * 2,
        "scenario": ["described-beijing", "safeguard-appeals"] * 2,
        "value": [big, big - 1234.25, 0.077, 0.031],
        "difference": [0.0, -1234.25, 0.0, -0.045],
        "lo": [0.0, -2001.5, 0.0, -0.056], "hi": [0.0, -467.0, 0.0, -0.034],
    })
    comp = Comparison(table=table, labels=["described-beijing", "safeguard-appeals"], runs={},
                      seed=7, replicates=5, level=0.95)
    for width in (60, 80, 100, 200):
        text = render(comp, everything=True, width=width)
        for needle in ("2,306,124", "2,304,889", "-1,234.2", "[-2,001.5, -467]",
                       "7.7%", "3.1%", "-4.5 pp", "[-5.6 pp, -3.4 pp]"):
            assert needle in text, (width, needle, text)
        # the long name is wrapped, never cut: its pieces put back together give it whole
        body = text.split("\nmeasure", 1)[1].splitlines()[1:]
        body = body[:next(i for i, line in enumerate(body) if line.startswith("wrongful"))]
        names = "".join(line.split()[0] for line in body if not line.startswith(" "))
        assert names == "di_blocked_per_resident[employment=unemployed/employed]", text


def test_one_replicate_says_why_there_is_no_interval():
    table = pd.DataFrame({"measure": ["listed_end"] * 2, "scenario": ["a", "b"],
                          "value": [10.0, 12.0], "difference": [0.0, 2.0],
                          "lo": [float("nan")] * 2, "hi": [float("nan")] * 2})
    comp = Comparison(table=table, labels=["a", "b"], runs={}, seed=1, replicates=1,
                      level=0.95)
    text = render(comp, everything=True)
    assert "no interval: one replicate shows no spread between seeds" in text
    assert "--replicates 5" in text and "interval  " not in text.splitlines()[-3]
    assert text.splitlines()[-1].split() == ["b", "12", "+2"]


def test_cli_one_replicate_at_100_columns(tmp_path):
    env = {**os.environ, "COLUMNS": "100"}
    r = subprocess.run([sys.executable, "-m", "scslab", "compare", "minimal", "--residents",
                        "1000", "--days", "60", "--only", "listed_end"],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "no interval: one replicate" in r.stdout
    assert r.stdout.splitlines()[-1].split()[0] == "listed_end"


def test_load_comparison_reads_what_compare_wrote(comparison_dir):
    out, _ = comparison_dir
    comp = load_comparison(out)
    assert comp.labels == ["minimal", "strict"] and comp.replicates == 3
    assert comp.seed == 1 and comp.level == 0.95 and comp.runs == {}
    assert comp.table.equals(pd.read_parquet(out / "comparison.parquet"))
    # the same text as the CLI printed, from the loaded comparison
    assert render(comp, width=80) + "\n" in comparison_dir[1]
