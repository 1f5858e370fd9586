"""One cache stamp for all of scslab's compiled code.

numba's on-disk cache (``cache=True``) checks a compiled function against its own source
file only, yet the machine code it keeps holds everything the function calls or inlines
from other files.  The engine's day loop (engine/day_loop.py) is compiled with the phases
of engine/phases/ inlined into it: after an edit of a phase, numba would load the old day
loop from the cache and run the old phase, silently.

So every function defined in scslab gets a cache stamp that is a digest of all the
sources compiled code can reach: everything under engine/ and population/, and every
other module that imports numba (rng.py ...).  An edit of any of them recompiles all of
scslab's compiled code once; an edit elsewhere (the CLI, the report) recompiles nothing.

``install()`` must run before scslab's first ``@njit(cache=True)`` is decorated: it runs
when this module is imported, and scslab/__init__.py imports it first.  Functions outside
scslab keep numba's own stamps.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

from numba.core import caching

PACKAGE = Path(__file__).resolve().parent
COMPILED_FOLDERS = ("engine", "population")  # their constants are frozen into compiled code
USES_NUMBA = re.compile(rb"^\s*(from|import)\s+numba\b", re.MULTILINE)


def compiled_sources(root: Path = PACKAGE) -> list[Path]:
    """The package's sources whose content compiled code may hold, in a fixed order."""
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in COMPILED_FOLDERS or USES_NUMBA.search(path.read_bytes()):
            found.append(path)
    return found


def sources_digest(root: Path = PACKAGE) -> str:
    """A digest of the names and contents of ``compiled_sources(root)``."""
    h = hashlib.sha256()
    for path in compiled_sources(root):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


@cache
def _digest() -> str:
    return sources_digest()


def _in_package(py_file: str) -> bool:
    try:
        return Path(py_file).resolve().is_relative_to(PACKAGE)
    except OSError:
        return False


def _stamped(locator):
    """A subclass of a numba cache locator that claims scslab's functions only and stamps
    their caches with the digest of the compiled sources."""

    class Stamped(locator):
        def get_source_stamp(self):
            return _digest()

        @classmethod
        def from_function(cls, py_func, py_file):
            if not _in_package(py_file):
                return None
            return super().from_function(py_func, py_file)

    Stamped.__name__ = Stamped.__qualname__ = f"Scslab{locator.__name__.lstrip('_')}"
    return Stamped


@cache
def install() -> bool:
    """Put scslab's locators first in numba's list (once per process), in numba's order:
    a cache folder set by ``NUMBA_CACHE_DIR``, else ``__pycache__`` beside the source,
    else the user's cache folder.  Returns False, and leaves numba as it is, if this
    numba has none of the locators expected."""
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    names = ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")
    bases = [getattr(caching, n, None) or getattr(caching, "_" + n, None) for n in names]
    if impl is None or None in bases or not isinstance(impl._locator_classes, list):
        return False
    impl._locator_classes[:0] = [_stamped(b) for b in bases]
    return True


install()
