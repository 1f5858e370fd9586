"""Atomic writes: a file is either whole at its path or not there at all.

Every file scslab writes for its user (run directories, checkpoints, comparisons, batch
tables, calibrated scenarios, reports) goes through here, so one rule holds everywhere:
write a temporary sibling, flush it to disk, rename it into place, flush the directory.
A kill or a full disk at any moment leaves the previous file (if any) untouched.

The same module holds the two other things every writer needs: a lock on a target, so two
processes never write one place at once (``hold_lock``), and the atomic exchange of a new
directory with the previous one (``swap_into_place``), so a path always holds whole
results, the old ones until the new ones are complete.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from scslab.errors import RunDirError

TMP_MARK = ".tmp-"  # temporary siblings are named ``.NAME.tmp-XXXXXXXX``
LOCK_SUFFIX = ".lock"  # the lock of a target NAME is the hidden sibling ``.NAME.lock``
# the longest hidden sibling scslab adds to a target's name: ``.NAME.partial.done-XXXXXXXX``
SIBLING_EXTRA = len("..partial.done-") + 8


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


def write_synced(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(fileobj)`` on a new file at ``path`` and flush it to disk before
    returning (for files inside a temporary directory that is renamed into place whole)."""
    path = Path(path)
    with open(path, "xb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    return path


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
        write_synced(tmp, write)
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


def replace_file_problem(path: str | Path, mark: bytes, head: int = 4096) -> str | None:
    """Why scslab must not replace the file at ``path`` (None if it may): scslab replaces
    only a file it wrote itself, recognised by ``mark`` in its first ``head`` bytes."""
    p = Path(path)
    if p.is_symlink():
        return "is a symbolic link"
    if not p.exists():
        return None
    if not p.is_file():
        return "exists and is not a regular file"
    try:
        with open(p, "rb") as f:
            start = f.read(head)
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    return None if mark in start else "exists and was not written by scslab"


def remove_temporaries(folder: str | Path, name: str | None = None) -> None:
    """Delete temporary siblings left in ``folder`` by a killed write (of ``name`` only,
    if given)."""
    pattern = f".{name}{TMP_MARK}*" if name else f"*{TMP_MARK}*"
    for p in Path(folder).glob(pattern):
        if p.is_file() or p.is_symlink():
            p.unlink(missing_ok=True)


# ---------------------------------------------------------------- exchanging directories

_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100
try:
    _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
except (AttributeError, OSError):  # not glibc/Linux: the fallback below is used
    _renameat2 = None


def _exchange(a: Path, b: Path) -> bool:
    """Swap the names ``a`` and ``b`` in one atomic step (Linux ``renameat2``); False
    where the system or file system cannot."""
    if _renameat2 is None:
        return False
    r = _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if r == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_into_place(new: Path, path: Path) -> Path | None:
    """Move the directory ``new`` to ``path``; if ``path`` exists, the two are exchanged
    atomically where the file system can, so ``path`` holds whole results at every moment.

    Returns where the previous contents of ``path`` now are (to be deleted by the caller),
    or None if there were none.  Where an exchange is impossible the previous directory is
    first renamed to ``.NAME.old-XXXXXXXX``; a kill between the two renames leaves it there,
    and the next write to ``path`` restores it (``outputs.rundir.recover_leftovers``).
    """
    if not os.path.lexists(path):
        os.rename(new, path)
        return None
    if _exchange(new, path):
        return new
    old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
    os.rename(path, old)
    try:
        os.rename(new, path)
    except BaseException:
        os.rename(old, path)
        raise
    return old


# ---------------------------------------------------------------- locks

_held: dict[str, int] = {}  # lock paths this process holds -> depth
_held_guard = threading.Lock()


def lock_path(target: str | Path) -> Path:
    """The lock file of ``target``: ``.NAME.lock`` beside it."""
    target = Path(os.path.abspath(target))
    return target.with_name(f".{target.name}{LOCK_SUFFIX}")


@contextmanager
def hold_lock(target: str | Path) -> Iterator[None]:
    """Hold the lock of ``target`` (an exclusive ``flock`` on ``.NAME.lock``) while
    writing it; a RunDirError at once if another process holds it.  Re-entrant within a
    process.  The lock file is removed on release."""
    lock = lock_path(target)
    key = str(lock)
    with _held_guard:
        if _held.get(key):
            _held[key] += 1
            mine = False
        else:
            mine = True
    if not mine:
        try:
            yield
        finally:
            with _held_guard:
                _held[key] -= 1
        return
    fd = _acquire(lock, target)
    with _held_guard:
        _held[key] = 1
    try:
        yield
    finally:
        with _held_guard:
            _held.pop(key, None)
        try:
            lock.unlink(missing_ok=True)  # still ours: others verify the inode they locked
        except OSError:
            pass
        os.close(fd)


def _acquire(lock: Path, target) -> int:
    for _ in range(100):
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise RunDirError(f"{target}: cannot take the lock {lock.name} beside it "
                              f"({e.strerror or e})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            owner = ""
            try:
                owner = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            except OSError:
                pass
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EACCES, errno.EAGAIN):
                raise RunDirError(
                    f"{target}: another scslab process{f' (pid {owner})' if owner else ''} "
                    "is writing there now; wait for it to finish, or choose another --out"
                ) from None
            raise RunDirError(f"{target}: cannot lock {lock} ({e.strerror or e})") from None
        # the file may have been removed by its previous holder after we opened it
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except OSError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            return fd
        os.close(fd)
    raise RunDirError(f"{target}: cannot take the lock {lock}; try again")  # pragma: no cover
