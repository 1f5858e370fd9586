"""Write and read run directories.

A run is written into a hidden sibling directory and moved into place only when every
file is on disk (each file and the directory flushed), so a run directory is either
complete or absent: a crash, a full disk or a kill never leaves a half-written result
that looks complete, and a previous result at the same path survives any failure.

What scslab may replace: a directory is replaced only when it is a scslab run (its
manifest is scslab's) holding nothing but scslab's files, and, unless ``force``, a run of
the same scenario.  Anything else is refused with the reason, before any work starts
(``check_target``) and again, under the target's lock, just before the write.  Hidden
leftovers of a killed write (``.NAME.tmp-*``, ``.NAME.old-*``, ``.NAME.partial.done-*``)
are recovered or removed first (``recover_leftovers``).
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from pydantic import (
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from scslab.errors import RunDirError
from scslab.files import (
    SIBLING_EXTRA,
    fsync_path,
    hold_lock,
    swap_into_place,
    temporary_sibling,
    write_synced,
)
from scslab.scenario.schema import Scenario

MANIFEST = "manifest.json"
SUMMARY = "summary.json"
FORMAT_VERSION = 1
PATH_MAX = 4096


# ---------------------------------------------------------------- where a run may go


def check_out(path: str | Path, what: str = "--out") -> Path:
    """``path`` as an absolute path if scslab can write a run there, else a RunDirError
    saying why: empty, the root, a name too long, a symbolic link, a mount point, a file or
    device, or a place that cannot be written.  Changes nothing on disk."""
    raw = os.fspath(path) if isinstance(path, str | os.PathLike) else path
    if not isinstance(raw, str):
        raise RunDirError(f"{what}: expected a directory path (got {raw!r})")
    if not raw.strip():
        raise RunDirError(f"{what} is empty; give the directory to write the run to")
    if "\0" in raw:
        raise RunDirError(f"{what} {raw!r}: a path cannot contain a NUL character")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise RunDirError(f"{what} {raw!r}: not valid text (undecodable bytes)") from None
    p = Path(os.path.abspath(raw))
    if p == p.parent:
        raise RunDirError(f"{what} {p}: the root of the file system cannot be a run "
                          "directory; give a directory below it")
    ancestor = p.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    try:
        name_max = os.pathconf(ancestor, "PC_NAME_MAX") if ancestor.is_dir() else 255
    except (OSError, ValueError):
        name_max = 255
    longest = max(len(os.fsencode(part)) for part in p.parts)
    if len(os.fsencode(p.name)) + SIBLING_EXTRA > name_max or longest > name_max:
        raise RunDirError(
            f"{what} {p}: the name is too long for the file system "
            f"({len(os.fsencode(p.name))} bytes; at most {name_max - SIBLING_EXTRA} for a run "
            "directory, which needs room for its hidden siblings)")
    if len(os.fsencode(str(p))) + SIBLING_EXTRA + 64 > PATH_MAX:
        raise RunDirError(f"{what}: the path is too long ({len(str(p))} characters)")
    try:
        here = Path.cwd()
    except OSError:
        here = None
    if here is not None and (here == p or p in here.parents):
        raise RunDirError(f"{what} {p}: is the current directory or holds it; scslab writes "
                          "a run into a directory of its own: give a new name, e.g. "
                          f"{p / 'run'}")
    if p.is_symlink():
        raise RunDirError(f"{what} {p}: is a symbolic link; scslab writes runs only to a "
                          "real directory (give the directory it points to)")
    if p.exists() and not p.is_dir():
        raise RunDirError(f"{what} {p}: exists and is not a directory (a file or a device); "
                          "choose another --out")
    if p.is_dir() and os.path.ismount(p):
        raise RunDirError(f"{what} {p}: is a mount point; give a directory inside it")
    if not ancestor.is_dir():
        raise RunDirError(f"{what} {p}: cannot create it: {ancestor} is not a directory")
    try:
        fd, probe = tempfile.mkstemp(dir=ancestor, prefix=".scslab-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        why = "the file system is read-only" if e.errno == errno.EROFS else (
            e.strerror or str(e))
        raise RunDirError(f"{what} {p}: cannot write in {ancestor} ({why}); "
                          "choose another --out") from None
    return p


def _key(name: Any) -> str:
    """A scenario name compared across spellings (runs written before names were
    hyphenated say ``described_beijing``)."""
    return str(name or "").replace("_", "-")


def replace_problem(path: str | Path, scenario_name: str | None = None, *,
                    force: bool = False) -> str | None:
    """Why scslab must not replace ``path`` with a run of ``scenario_name``, or None if it
    may (it is absent, empty, or a scslab run of that scenario holding only scslab's files;
    ``force`` allows a run of another scenario)."""
    path = Path(path)
    if path.is_symlink():
        return "is a symbolic link; scslab replaces only its own run directories"
    if not path.exists():
        return None
    if not path.is_dir():
        return "exists and is not a directory"
    try:
        entries = sorted(os.listdir(path))
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    if not entries:
        return None
    if MANIFEST not in entries:
        return ("is not empty and is not a scslab run (no manifest.json); scslab only "
                "replaces its own run directories")
    try:
        manifest = _validated(path, json.loads((path / MANIFEST).read_text()))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RunDirError):
        return ("holds a manifest.json that is not a scslab run's; scslab only replaces "
                "its own run directories")
    ours = {MANIFEST, SUMMARY, *manifest.get("tables", [])}
    foreign = [e for e in entries if e not in ours]
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5
                                         else "")
        return (f"holds files scslab did not write ({shown}); scslab will not delete them. "
                "Move them out, or choose another --out")
    old = manifest.get("scenario_name")
    if scenario_name is not None and not force and old is not None and (
            _key(old) != _key(scenario_name)):
        return (f"holds a run of scenario {old!r}, not {scenario_name!r}; choose another "
                "--out, or pass --force to replace it")
    return None


def check_target(path: str | Path, scenario_name: str | None = None, *,
                 force: bool = False) -> Path:
    """``check_out`` and ``replace_problem`` together, before any work: the absolute path,
    or a RunDirError saying why a run of ``scenario_name`` cannot be written there
    (another process writing it, too).  Leftovers of a killed write are recovered first,
    under the target's lock, so the answer is about the results the user has."""
    p = check_out(path)
    with hold_lock(p):
        recover_leftovers(p)
        problem = replace_problem(p, scenario_name, force=force)
    if problem:
        raise RunDirError(f"{p}: {problem}")
    return p


