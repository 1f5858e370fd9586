"""Write and read run directories.

A run is written into a hidden sibling directory and renamed into place only when every
file is on disk, so a run directory is either complete or absent: a crash, a full disk
or a kill never leaves a half-written result that looks complete, and a previous result
at the same path survives any failure.
"""

from __future__ import annotations

import errno
import json
import shutil
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
from pydantic import ValidationError

from scslab.errors import RunDirError
from scslab.files import fsync_path
from scslab.scenario.schema import Scenario

MANIFEST = "manifest.json"
SUMMARY = "summary.json"
FORMAT_VERSION = 1


def write_run(
    path: str | Path, *, manifest: dict, summary: dict, tables: dict[str, pd.DataFrame]
) -> Path:
    """Write ``tables`` as Parquet plus the manifest and summary, atomically at ``path``."""
    path = Path(path).absolute()
    if path.exists() and not path.is_dir():
        raise RunDirError(f"{path}: exists and is not a directory; choose another --out")
    if path.is_dir() and any(path.iterdir()) and not (path / MANIFEST).is_file():
        raise RunDirError(
            f"{path}: directory exists, is not empty and is not a scslab run; "
            "choose another --out (scslab only replaces its own run directories)"
        )
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunDirError(f"{parent}: cannot create the output directory: {e.strerror}") from None
    tag = uuid.uuid4().hex[:8]
    tmp = parent / f".{path.name}.tmp-{tag}"
    old = parent / f".{path.name}.old-{tag}"
    try:
        tmp.mkdir()
        for name, df in tables.items():
            df.to_parquet(tmp / f"{name}.parquet", index=False)
        (tmp / SUMMARY).write_text(json.dumps(summary, indent=2, default=str) + "\n")
        manifest = dict(manifest, complete=True, format_version=FORMAT_VERSION,
                        tables=sorted(f"{n}.parquet" for n in tables))
        # the manifest goes last: its presence with complete=true marks the run whole
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        fsync_path(tmp)
        if path.exists():
            path.rename(old)
        tmp.rename(path)
        fsync_path(parent)
    except BaseException as e:  # a full disk, but also Ctrl-C or a bug: leave no trace
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not path.exists():
            old.rename(path)
        if not isinstance(e, OSError):
            raise
        why = e.strerror or str(e)
        if e.errno == errno.ENOSPC or "No space left" in str(e) or "errno 28" in str(e):
            why = "the disk is full"
        elif e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            why = f"no permission to write in {parent} ({e.strerror})"
        raise RunDirError(
            f"{path}: could not write the run ({why}); nothing was changed at that path"
            + ("" if not path.exists() else ": the previous results there are intact")
        ) from None
    shutil.rmtree(old, ignore_errors=True)
    return path


def read_manifest(path: str | Path) -> dict:
    """The manifest of a complete run directory, or a RunDirError saying what is wrong."""
    path = Path(path)
    mf = path / MANIFEST
    if not path.is_dir():
        raise RunDirError(f"{path}: no such run directory")
    if not mf.is_file():
        raise RunDirError(f"{path}: not a scslab run directory (no {MANIFEST}), or incomplete")
    try:
        manifest = json.loads(mf.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunDirError(f"{mf}: unreadable manifest ({e}); the run is damaged") from None
    if not isinstance(manifest, dict):
        raise RunDirError(f"{mf}: not a scslab manifest; the run is damaged")
    if not manifest.get("complete"):
        raise RunDirError(f"{path}: the run is incomplete")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise RunDirError(
            f"{path}: written by run-directory format {manifest.get('format_version')}, "
            f"this scslab reads format {FORMAT_VERSION}; re-run the scenario"
        )
    return manifest


def read_table(path: str | Path, name: str) -> pd.DataFrame:
    path = Path(path)
    manifest = read_manifest(path)
    if f"{name}.parquet" not in manifest.get("tables", []):
        raise RunDirError(
            f"{path}: has no {name} table; it has "
            + ", ".join(t.removesuffix(".parquet") for t in manifest.get("tables", []))
        )
    try:
        return pd.read_parquet(path / f"{name}.parquet")
    except (OSError, ValueError, pa.ArrowException) as e:
        raise RunDirError(
            f"{path}: the {name} table is missing or damaged ({e}); re-run the scenario"
        ) from None


def read_summary(path: str | Path) -> dict:
    """The summary of a complete run directory, or a RunDirError saying what is wrong."""
    path = Path(path)
    read_manifest(path)
    try:
        summary = json.loads((path / SUMMARY).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunDirError(f"{path}: the summary is missing or damaged ({e})") from None
    if not isinstance(summary, dict):
        raise RunDirError(f"{path}: the summary is damaged")
    return summary


def scenario_from_manifest(manifest: dict, path: str | Path):
    """The resolved Scenario a run was made from, or a RunDirError if this scslab cannot
    read it (a run from another version of the scenario format)."""
    try:
        return Scenario.model_validate(manifest["scenario"])
    except (KeyError, TypeError, ValidationError) as e:
        n = len(e.errors()) if isinstance(e, ValidationError) else 1
        raise RunDirError(
            f"{path}: its scenario cannot be read by this scslab ({n} problem(s); first: "
            f"{str(e).splitlines()[-1 if not isinstance(e, ValidationError) else 1][:200]}); "
            f"it was written by scslab "
            f"{(manifest.get('versions') or {}).get('scslab', 'unknown')}: re-run the scenario"
        ) from None
