"""scslab's build backend: setuptools' wheel, plus numba's cache of the engine compiled on
the machine that builds it.

``pip install .`` builds a wheel on the user's own machine and installs it.  numba compiles
the engine on its first call (minutes of one core) and keeps the machine code in
``__pycache__`` beside the sources, keyed by the function's signature, the numba version,
the Python version and the host CPU, and stamped with a digest of the compiled sources
(scslab/jit_cache.py), never with a path or a file time.  So the cache written while the
wheel is built, against the wheel's own files, is valid where pip then installs them: this
backend runs the compile (``[tool.compiled-wheel] compile`` in pyproject.toml) on the
unpacked wheel and adds the cache files it wrote to the wheel.  On another machine, numba or
Python the shipped files do not match and numba compiles on the first run, as it would
without them.

Best effort: if the compile fails, the wheel is the plain setuptools wheel and the build
says why.  ``SCSLAB_BUILD_SKIP_COMPILE=1`` skips the compile (and the packages it needs in
the build environment), for packagers who build wheels for other machines.  Editable
installs and sdists are setuptools' own.

The compile needs scslab importable in the build environment: ``get_requires_for_build_wheel``
adds the distributions named in ``[tool.compiled-wheel] requires``, with the version
specifiers of ``[project] dependencies``, so that the build and the install resolve the
same numba; when the environment being installed into already has a numba those
specifiers allow (which pip keeps), the build pins that one.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import re
import site
import subprocess
import sys
import sysconfig
import tempfile
import time
import tomllib
import zipfile
from fnmatch import fnmatch
from importlib import metadata
from pathlib import Path

from setuptools import build_meta as _setuptools
from setuptools.build_meta import (  # noqa: F401  (the hooks this backend leaves as they are)
    build_editable,
    build_sdist,
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

SKIP_VARIABLE = "SCSLAB_BUILD_SKIP_COMPILE"
SETTINGS = "compiled-wheel"  # the [tool.compiled-wheel] table of pyproject.toml


class CompileFailed(Exception):
    """The compile could not produce cache files; the wheel is shipped without them."""


def say(message: str) -> None:
    """One line in the build's log (pip shows it with ``-v``, or when the build fails)."""
    print(f"scslab build: {message}", file=sys.stderr, flush=True)


def compile_wanted() -> bool:
    """False when the packager set ``SCSLAB_BUILD_SKIP_COMPILE`` (to anything but 0)."""
    return os.environ.get(SKIP_VARIABLE, "").strip() in ("", "0")


