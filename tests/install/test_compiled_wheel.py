"""A non-editable install ships numba's cache of the engine, compiled while the wheel is
built (build_backend/compiled_wheel.py), and the installed copy loads it.

The wheels here are built by pip from a copy of this project, without build isolation (the
packages are already here), with a compile step that compiles one small function rather
than the whole engine, so that each test takes seconds; `bench/first_run.py --install`
measures the real thing.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "build_backend"))
import compiled_wheel  # noqa: E402

# one small compiled function, and the first-run marker that a full compile leaves
SMALL_COMPILE = ("from scslab.rng import to_uniform; to_uniform(7); "
                 "from scslab.engine.first_run import mark_compiled; mark_compiled()")


def project_copy(tmp_path: Path, compile_code: str) -> Path:
    """This project's files needed to build a wheel, with ``compile_code`` as its
    compile step."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "src", copy / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copytree(ROOT / "build_backend", copy / "build_backend",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "README.md", copy)
    text = (ROOT / "pyproject.toml").read_text()
    text, n = re.subn(r"(?m)^compile = .*$", lambda _: f"compile = {json.dumps(compile_code)}",
                      text)
    assert n == 1
    (copy / "pyproject.toml").write_text(text)
    return copy


def build(project: Path, out: Path, **env) -> tuple[Path, str]:
    """pip's wheel of ``project`` and its build log."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", str(out), str(project)],
        capture_output=True, text=True, timeout=300, env={**os.environ, **env})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (wheel,) = out.glob("scslab-*.whl")
    return wheel, done.stdout + done.stderr


def cache_files(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return [n for n in zf.namelist() if "/__pycache__/" in n]


def test_the_wheel_ships_the_compiled_cache_and_the_install_loads_it(tmp_path):
    wheel, log = build(project_copy(tmp_path, SMALL_COMPILE), tmp_path / "dist")
    assert "cache files added" in log
    shipped = cache_files(wheel)
    assert any(n.endswith(".nbi") and "rng.to_uniform" in n for n in shipped), shipped
    assert any(n.endswith(".nbc") and "rng.to_uniform" in n for n in shipped), shipped
    assert any(n.startswith("scslab/engine/__pycache__/scslab-compiled-") for n in shipped)
    assert not any(n.endswith(".pyc") for n in shipped)  # pip compiles those itself

    # every file of the wheel is in its RECORD with the right hash and size
    with zipfile.ZipFile(wheel) as zf:
        (record,) = [n for n in zf.namelist() if n.endswith(".dist-info/RECORD")]
        rows = {r[0]: r[1:] for r in csv.reader(io.StringIO(zf.read(record).decode())) if r}
        assert set(rows) == set(zf.namelist())
        for name in shipped:
            data = zf.read(name)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert rows[name] == ["sha256=" + digest.decode(), str(len(data))]
        assert zf.namelist()[-1] == record

    # installed elsewhere (new paths, new file times), the cache is found and valid: the
    # function loads without compiling, and the first-run notice is not shown
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
                    "--target", str(site), str(wheel)], check=True, capture_output=True,
                   timeout=300)
    probe = (
        "import json, scslab, scslab.rng as r\n"
        "from scslab.engine import first_run\n"
        f"assert scslab.__file__.startswith({str(site)!r}), scslab.__file__\n"
        "r.to_uniform(7)\n"
        "stats, said = r.to_uniform.stats, []\n"
        "print(json.dumps([sum(stats.cache_hits.values()), sum(stats.cache_misses.values()),"
        " first_run.announce_compile(said.append)]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = str(site)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    hits, misses, announced = json.loads(done.stdout.splitlines()[-1])
    assert (hits, misses, announced) == (1, 0, False), done.stdout


@pytest.mark.parametrize("case", ["skipped", "failed"])
def test_without_the_compile_the_wheel_is_setuptools_own(tmp_path, case):
    if case == "skipped":
        project = project_copy(tmp_path, SMALL_COMPILE)
        wheel, log = build(project, tmp_path / "dist", SCSLAB_BUILD_SKIP_COMPILE="1")
        assert "SCSLAB_BUILD_SKIP_COMPILE is set" in log
    else:
        project = project_copy(tmp_path, "raise SystemExit('no compiler today')")
        wheel, log = build(project, tmp_path / "dist")
        assert "could not compile the engine (exit 1: no compiler today)" in log
    assert cache_files(wheel) == []
    with zipfile.ZipFile(wheel) as zf:
        assert "scslab/engine/day_loop.py" in zf.namelist()


def test_the_compile_needs_only_the_requirements_it_declares():
    """The build environment holds only ``[tool.compiled-wheel] requires`` and their own
    requirements: the compile, run here with every other distribution hidden, must pass."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    specs = compiled_wheel.compile_requirements(pyproject, installed=lambda name: None)
    assert "numba>=0.60" in specs and "numpy>=1.26,<2.6" in specs  # the runtime's pins
    # the distributions pip puts in the build environment: these and their requirements
    allowed, todo = set(), [Requirement(s).name for s in specs]
    while todo:
        dist = metadata.distribution(todo.pop())
        if dist.metadata["Name"] in allowed:
            continue
        allowed.add(dist.metadata["Name"])
        for req in map(Requirement, dist.requires or []):
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    allowed |= {"setuptools", "wheel", "pip"}  # [build-system] requires, and pip
    hidden = {m for m, dists in metadata.packages_distributions().items()
              if not set(dists) & allowed and m != "scslab"}
    hide_others = (
        "import importlib.abc, sys\n"
        f"HIDDEN = {sorted(hidden)!r}\n"
        "class Hide(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.partition('.')[0] in HIDDEN:\n"
        "            raise ModuleNotFoundError(f'{name} is not in the build environment',"
        " name=name)\n"
        "sys.meta_path.insert(0, Hide())\n"
    )
    compile_code = pyproject["tool"]["compiled-wheel"]["compile"]
    done = subprocess.run([sys.executable, "-c", hide_others + compile_code],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]


def test_compile_requirements_are_dependencies_only():
    pyproject = {"project": {"dependencies": ["numba>=0.60", "PyYAML>=6"]},
                 "tool": {"compiled-wheel": {"requires": ["pyyaml", "numba"]}}}
    assert compiled_wheel.compile_requirements(pyproject) == ["PyYAML>=6", "numba>=0.60"]
    pyproject["tool"]["compiled-wheel"]["requires"].append("torch")
    with pytest.raises(ValueError, match=r"names \['torch'\].*only dependencies"):
        compiled_wheel.compile_requirements(pyproject)


def test_the_build_compiles_with_the_numba_the_install_keeps():
    pyproject = {"project": {"dependencies": ["numba>=0.60", "numpy>=1.26,<2.6"]},
                 "tool": {"compiled-wheel": {"requires": ["numba", "numpy"],
                                             "same-as-installed": ["numba"]}}}
    versions = {"numba": "0.61.2", "numpy": "2.0.1"}
    assert compiled_wheel.compile_requirements(pyproject, versions.get) == [
        "numba==0.61.2", "numpy>=1.26,<2.6"]
    versions["numba"] = "0.59.1"  # pip will replace it: the build resolves as the install
    assert compiled_wheel.compile_requirements(pyproject, versions.get) == [
        "numba>=0.60", "numpy>=1.26,<2.6"]
    assert compiled_wheel.compile_requirements(pyproject, lambda name: None)[0] == "numba>=0.60"
    # here: the numba of the interpreter running the tests
    assert compiled_wheel.installed_version("numba") == metadata.version("numba")
