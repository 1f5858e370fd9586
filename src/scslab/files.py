"""Atomic writes: a file is either whole at its path or not there at all.

Every file scslab writes for its user (run directories, checkpoints, comparisons, batch
tables, calibrated scenarios, reports) goes through here, so one rule holds everywhere:
write a temporary sibling, flush it to disk, rename it into place, flush the directory.
A kill or a full disk at any moment leaves the previous file (if any) untouched.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

TMP_MARK = ".tmp-"  # temporary siblings are named ``.NAME.tmp-XXXXXXXX``


def fsync_path(path: str | Path) -> None:
    """Flush a file or directory to disk, best effort (some filesystems refuse)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temporary_sibling(path: str | Path) -> Path:
    """A fresh hidden name beside ``path`` for writing it before the rename."""
    path = Path(path)
    return path.with_name(f".{path.name}{TMP_MARK}{uuid.uuid4().hex[:8]}")


def atomic_write_bytes(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(fileobj)`` on a temporary sibling, fsync it, rename it to ``path``.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = atomic_write_bytes(p, lambda f: f.write(b"hello"))
    >>> p.read_bytes()
    b'hello'
    """
    path = Path(path)
    tmp = temporary_sibling(path)
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    data = text.encode("utf-8")
    return atomic_write_bytes(path, lambda f: f.write(data))


def remove_temporaries(folder: str | Path, name: str | None = None) -> None:
    """Delete temporary siblings left in ``folder`` by a killed write (of ``name`` only,
    if given)."""
    pattern = f".{name}{TMP_MARK}*" if name else f"*{TMP_MARK}*"
    for p in Path(folder).glob(pattern):
        if p.is_file() or p.is_symlink():
            p.unlink(missing_ok=True)
