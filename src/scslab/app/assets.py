"""Solara's page assets on this machine, before the sandbox serves its first page.

Solara's page loads a few npm packages through its own ``/_solara/cdn/`` route: its app
bundle (Vue and Vuetify with the widget manager), RequireJS and Font Awesome.  It serves
them from its asset cache (``sys.prefix/share/solara/cdn``) and otherwise asks a public
CDN when a browser first wants one.  A machine that reaches package registries but not that
CDN would then serve a blank page.  So the sandbox fills the cache before it serves: each
missing package once, from the npm registry (the package's own tarball, the files the CDN
serves), unpacked beside the cache and moved into it whole.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path

import ipyvue
import solara.server.settings as settings

DEFAULT_REGISTRY = "https://registry.npmjs.org"
# name@version of a package behind the page's asset route, as the page template writes it
TEMPLATE_PACKAGE = re.compile(r"\{\{\s*cdn\s*\}\}/((?:@[\w.-]+/)?[\w.-]+@\d[\w.+-]*)/")
PATH_PACKAGE = re.compile(r"^/?((?:@[\w.-]+/)?[\w.-]+@\d[\w.+-]*)/")


def page_packages(template: str, *, vue3: bool, fontawesome_path: str | None) -> list[str]:
    """The packages (``name@version``) a Solara page template loads: its app bundle for
    the Vue major version in use (the template names both), RequireJS, and Font Awesome
    when enabled.

    >>> t = ('{{cdn}}/@widgetti/solara-vuetify3-app@5.2.0/dist/a.js '
    ...      '{{cdn}}/@widgetti/solara-vuetify-app@10.1.1/dist/a.js '
    ...      '{{cdn}}/requirejs@2.3.6/require.js')
    >>> page_packages(t, vue3=True, fontawesome_path="/font-awesome@4.5.0/css/x.css")
    ['@widgetti/solara-vuetify3-app@5.2.0', 'requirejs@2.3.6', 'font-awesome@4.5.0']
    """
    unused = "/solara-vuetify-app@" if vue3 else "/solara-vuetify3-app@"
    found = [p for p in dict.fromkeys(TEMPLATE_PACKAGE.findall(template))
             if unused not in "/" + p]
    if fontawesome_path and (m := PATH_PACKAGE.match(fontawesome_path)):
        found.append(m.group(1))
    return list(dict.fromkeys(found))


def tarball_url(package: str, registry: str = DEFAULT_REGISTRY) -> str:
    """The npm registry's address of a package version's tarball.

    >>> tarball_url("@widgetti/solara-vuetify3-app@5.2.0")
    'https://registry.npmjs.org/@widgetti/solara-vuetify3-app/-/solara-vuetify3-app-5.2.0.tgz'
    """
    name, _, version = package.rpartition("@")
    return f"{registry.rstrip('/')}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


def unpack(data: bytes, into: Path) -> None:
    """Unpack an npm tarball (files under ``package/``) into ``into``, refusing any member
    that would land outside it."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = []
        for member in tar.getmembers():
            if not (member.isfile() or member.isdir()):
                continue  # npm packages hold files; links are never needed here
            parts = Path(member.name).parts
            if len(parts) < 2 or ".." in parts or Path(member.name).is_absolute():
                continue
            member.name = str(Path(*parts[1:]))
            members.append(member)
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
            tar.extractall(into, members=members, filter="data")
        else:
            tar.extractall(into, members=members)


def solara_cache_and_packages() -> tuple[Path, list[str]]:
    """Solara's asset cache and the packages its page template loads, as installed."""
    template = Path(settings.__file__).parent / "templates" / "solara.html.j2"
    assets = settings.assets
    packages = page_packages(
        template.read_text(encoding="utf-8"), vue3=ipyvue.__version__.startswith("3"),
        fontawesome_path=assets.fontawesome_path if assets.fontawesome_enabled else None)
    return Path(assets.proxy_cache_dir), packages


def ensure_page_assets(*, registry: str | None = None, timeout: float = 60.0,
                       log=print) -> list[str]:
    """Put every package Solara's page loads into its asset cache, fetching the missing
    ones from the npm registry (``registry``, else ``$npm_config_registry``, else
    npmjs.org).  Returns the packages fetched; one that cannot be fetched is reported
    through ``log`` and left to Solara's own CDN route."""
    cache, packages = solara_cache_and_packages()
    registry = registry or os.environ.get("npm_config_registry") or DEFAULT_REGISTRY
    fetched = []
    for package in packages:
        target = cache / package
        if target.is_dir():
            continue
        url = tarball_url(package, registry)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                data = response.read()
            target.parent.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=target.parent))
            try:
                unpack(data, work)
                os.replace(work, target)  # whole or not at all
            finally:
                shutil.rmtree(work, ignore_errors=True)
        except (OSError, tarfile.TarError) as e:
            log(f"warning: Solara's page asset {package} is not on this machine and could "
                f"not be fetched from {url} ({e}); the page stays blank unless the browser's "
                "requests for it reach Solara's CDN")
            continue
        fetched.append(package)
    return fetched