def read_pyproject(root: Path = Path(".")) -> dict:
    with open(root / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def _distribution_name(requirement: str) -> str:
    """The normalized distribution name a requirement string starts with."""
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if name is None:
        raise ValueError(f"pyproject.toml: cannot read a distribution name in {requirement!r}")
    return re.sub(r"[-_.]+", "-", name.group(1)).lower()


def installed_version(name: str) -> str | None:
    """The version of distribution ``name`` in the environment being installed into, if
    any.  pip runs the build's hooks in that environment's interpreter with its
    site-packages taken off ``sys.path`` (build isolation), but ``site`` still knows them:
    the environment's own, then the system's for a virtualenv that sees them."""
    paths = [*site.getsitepackages(), sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
    for dist in metadata.distributions(path=list(dict.fromkeys(paths))):
        if _distribution_name(dist.metadata["Name"] or "") == _distribution_name(name):
            return dist.version
    return None


def _allows(requirement: str, version: str) -> bool:
    try:
        from packaging.requirements import Requirement  # setuptools' own requirement
    except ImportError:
        return False
    return Requirement(requirement).specifier.contains(version, prereleases=True)


def compile_requirements(pyproject: dict, installed=installed_version) -> list[str]:
    """The ``[project] dependencies`` (with their specifiers) named in
    ``[tool.compiled-wheel] requires``: what the build environment needs to compile.

    A distribution named in ``same-as-installed`` (numba: its cache is valid for the
    numba that wrote it only) is pinned to the version ``installed(name)`` reports for
    the environment being installed into, when the dependency allows that version: pip
    keeps a numba that satisfies the dependencies, so the build must compile with it."""
    settings = pyproject["tool"][SETTINGS]
    by_name = {_distribution_name(d): d for d in pyproject["project"]["dependencies"]}
    missing = [n for n in settings["requires"] if _distribution_name(n) not in by_name]
    if missing:
        raise ValueError(f"pyproject.toml: tool.{SETTINGS}.requires names {missing}, which "
                         "[project] dependencies does not list; only dependencies are allowed "
                         "(so that the build and the install agree on their versions)")
    pinned = {_distribution_name(n) for n in settings.get("same-as-installed", [])}
    found = []
    for name in settings["requires"]:
        spec = by_name[_distribution_name(name)]
        version = installed(name) if _distribution_name(name) in pinned else None
        if version is not None and _allows(spec, version):
            spec = f"{name}=={version}"
        found.append(spec)
    return found


def get_requires_for_build_wheel(config_settings=None) -> list[str]:
    """setuptools' requirements, plus what the compile needs unless it is skipped."""
    base = list(_setuptools.get_requires_for_build_wheel(config_settings))
    if not compile_wanted():
        return base
    return base + compile_requirements(read_pyproject())


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None) -> str:
    """setuptools' wheel, with numba's cache of the compiled code added when the compile
    succeeds."""
    name = _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
    if not compile_wanted():
        say(f"{SKIP_VARIABLE} is set: the wheel has no compiled engine; the first run "
            "compiles it")
        return name
    settings = read_pyproject()["tool"][SETTINGS]
    t0 = time.perf_counter()
    try:
        added = add_compiled_cache(Path(wheel_directory) / name, settings["compile"],
                                   settings["ship"])
    except (CompileFailed, OSError) as e:  # the wheel on disk is setuptools' own then
        say(f"could not compile the engine ({e}); the wheel is built without it and the "
            "first run compiles it, as an install without this step would")
    else:
        say(f"compiled the engine for this machine in {time.perf_counter() - t0:.0f} s: "
            f"{len(added)} cache files added to {name}")
    return name


def add_compiled_cache(wheel: Path, compile_code: str, patterns: list[str]) -> list[str]:
    """Run ``compile_code`` in a fresh Python on the unpacked ``wheel`` and add the files
    it wrote under ``__pycache__`` whose names match ``patterns`` to the wheel (and to its
    RECORD).  Returns their paths in the wheel."""
    with tempfile.TemporaryDirectory(prefix="compiled-wheel-") as tmp:
        tree = Path(tmp).resolve() / "tree"
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(tree)
        before = {p for p in tree.rglob("*") if p.is_file()}
        run_compile(tree, compile_code)
        new = sorted(p for p in tree.rglob("*") if p.is_file() and p not in before
                     and p.parent.name == "__pycache__"
                     and any(fnmatch(p.name, pat) for pat in patterns))
        if not new:
            raise CompileFailed(f"the compile wrote no file matching {patterns}")
        files = {p.relative_to(tree).as_posix(): p.read_bytes() for p in new}
    append_to_wheel(wheel, files)
    return list(files)


def run_compile(tree: Path, compile_code: str) -> None:
    """``compile_code`` in a new interpreter that imports the wheel's packages from
    ``tree`` and keeps numba's cache beside their sources (the place the install has)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "NUMBA_DISABLE_JIT")}
    env["PYTHONPATH"] = os.pathsep.join([str(tree), *filter(None, [env.get("PYTHONPATH")])])
    packages = [p.name for p in tree.iterdir()
                if (p / "__init__.py").is_file() and not p.name.endswith(".dist-info")]
    # before compiling: the packages come from the wheel's files, not from an installed
    # copy (an editable install of the same package, in a build without isolation, say)
    check = (f"import importlib\nfor _n in {packages!r}:\n"
             f"    _f = importlib.import_module(_n).__file__\n"
             f"    assert _f.startswith({str(tree)!r}), f'{{_n}} was imported from {{_f}}'\n")
    done = subprocess.run([sys.executable, "-c", check + compile_code], cwd=tree, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise CompileFailed(f"exit {done.returncode}: " + " / ".join(tail))


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def append_to_wheel(wheel: Path, files: dict[str, bytes]) -> None:
    """Rewrite ``wheel`` with ``files`` (path in the wheel -> content) added, each listed
    in the RECORD with its hash and size."""
    with zipfile.ZipFile(wheel) as old:
        record_name = next(n for n in old.namelist()
                           if n.endswith(".dist-info/RECORD") and n.count("/") == 1)
        dist_info = record_name.split("/")[0] + "/"
        rows = [r for r in csv.reader(io.StringIO(old.read(record_name).decode())) if r]
        rows = [r for r in rows if r[0] != record_name]
        rows += [[path, _record_hash(data), str(len(data))] for path, data in files.items()]
        rows.append([record_name, "", ""])
        record = io.StringIO()
        csv.writer(record, lineterminator="\n").writerows(rows)
        partial = wheel.with_name(wheel.name + ".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as new:
            # the packages' files, the added ones, then .dist-info with its RECORD last
            infos = old.infolist()
            for info in infos:
                if not info.filename.startswith(dist_info):
                    new.writestr(info, old.read(info))
            for path, data in files.items():
                new.writestr(path, data)
            for info in infos:
                if info.filename.startswith(dist_info) and info.filename != record_name:
                    new.writestr(info, old.read(info))
            new.writestr(record_name, record.getvalue())
    os.replace(partial, wheel)
