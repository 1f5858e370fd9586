"""Solara's page assets: which packages the installed page template loads, and filling the
asset cache from an npm registry once, whole, never outside the cache."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from scslab.app import assets


def npm_tarball(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_the_installed_template_loads_one_app_bundle_requirejs_and_font_awesome():
    _, packages = assets.solara_cache_and_packages()
    import ipyvue

    bundle = "solara-vuetify3-app@" if ipyvue.__version__.startswith("3") else \
        "solara-vuetify-app@"
    assert [p for p in packages if "solara-vuetify" in p] == [
        next(p for p in packages if bundle in p)]
    assert any(p.startswith("requirejs@") for p in packages)
    assert any(p.startswith("font-awesome@") for p in packages)


def test_unpack_strips_the_package_folder_and_refuses_paths_outside(tmp_path):
    data = npm_tarball({"package/dist/app.js": b"js", "package/../../evil": b"x",
                        "package/package.json": b"{}"})
    assets.unpack(data, tmp_path / "out")
    got = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*")
                 if p.is_file())
    assert got == ["dist/app.js", "package.json"]
    assert not (tmp_path / "evil").exists()


@pytest.fixture
def fake_solara(tmp_path, monkeypatch):
    """A cache to fill and a file:// registry holding one of the two packages asked for."""
    cache = tmp_path / "cache"
    registry = tmp_path / "registry"
    packages = ["@widgetti/solara-vuetify3-app@5.2.0", "requirejs@2.3.6"]
    url = assets.tarball_url(packages[0], registry.as_uri())
    path = Path(url.removeprefix("file://"))
    path.parent.mkdir(parents=True)
    path.write_bytes(npm_tarball({"package/dist/solara-vuetify-app8.min.js": b"bundle"}))
    monkeypatch.setattr(assets, "solara_cache_and_packages", lambda: (cache, packages))
    return cache, registry.as_uri()


def test_missing_packages_are_fetched_once_and_a_failure_leaves_nothing_half_written(
        fake_solara):
    cache, registry = fake_solara
    said = []
    fetched = assets.ensure_page_assets(registry=registry, log=said.append)
    assert fetched == ["@widgetti/solara-vuetify3-app@5.2.0"]
    assert (cache / "@widgetti/solara-vuetify3-app@5.2.0/dist/solara-vuetify-app8.min.js"
            ).read_bytes() == b"bundle"
    # requirejs is not in this registry: named in a warning, and no folder for it
    assert len(said) == 1 and "requirejs@2.3.6" in said[0]
    assert sorted(p.name for p in cache.iterdir()) == ["@widgetti"]
    assert not list(cache.rglob(".unpacking-*"))
    # a second start fetches nothing it already has
    said.clear()
    assert assets.ensure_page_assets(registry=registry, log=said.append) == []
    assert len(said) == 1 and "requirejs@2.3.6" in said[0]