_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<what>tmp|old|partial\.done)-[0-9a-f]{8}$")


def leftovers(path: str | Path) -> dict[str, list[Path]]:
    """Hidden siblings a killed write of ``path`` may have left, by kind (tmp, old,
    partial.done)."""
    path = Path(os.path.abspath(path))
    found: dict[str, list[Path]] = {"tmp": [], "old": [], "partial.done": []}
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return found
    for p in siblings:
        m = _LEFTOVER.match(p.name)
        if m and m["name"] == path.name:
            found[m["what"]].append(p)
    return found


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


def recover_leftovers(path: str | Path) -> list[str]:
    """Put ``path`` back in order after a killed write (call under its lock): previous
    results a kill left hidden as ``.NAME.old-*`` are restored when ``path`` is missing,
    then half-written ``.NAME.tmp-*`` and emptied ``.NAME.partial.done-*`` are removed.
    Returns what was done, in words."""
    path = Path(os.path.abspath(path))
    found = leftovers(path)
    done = []
    olds = sorted(found["old"], key=lambda p: p.stat().st_mtime_ns, reverse=True)
    if olds and not os.path.lexists(path):
        os.rename(olds[0], path)
        done.append(f"restored the previous results of {path} from {olds[0].name}")
        olds = olds[1:]
    for p in olds + found["tmp"] + found["partial.done"]:
        _remove(p)
        done.append(f"removed {p.name}")
    if done:
        fsync_path(path.parent)
    return done


# ---------------------------------------------------------------- writing


def _write_json(path: Path, data: dict) -> None:
    text = json.dumps(data, indent=2, default=str) + "\n"
    write_synced(path, lambda f: f.write(text.encode("utf-8")))


