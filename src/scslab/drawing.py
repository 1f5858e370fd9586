"""Where results find the code that draws them.

Charts are made by :mod:`scslab.report`, a layer above the results they draw, so a result
cannot import it.  Instead the report layer registers its drawing functions here when it
is imported (``import scslab`` does that), in the spirit of Polars' namespace
registration: the core never imports its extensions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scslab.errors import ScslabError

_DRAWERS: dict[str, Callable[..., Any]] = {}


def register_drawer(kind: str, draw: Callable[..., Any]) -> None:
    """Make ``draw(obj, *args, **kwargs)`` the chart maker for results of ``kind``."""
    _DRAWERS[kind] = draw


def draw(kind: str, obj: Any, *args: Any, **kwargs: Any) -> Any:
    """The chart of ``obj`` (a result of ``kind``), made by the registered drawer."""
    drawer = _DRAWERS.get(kind)
    if drawer is None:
        raise ScslabError(f"no chart maker for {kind} results is registered; "
                          "`import scslab` registers the report's charts")
    return drawer(obj, *args, **kwargs)
