"""Checkpoints of a run in progress, so a killed run resumes to the identical result.

While a run is written to ``DIR`` its finished shards are kept in the hidden sibling folder
``.DIR.partial/``:

- ``checkpoint.json``: what the run is (the resolved scenario, its hash, the seed, the
  shard plan, whether traces are kept, the command), written before any shard starts;
- ``shard-00003.npz``: one file per finished shard, holding the shard's metric sums (every
  ``UnitOutputs`` field), its units and, for traced runs, its per-unit traces, stamped with
  the run it belongs to (scenario hash, seed, shard index): a shard whose stamp is not its
  checkpoint's is never counted.

Every file is written to a temporary name and renamed into place (``os.replace``), so a
shard file either exists complete or not at all: a kill at any moment never leaves a half
shard that could be counted, and a shard is never counted twice because its result lives in
exactly one file named by its index in the plan.  ``scslab run --resume DIR`` reads the
plan, loads the finished shards, runs the others and writes ``DIR``; the folder is removed
once ``DIR`` is complete.  Only a real folder holding nothing but these files is ever
removed; a ``.DIR.partial`` that is a file, a symbolic link or holds other files is refused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
import zipfile
from pathlib import Path

import numpy as np

from scslab.engine.runner import ShardResult
from scslab.errors import RunDirError
from scslab.files import atomic_write_bytes, remove_temporaries

CHECKPOINT = "checkpoint.json"
CHECKPOINT_FORMAT = 2  # 2: shards carry the stamp of their run
_OURS = re.compile(r"^(checkpoint\.json|shard-\d{5,}\.npz|\.(checkpoint\.json|shard-\d{5,}"
                   r"\.npz)\.tmp-[0-9a-f]{8})$")


def checkpoint_path(run_dir: str | Path) -> Path:
    """The checkpoint folder of a run written to ``run_dir``: ``.NAME.partial`` beside it."""
    run_dir = Path(run_dir).absolute()
    return run_dir.parent / f".{run_dir.name}.partial"


def shard_file(folder: str | Path, index: int) -> Path:
    return Path(folder) / f"shard-{index:05d}.npz"


def stamp_of(meta: dict) -> dict:
    """What every shard of a checkpoint is stamped with: its run's scenario hash and seed."""
    return {"scenario_hash": str(meta["scenario_hash"]), "seed": int(meta["seed"])}


def save_shard(folder: str | Path, index: int, result, stamp: dict | None = None) -> Path:
    """Write one finished shard (a ``ShardResult``) atomically, stamped with ``stamp``
    (``stamp_of``) and its index; returns its path."""
    arrays: dict[str, np.ndarray] = {"units": np.asarray(result.units, dtype=np.int64)}
    if stamp is not None:
        arrays["stamp.scenario_hash"] = np.asarray(stamp["scenario_hash"])
        arrays["stamp.seed"] = np.asarray(stamp["seed"], dtype=np.uint64)
        arrays["stamp.index"] = np.asarray(index, dtype=np.int64)
    for name, arr in zip(result.outputs._fields, result.outputs, strict=True):
        arrays[f"out.{name}"] = np.asarray(arr)
    for i, trace in enumerate(result.traces):
        for key, value in trace.items():
            arrays[f"trace.{i}.{key}"] = np.asarray(value)
    arrays["n_traces"] = np.asarray(len(result.traces))
    path = shard_file(folder, index)
    atomic_write_bytes(path, lambda f: np.savez(f, **arrays))
    return path


