"""docs/tutorial.md runs as a notebook (issue 17.5): its Python cells are executed by a
Jupyter kernel through nbclient, so the tutorial cannot drift from the code.

The Markdown file is the one source: jupytext reads it into a notebook; the shell blocks
(``scslab run ...``) stay text, the Python blocks become the cells that run, in a fresh
directory.  The charts they display must carry their JavaScript (no CDN).
"""

from __future__ import annotations

import os
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"


def tutorial_notebook() -> nbformat.NotebookNode:
    """The tutorial as a notebook whose code cells are its Python blocks."""
    nb = jupytext.read(TUTORIAL)
    cells = []
    for cell in nb.cells:
        src = cell.source.removeprefix("%%python\n")  # jupytext marks the other language
        if cell.cell_type == "code" and not src.startswith("%%"):
            cells.append(nbformat.v4.new_code_cell(src))
        elif cell.cell_type == "code":  # a shell block (%%bash): shown, not run
            cells.append(nbformat.v4.new_markdown_cell(f"```\n{src}\n```"))
        else:
            cells.append(cell)
    nb.cells = cells
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                  "language": "python"}}
    return nb


def test_tutorial_runs_as_a_notebook(tmp_path, monkeypatch):
    nb = tutorial_notebook()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) >= 8 and "scslab.sweep" in "".join(c.source for c in code)
    # the kernel imports this checkout's scslab, as the suite does
    src = str(Path(__file__).resolve().parents[2] / "src")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [src, *filter(None, [os.environ.get("PYTHONPATH")])]))
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()

    outputs = {i: c.outputs for i, c in enumerate(code)}
    assert all(o.output_type != "error" for out in outputs.values() for o in out)
    html = {i: "".join(o.get("data", {}).get("text/html", "") for o in out)
            for i, out in outputs.items()}
    # the run and the comparison show short summaries, not their tables
    assert "RunResult of tiny" in html[0] and len(html[0]) < 3000
    comp = next(h for h in html.values() if "Comparison, seed" in h)
    assert "wrongful_share_of_list_days" in comp and len(comp) < 5000
    # every chart carries Vega and loads nothing from the network
    charts = [h for h in html.values() if "vegaEmbed" in h]
    assert len(charts) >= 4
    for h in charts:
        assert "cdn.jsdelivr" not in h and 'src="http' not in h
        assert "window.vegaEmbed=" in h
    # out= wrote the run directory that load_run read back; the comparison too
    assert (tmp_path / "runs" / "strict-py" / "manifest.json").is_file()
    assert (tmp_path / "runs" / "cmp" / "comparison.parquet").is_file()