def write_run(
    path: str | Path, *, manifest: dict, summary: dict, tables: dict[str, pd.DataFrame],
    force: bool = False,
) -> Path:
    """Write ``tables`` as Parquet plus the manifest and summary, atomically at ``path``.

    Refuses (RunDirError) to replace anything but a scslab run of the same scenario
    (``force``: of any scenario); holds the target's lock while writing.
    """
    path = check_out(path)
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RunDirError(f"{parent}: cannot create the output directory: {e.strerror}") from None
    with hold_lock(path):
        recover_leftovers(path)
        problem = replace_problem(path, manifest.get("scenario_name"), force=force)
        if problem:
            raise RunDirError(f"{path}: {problem}")
        tmp = temporary_sibling(path)
        previous = None
        try:
            tmp.mkdir()
            for name, df in tables.items():
                write_synced(tmp / f"{name}.parquet",
                             lambda f, df=df: df.to_parquet(f, index=False))
            _write_json(tmp / SUMMARY, summary)
            manifest = dict(manifest, complete=True, format_version=FORMAT_VERSION,
                            tables=sorted(f"{n}.parquet" for n in tables))
            # the manifest goes last: its presence with complete=true marks the run whole
            _write_json(tmp / MANIFEST, manifest)
            fsync_path(tmp)
            previous = swap_into_place(tmp, path)
            fsync_path(parent)
        except BaseException as e:  # a full disk, but also Ctrl-C or a bug: leave no trace
            if previous is None and tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
            try:
                recover_leftovers(path)
            except OSError:
                pass
            if not isinstance(e, OSError):
                raise
            raise RunDirError(
                f"{path}: could not write the run ({_why(e, parent)}); nothing was changed "
                "at that path"
                + ("" if not path.exists() else ": the previous results there are intact")
            ) from None
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
    return path


def _why(e: OSError, parent: Path) -> str:
    if e.errno == errno.ENOSPC or "No space left" in str(e) or "errno 28" in str(e):
        return "the disk is full"
    if e.errno == errno.EDQUOT:
        return "the disk quota is used up"
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"no permission to write in {parent} ({e.strerror})"
    return e.strerror or str(e)


# ---------------------------------------------------------------- reading


class _Manifest(BaseModel):
    """The manifest fields scslab reads back, with their types (others may be added)."""

    model_config = ConfigDict(extra="allow")
    complete: StrictBool
    format_version: StrictInt
    tables: list[StrictStr]
    scenario: dict
    scenario_hash: StrictStr
    scenario_name: StrictStr | None = None
    seed: StrictInt | None = None
    residents: StrictInt | None = None
    days: StrictInt | None = None
    scale: StrictFloat | StrictInt | None = None
    versions: dict[str, Any] = {}


def _validated(path: Path, manifest: Any) -> dict:
    mf = path / MANIFEST
    if not isinstance(manifest, dict):
        raise RunDirError(f"{mf}: not a scslab manifest; the run is damaged")
    if manifest.get("complete") is not True and "complete" in manifest and isinstance(
            manifest["complete"], bool):
        raise RunDirError(f"{path}: the run is incomplete")
    if "format_version" in manifest and manifest["format_version"] != FORMAT_VERSION and \
            isinstance(manifest["format_version"], int):
        raise RunDirError(
            f"{path}: written by run-directory format {manifest.get('format_version')}, "
            f"this scslab reads format {FORMAT_VERSION}; re-run the scenario"
        )
    try:
        _Manifest.model_validate(manifest)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "(top level)"
        got = "" if err["type"] == "missing" else f" (got {err.get('input')!r:.60})"
        raise RunDirError(f"{mf}: damaged manifest: {where}: {err['msg']}{got}; "
                          "re-run the scenario") from None
    return manifest


def read_manifest(path: str | Path) -> dict:
    """The manifest of a complete run directory, or a RunDirError saying what is wrong."""
    path = Path(path)
    mf = path / MANIFEST
    if not path.is_dir():
        hidden = leftovers(path)["old"]
        if hidden:
            raise RunDirError(
                f"{path}: no such run directory; a write that was killed left the previous "
                f"results in {hidden[0]}: the next scslab run to {path} restores them, or "
                "rename it yourself")
        raise RunDirError(f"{path}: no such run directory")
    if not mf.is_file():
        raise RunDirError(f"{path}: not a scslab run directory (no {MANIFEST}), or incomplete")
    try:
        manifest = json.loads(mf.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunDirError(f"{mf}: unreadable manifest ({e}); the run is damaged") from None
    return _validated(path, manifest)


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