def load_shard(path: str | Path, outputs_type, stamp: dict | None = None,
               index: int | None = None, units: list[int] | None = None):
    """Read a shard file back into a ``ShardResult`` with ``outputs_type`` (UnitOutputs).

    With ``stamp`` (and ``index``, ``units``) the shard must carry that stamp and hold
    those units; a shard of another run, or a damaged file, is a RunDirError naming it."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            names = set(z.files)
            missing = [f for f in outputs_type._fields if f"out.{f}" not in names]
            if missing:
                raise RunDirError(
                    f"{path}: written by a different scslab (no {', '.join(missing)}); "
                    "the checkpoint cannot be resumed, start the run again"
                )
            if stamp is not None:
                _check_stamp(path, z, stamp, index)
            outputs = outputs_type._make(z[f"out.{f}"] for f in outputs_type._fields)
            traces: list[dict] = [{} for _ in range(int(z["n_traces"]))]
            for key in z.files:
                if key.startswith("trace."):
                    _, i, name = key.split(".", 2)
                    v = z[key]
                    traces[int(i)][name] = v.item() if v.ndim == 0 else v
            got_units = [int(u) for u in z["units"]]
    except RunDirError:
        raise
    except (OSError, ValueError, KeyError, IndexError, EOFError, zipfile.BadZipFile) as e:
        raise RunDirError(
            f"{path}: this shard checkpoint is damaged ({type(e).__name__}: {e}); delete the "
            "file and resume again to re-run its shard"
        ) from None
    if units is not None and got_units != list(units):
        raise RunDirError(f"{path}: holds units other than its shard's in the plan; the "
                          "checkpoint is not this run's: start the run again")
    return ShardResult(outputs=outputs, units=got_units, traces=traces)


def _check_stamp(path: Path, z, stamp: dict, index: int | None) -> None:
    if "stamp.scenario_hash" not in z.files:
        raise RunDirError(f"{path}: an unstamped shard (written by an older scslab or "
                          "another program); start the run again")
    got = (str(z["stamp.scenario_hash"]), int(z["stamp.seed"]), int(z["stamp.index"]))
    want = (stamp["scenario_hash"], int(stamp["seed"]), got[2] if index is None else index)
    if got != want:
        raise RunDirError(
            f"{path}: belongs to another run (scenario {got[0][:12]}, seed {got[1]}, shard "
            f"{got[2]}), not to this checkpoint's (scenario {want[0][:12]}, seed {want[1]}, "
            f"shard {want[2]}); two runs were mixed in one checkpoint: start the run again")


class Checkpoint:
    """The checkpoint folder of one run: its description and its finished shards."""

    def __init__(self, folder: str | Path, meta: dict):
        self.folder = Path(folder)
        self.meta = meta

    @property
    def plan(self) -> list[list[int]]:
        return self.meta["plan"]

    @property
    def stamp(self) -> dict | None:
        """The stamp of this checkpoint's shards (None for a description without one)."""
        if "scenario_hash" not in self.meta or "seed" not in self.meta:
            return None
        return stamp_of(self.meta)

    @classmethod
    def create(cls, run_dir: str | Path, meta: dict) -> Checkpoint:
        """Start a fresh checkpoint for ``run_dir``, discarding an older one (only if it is
        scslab's: a real folder of checkpoint files)."""
        folder = checkpoint_path(run_dir)
        check_folder(folder)
        if folder.exists():
            shutil.rmtree(folder)
        remove_leftovers(folder)
        try:
            folder.mkdir(parents=True)
            meta = dict(meta, format=CHECKPOINT_FORMAT)
            atomic_write_bytes(
                folder / CHECKPOINT,
                lambda f: f.write((json.dumps(meta, indent=1, default=str) + "\n").encode()),
            )
        except OSError as e:
            raise RunDirError(f"{folder}: cannot write the checkpoint: {e.strerror or e}") from None
        return cls(folder, meta)

    @classmethod
    def open(cls, run_dir: str | Path) -> Checkpoint | None:
        """The checkpoint of an unfinished run at ``run_dir``, or None if there is none."""
        folder = checkpoint_path(run_dir)
        check_folder(folder)
        f = folder / CHECKPOINT
        if not f.is_file():
            return None
        try:
            meta = json.loads(f.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise RunDirError(f"{f}: unreadable checkpoint ({e}); start the run again") from None
        if not isinstance(meta, dict):
            raise RunDirError(f"{f}: not a scslab checkpoint; start the run again")
        if meta.get("format") != CHECKPOINT_FORMAT:
            raise RunDirError(f"{f}: checkpoint format {meta.get('format')} is not "
                              f"{CHECKPOINT_FORMAT}; start the run again")
        problem = _meta_problem(meta)
        if problem:
            raise RunDirError(f"{f}: damaged checkpoint ({problem}); start the run again")
        return cls(folder, meta)

    def done(self) -> list[int]:
        """Indexes of the shards whose files are complete (temporary files are ignored)."""
        n = len(self.plan)
        out = []
        for i in range(n):
            if shard_file(self.folder, i).is_file():
                out.append(i)
        return out

    def clean_temporaries(self) -> None:
        remove_temporaries(self.folder)

    def save(self, index: int, result) -> None:
        save_shard(self.folder, index, result, self.stamp)

    def load(self, index: int, outputs_type):
        """Shard ``index``, checked against this checkpoint's stamp and plan."""
        return load_shard(shard_file(self.folder, index), outputs_type, self.stamp,
                          index=index, units=self.plan[index])

    def remove(self) -> None:
        """Drop the folder once the run directory is whole: renamed away first (atomic),
        so a kill while deleting never leaves a half folder that looks like a checkpoint."""
        trash = self.folder.with_name(f"{self.folder.name}.done-{uuid.uuid4().hex[:8]}")
        try:
            os.replace(self.folder, trash)
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)
        remove_leftovers(self.folder)


def remove_leftovers(folder: Path) -> None:
    """Delete folders left by a kill during an earlier ``remove``."""
    for old in folder.parent.glob(f"{glob_escape(folder.name)}.done-*"):
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)


def glob_escape(name: str) -> str:
    """``name`` with glob's special characters taken literally."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def check_folder(folder: Path) -> None:
    """A RunDirError unless ``folder`` is absent or a real folder of checkpoint files: a
    file, a symbolic link or a folder holding anything else at that name is not scslab's,
    and scslab neither reads nor removes it."""
    if folder.is_symlink():
        raise RunDirError(f"{folder}: is a symbolic link, not scslab's checkpoint folder; "
                          "scslab will not follow or remove it: move it away and run again")
    if not folder.exists():
        return
    if not folder.is_dir():
        raise RunDirError(f"{folder}: is a file, not scslab's checkpoint folder; scslab "
                          "will not remove it: move it away and run again")
    try:
        entries = os.listdir(folder)
    except OSError as e:
        raise RunDirError(f"{folder}: cannot read the checkpoint folder "
                          f"({e.strerror or e})") from None
    foreign = sorted(e for e in entries if not _OURS.match(e))
    if foreign:
        raise RunDirError(
            f"{folder}: holds files that are not scslab checkpoints ({', '.join(foreign[:5])}"
            f"{' ...' if len(foreign) > 5 else ''}); scslab will not remove them: move them "
            "away and run again")


def _meta_problem(meta: dict) -> str | None:
    plan = meta.get("plan")
    if not isinstance(plan, list) or not plan or not all(
            isinstance(s, list) and all(isinstance(u, int) and not isinstance(u, bool)
                                        for u in s) for s in plan):
        return "its shard plan is not a list of lists of units"
    if not isinstance(meta.get("scenario"), dict):
        return "no scenario"
    if not isinstance(meta.get("scenario_hash"), str):
        return "no scenario hash"
    seed = meta.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        return "no seed"
    if not isinstance(meta.get("trace"), bool):
        return "'trace' is not true or false"
    scale = meta.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale < 1e6:
        return "'scale' is not a positive number"
    return None
