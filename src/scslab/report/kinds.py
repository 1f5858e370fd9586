"""What ``scslab report DIR`` reads: each kind of directory and the report it makes.

A directory is recognised by the files it holds.  Each kind (``DirectoryKind``) says how to
recognise it and how to write the report of one or more directories of its kind; ``KINDS``
lists them in the order they are tried.  A new kind (the directories of a sensitivity
analysis or a calibration, say) plugs in with one ``register(DirectoryKind(...))`` line
below, next to a module that builds its page; the command line and the API need no
change.

>>> " ".join(k.name for k in KINDS)
'comparison uncertainty run'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scslab.experiments.compare import is_comparison_dir
from scslab.outputs.rundir import MANIFEST
from scslab.report.comparison import write_comparison_report
from scslab.report.data import ReportError
from scslab.report.html import write_report, write_uncertainty_report
from scslab.report.uncertainty import directory_kind


@dataclass(frozen=True)
class DirectoryKind:
    """One kind of directory ``scslab report`` reads.

    ``holds`` names the files that identify it (for messages); ``recognise(path)`` says
    whether a directory is of this kind; ``write(dirs, out, title=..., twin=...)`` writes
    the report of one or more such directories to ``out`` and returns its path.
    """

    name: str
    holds: str
    recognise: Callable[[Path], bool]
    write: Callable[..., Path]


KINDS: list[DirectoryKind] = []


def register(kind: DirectoryKind) -> None:
    """Add a kind of directory (replacing one of the same name)."""
    KINDS[:] = [k for k in KINDS if k.name != kind.name] + [kind]


def kind_of(path: str | Path) -> DirectoryKind:
    """The kind of directory ``path`` is, or a ReportError naming the kinds accepted."""
    p = Path(path)
    if not p.is_dir():
        raise ReportError(f"{p}: no such directory")
    for kind in KINDS:
        if kind.recognise(p):
            return kind
    accepted = "; ".join(f"a {k.name} directory ({k.holds})" for k in KINDS)
    raise ReportError(f"{p}: not a directory scslab report can read; it reads {accepted}")


def write_report_of(dirs: list, out: str | Path, *, title: str | None = None,
                    twin: bool = False) -> Path:
    """Write the report of ``dirs`` (all of one kind) to ``out``; returns its path."""
    paths = [Path(d) for d in dirs]
    if not paths:
        raise ReportError("give at least one directory")
    kinds = [kind_of(p) for p in paths]
    if len({k.name for k in kinds}) > 1:
        mixed = ", ".join(f"{p} ({k.name})" for p, k in zip(paths, kinds, strict=True))
        raise ReportError(f"one report reads directories of one kind; got {mixed}")
    return kinds[0].write(paths, Path(out), title=title, twin=twin)


register(DirectoryKind("comparison", "comparison.parquet and comparison.json",
                       is_comparison_dir, write_comparison_report))
register(DirectoryKind("uncertainty", f"{MANIFEST} of kind sensitivity, calibration or draws",
                       lambda p: directory_kind(p) is not None, write_uncertainty_report))
register(DirectoryKind("run", MANIFEST, lambda p: (p / MANIFEST).is_file(), write_report))

__all__ = ["KINDS", "DirectoryKind", "ReportError", "kind_of", "register", "write_report_of"]
