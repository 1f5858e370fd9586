"""The engine's first run on a machine: numba compiles it, and the user is told so.

numba compiles the day loop on the first call and keeps the machine code in its on-disk
cache (beside the sources, or in ``NUMBA_CACHE_DIR``), stamped with a digest of the
compiled sources (scslab/jit_cache.py).  Compiling takes minutes of one core; loading it
afterwards takes about a second.  So that nobody watches a progress bar frozen at 0%, a run
that is about to compile says so once per process (``announce_compile``), and a marker
beside numba's cache records that this machine has compiled these sources
(``mark_compiled``).  The marker's name holds everything numba's cache is keyed by that can
differ between machines or installs: the source digest, numba's and Python's versions and
the host CPU (its name and features).  Delete numba's cache and the marker goes with it.
A non-editable install ships numba's cache and this marker, compiled while its wheel was
built on the same machine (build_backend/compiled_wheel.py): its first run loads the engine
and says nothing.

``scslab warmup`` (``scslab.warmup()``) compiles ahead of a first real run.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from functools import cache
from pathlib import Path

import numba
from numba.core.registry import cpu_target

from scslab.engine.unit import simulate_unit
from scslab.jit_cache import sources_digest

# Measured with bench/first_run.py on a 2-core machine (docs/performance.md, "The first
# run"); a slower or busier machine takes longer.
COMPILE_MINUTES = "2"
NOTICE = (f"scslab: compiling the engine (first run on this machine only, about "
          f"{COMPILE_MINUTES} minutes; later runs start at once; `scslab warmup` compiles "
          "ahead)")

_lock = threading.Lock()
_checked = False  # this process has announced, or found the engine compiled


@cache
def marker_path() -> Path:
    """The file that says this machine has compiled the engine's current sources."""
    folder = getattr(getattr(simulate_unit, "_cache", None), "_cache_path", None)
    if folder is None:  # a numba without the cache layout expected: a folder of our own
        folder = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "scslab"
    # numba keys each compiled function by the target it was compiled for: the triple,
    # the CPU's name and its features (a wheel built with the cache of another machine
    # ships a marker that does not match here, so the first run here is announced)
    triple, cpu, features = cpu_target.target_context.codegen().magic_tuple()
    target = hashlib.sha256(f"{triple} {cpu} {features}".encode()).hexdigest()[:8]
    key = "-".join([sources_digest()[:16], f"numba{numba.__version__}",
                    f"py{sys.version_info[0]}{sys.version_info[1]}", cpu, target])
    return Path(folder) / f"scslab-compiled-{key}"


def is_compiled() -> bool:
    """True when this machine's numba cache holds the engine's current sources."""
    return marker_path().exists()


def announce_compile(write=None) -> bool:
    """Say, once per process, that the engine is about to compile; True if it said so.

    ``write`` takes the message (default: standard error, which a notebook shows under the
    cell and the command line's progress bar prints above itself)."""
    global _checked
    with _lock:
        if _checked:
            return False
        _checked = True
        if is_compiled():
            return False
    (write or (lambda msg: print(msg, file=sys.stderr, flush=True)))(NOTICE)
    return True


def mark_compiled() -> None:
    """Record that the engine is compiled here (best effort: a read-only cache folder only
    means the notice shows again)."""
    path = marker_path()
    if path.exists():
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError:
        pass
