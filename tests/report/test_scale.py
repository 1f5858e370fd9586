"""A scaled run cannot pass for the whole population (issue 17.3): the printed summary, the
report and RunResult state the scale and put scaled-up counts beside the raw ones."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import scslab
from scslab.report.html import write_report


@pytest.fixture(scope="module")
def scaled_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("scaled")
    r = subprocess.run([sys.executable, "-m", "scslab", "run", "tiny", "--scale", "0.1",
                        "--days", "120", "--out", "run", "-q"],
                       capture_output=True, text=True, cwd=root,
                       env={**os.environ, "COLUMNS": "100"})
    assert r.returncode == 0, r.stderr
    return root, r.stdout


def test_printed_summary_states_the_scale_and_scales_counts_up(scaled_run):
    root, stdout = scaled_run
    s = scslab.load_run(root / "run").summary
    assert s["residents"] == 1000 and s["scale"] == 0.1
    up = s["scaled"]
    assert "summary of a 0.1 sample (--scale 0.1)" in stdout
    assert "scaled up to the whole population" in stdout
    assert f"simulated 1,000 of about {up['residents']:,.0f} residents" in stdout
    line = next(x for x in stdout.splitlines() if x.strip().startswith("listed at end"))
    assert line.split()[3:5] == [f"{s['listed_end']:,}", f"{up['listed_end']:,.0f}"]
    line = next(x for x in stdout.splitlines() if x.strip().startswith("blocked train"))
    assert f"{up['blocked']['train']:,.0f} ({up['blocked_wrongful']['train']:,.0f} wrongful)" \
        in line


def test_run_result_and_report_state_the_scale(scaled_run, tmp_path):
    root, _ = scaled_run
    r = scslab.load_run(root / "run")
    assert r.scale == 0.1
    text = repr(r)
    assert "a 0.1 sample (--scale)" in text
    assert f"listed at end: {r.summary['listed_end']:,} " \
        f"({r.summary['scaled']['listed_end']:,.0f} scaled up)" in text
    assert "scaled up to the whole population" in r._repr_html_()
    html = write_report([root / "run"], tmp_path / "r.html").read_text()
    assert "simulated 1,000 synthetic residents, 0.1 of the scenario" in html
    assert "about 10,000 (--scale 0.1)" in html
    s = r.summary
    assert (f"<td>listed at end</td><td>{s['listed_end']:,} "
            f"({s['listed_end'] / 0.1:,.0f} scaled up)</td>") in html


def test_unscaled_run_has_no_scaled_column(tiny_run):
    assert tiny_run.scale == 1.0
    text = repr(tiny_run)
    assert "scaled up" not in text and "in memory (nothing written: pass out=DIR" in text
    assert len(text) < 1000 and len(tiny_run._repr_html_()) < 2000
