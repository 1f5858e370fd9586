"""Checkpoints of a run in progress, so a killed run resumes to the identical result.

While a run is written to ``DIR`` its finished shards are kept in the hidden sibling folder
``.DIR.partial/``:

- ``checkpoint.json``: what the run is (the resolved scenario, its hash, the seed, the
  shard plan, whether traces are kept, the command), written before any shard starts;
- ``shard-00003.npz``: one file per finished shard, holding the shard's metric sums (every
  ``UnitOutputs`` field), its units and, for traced runs, its per-unit traces.

Every file is written to a temporary name and renamed into place (``os.replace``), so a
shard file either exists complete or not at all: a kill at any moment never leaves a half
shard that could be counted, and a shard is never counted twice because its result lives in
exactly one file named by its index in the plan.  ``scslab run --resume DIR`` reads the
plan, loads the finished shards, runs the others and writes ``DIR``; the folder is removed
once ``DIR`` is complete.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from scslab.engine.runner import ShardResult
from scslab.errors import RunDirError
from scslab.files import atomic_write_bytes, remove_temporaries

CHECKPOINT = "checkpoint.json"
CHECKPOINT_FORMAT = 1


def checkpoint_path(run_dir: str | Path) -> Path:
    """The checkpoint folder of a run written to ``run_dir``: ``.NAME.partial`` beside it."""
    run_dir = Path(run_dir).absolute()
    return run_dir.parent / f".{run_dir.name}.partial"


def shard_file(folder: str | Path, index: int) -> Path:
    return Path(folder) / f"shard-{index:05d}.npz"


def save_shard(folder: str | Path, index: int, result) -> Path:
    """Write one finished shard (a ``ShardResult``) atomically; returns its path."""
    arrays: dict[str, np.ndarray] = {"units": np.asarray(result.units, dtype=np.int64)}
    for name, arr in zip(result.outputs._fields, result.outputs, strict=True):
        arrays[f"out.{name}"] = np.asarray(arr)
    for i, trace in enumerate(result.traces):
        for key, value in trace.items():
            arrays[f"trace.{i}.{key}"] = np.asarray(value)
    arrays["n_traces"] = np.asarray(len(result.traces))
    path = shard_file(folder, index)
    atomic_write_bytes(path, lambda f: np.savez(f, **arrays))
    return path


def load_shard(path: str | Path, outputs_type):
    """Read a shard file back into a ``ShardResult`` with ``outputs_type`` (UnitOutputs)."""
    with np.load(path, allow_pickle=False) as z:
        names = set(z.files)
        missing = [f for f in outputs_type._fields if f"out.{f}" not in names]
        if missing:
            raise RunDirError(
                f"{path}: written by a different scslab (no {', '.join(missing)}); "
                "the checkpoint cannot be resumed, start the run again"
            )
        outputs = outputs_type._make(z[f"out.{f}"] for f in outputs_type._fields)
        traces: list[dict] = [{} for _ in range(int(z["n_traces"]))]
        for key in z.files:
            if key.startswith("trace."):
                _, i, name = key.split(".", 2)
                v = z[key]
                traces[int(i)][name] = v.item() if v.ndim == 0 else v
        units = [int(u) for u in z["units"]]
    return ShardResult(outputs=outputs, units=units, traces=traces)


class Checkpoint:
    """The checkpoint folder of one run: its description and its finished shards."""

    def __init__(self, folder: str | Path, meta: dict):
        self.folder = Path(folder)
        self.meta = meta

    @property
    def plan(self) -> list[list[int]]:
        return self.meta["plan"]

    @classmethod
    def create(cls, run_dir: str | Path, meta: dict) -> Checkpoint:
        """Start a fresh checkpoint for ``run_dir``, discarding an older one."""
        folder = checkpoint_path(run_dir)
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
        f = folder / CHECKPOINT
        if not f.is_file():
            return None
        try:
            meta = json.loads(f.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise RunDirError(f"{f}: unreadable checkpoint: {e}") from None
        if meta.get("format") != CHECKPOINT_FORMAT:
            raise RunDirError(f"{f}: checkpoint format {meta.get('format')} is not "
                              f"{CHECKPOINT_FORMAT}; start the run again")
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
        save_shard(self.folder, index, result)

    def load(self, index: int, outputs_type):
        return load_shard(shard_file(self.folder, index), outputs_type)

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
    for old in folder.parent.glob(f"{folder.name}.done-*"):
        shutil.rmtree(old, ignore_errors=True)
