"""Compiled code's cache is stamped with every source it may hold, so an edit of a phase
cannot leave the day loop that inlines it stale in the cache."""

from scslab import jit_cache
from scslab.engine.day_loop import run_days
from scslab.engine.unit import simulate_unit
from scslab.population.build import build_attributes
from scslab.rng import uniform4


def test_scslab_functions_carry_the_digest_of_all_compiled_sources():
    digest = jit_cache.sources_digest()
    for fn in (run_days, simulate_unit, build_attributes, uniform4):
        locator = fn._cache._impl.locator
        assert type(locator).__name__.startswith("Scslab"), fn
        assert locator.get_source_stamp() == digest, fn


def test_compiled_sources_are_engine_population_and_numba_modules():
    names = {p.relative_to(jit_cache.PACKAGE).as_posix() for p in jit_cache.compiled_sources()}
    assert {"engine/day_loop.py", "engine/phases/listing.py", "engine/compile.py",
            "population/firms.py", "rng.py"} <= names
    assert "cli.py" not in names and "report/html.py" not in names


def test_digest_follows_compiled_sources_only(tmp_path):
    (tmp_path / "engine" / "phases").mkdir(parents=True)
    (tmp_path / "population").mkdir()
    files = {
        "engine/phases/acts.py": "X = 1\n",
        "population/build.py": "Y = 2\n",
        "rng.py": "from numba import njit\n",
        "cli.py": "import typer  # not numba\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    before = jit_cache.sources_digest(tmp_path)
    (tmp_path / "cli.py").write_text("import typer  # edited\n")
    assert jit_cache.sources_digest(tmp_path) == before
    for name in ("engine/phases/acts.py", "population/build.py", "rng.py"):
        (tmp_path / name).write_text(files[name] + "# edited\n")
        after = jit_cache.sources_digest(tmp_path)
        assert after != before, name
        before = after
