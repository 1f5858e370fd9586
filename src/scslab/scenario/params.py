"""Scenario parameters named by dotted paths (``policy.lists.blacklist.below``): read one
from scenario data, set one, or build the nested override that sets it.

Calibration, sensitivity analysis and declared uncertainty all name parameters this way.
Keys keep the scenario's own types (a category ``0`` of an income decile is an int key).
"""

from __future__ import annotations

import datetime as dt

from scslab.errors import ScslabError


class ParameterError(ScslabError):
    """A parameter path that does not name a number of the scenario."""


def _walk(data: dict, path: str, create: bool = False):
    parts = path.split(".")
    node = data
    for i, p in enumerate(parts[:-1]):
        key = _key(node, p)
        if key is None:
            if not create:
                raise ParameterError(f"{path}: no {'.'.join(parts[: i + 1])!r} in "
                                       "the scenario")
            node[p] = {}
            key = p
        node = node[key]
        if not isinstance(node, dict):
            raise ParameterError(f"{path}: {'.'.join(parts[: i + 1])} is not a "
                                   "mapping")
    return node, parts[-1]


def _key(node, part: str):
    if not isinstance(node, dict):
        return None
    if part in node:
        return part
    return next((k for k in node if str(k) == part), None)


def get_param(data: dict, path: str) -> float:
    node, last = _walk(data, path)
    key = _key(node, last)
    if key is None:
        raise ParameterError(f"{path}: the scenario has no such field")
    v = node[key]
    if isinstance(v, dict) and v and all(isinstance(k, dt.date) for k in v):
        raise ParameterError(
            f"{path}: the value is dated ({', '.join(map(str, v))}); fit one "
            f"entry, e.g. {path}.{next(iter(v))}"
        )
    if isinstance(v, dict):
        raise ParameterError(f"{path}: a mapping ({', '.join(map(str, v)) or 'empty'}), "
                             f"not a number" + (f"; name one entry, e.g. {path}."
                                                f"{next(iter(v))}" if v else ""))
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ParameterError(f"{path}: not a number (got {v!r})")
    return float(v)


def set_param(data: dict, path: str, value: float) -> None:
    node, last = _walk(data, path, create=True)
    key = _key(node, last)
    node[last if key is None else key] = value


def nested(path: str, value, data: dict | None = None) -> dict:
    """``a.b.c``, v -> {a: {b: {c: v}}} (keys keep the original scenario's types)."""
    out: dict = {}
    node, src = out, data
    parts = path.split(".")
    for p in parts[:-1]:
        k = _key(src, p) if src is not None else None
        k = p if k is None else k
        node = node.setdefault(k, {})
        src = src.get(k) if isinstance(src, dict) else None
    k = _key(src, parts[-1]) if src is not None else None
    node[parts[-1] if k is None else k] = value
    return out
