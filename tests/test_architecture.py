"""The layers of docs/architecture.md hold: imports only go down, nothing outside the CLI
loads typer, no two modules import each other in a circle, and the only imports inside
functions are the ones that defer a heavy optional dependency, each with its reason."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

import scslab

ROOT = Path(__file__).resolve().parents[1]
SRC = Path(scslab.__file__).resolve().parent

# module -> the imports it may make inside a function, and why
DEFERRED = {
    "scslab.metrics.frame": {"scipy": "scipy.stats takes ~0.5 s; only intervals need it"},
    "scslab.report.notebook": {"altair": "charts load on first draw, never on a CLI run",
                               "scslab.report.charts": "it imports altair"},
    "scslab.report.html": {"vl_convert": "a 40 MB native library, only to embed Vega"},
    "scslab.run.distributed": {"distributed": "Dask loads only when a cluster is asked for",
                               "dask.config": "the same: it configures the embedded cluster"},
    "scslab.experiments.sensitivity": {
        "SALib": "SALib takes seconds to import; only a sensitivity analysis needs it",
        "SALib.sample": "idem", "SALib.analyze": "idem",
        "scipy": "scipy.stats takes ~0.5 s; the command line loads this module at start"},
    "scslab.cli.app": {"scslab.app.server": "solara and its web server load for `scslab app` "
                                            "only, never for another command"},
    "scslab.scenario.uncertainty": {"scipy": "scipy.stats takes ~0.5 s; every scenario load "
                                             "reads this module, only draws need scipy",
                                    "scipy.special": "idem (normal scores)"},
}


def test_import_contracts_hold(monkeypatch):
    """lint-imports with the contracts in pyproject.toml (layers; typer only in the CLI)."""
    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("needs the source tree")
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(SRC.parent))
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for m in sorted(graph.modules):
        if m not in index:
            visit(m)
    return found


def test_no_import_cycles():
    """Counting imports inside functions too; the package ``__init__`` is the façade's
    re-export and is left out (every submodule import runs it first)."""
    graph = grimp.build_graph("scslab")
    graph.remove_module("scslab")
    assert _cycles(graph) == []


def _deferred_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
    return found


def test_imports_inside_functions_are_the_justified_ones():
    seen = {}
    for path in SRC.rglob("*.py"):
        mod = ".".join(("scslab", *path.relative_to(SRC).with_suffix("").parts))
        mod = mod.removesuffix(".__init__")
        deferred = _deferred_imports(path)
        if deferred:
            seen[mod] = deferred
    unexpected = {m: sorted(d - set(DEFERRED.get(m, {}))) for m, d in seen.items()}
    assert {m: d for m, d in unexpected.items() if d} == {}
