"""Dated values: a policy value that changes on given start dates.

A dated value is written either as a plain value (in force for the whole run) or as a
mapping from start date to value, in increasing date order::

    threshold: {2021-01-01: 950, 2023-07-01: 900}

Before its first start date a dated value is *off*: the caller says what off means
(zero points, zero probability, a threshold that lists nobody).  Values are resolved
once, before the run, into one number per simulated day, so the event loop only
indexes an array.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

Dated = Any  # a scalar, or {date: scalar}; validated by schema.dated_field


def is_dated(value: Any) -> bool:
    return isinstance(value, dict)


def check_dated(value: Any, check_scalar) -> Any:
    """Validate a dated value with ``check_scalar`` applied to each scalar.

    Raises ValueError with a message that says what is allowed.
    """
    if isinstance(value, dict):
        if not value:
            raise ValueError("a dated value needs at least one {date: value} entry")
        dates = []
        out = {}
        for k, v in value.items():
            if isinstance(k, dt.datetime):
                k = k.date()
            if isinstance(k, str):
                try:
                    k = dt.date.fromisoformat(k)
                except ValueError:
                    raise ValueError(
                        f"dated value key {k!r} is not a date; write YYYY-MM-DD"
                    ) from None
            if not isinstance(k, dt.date):
                raise ValueError(f"dated value key {k!r} is not a date; write YYYY-MM-DD")
            dates.append(k)
            out[k] = check_scalar(v)
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError(
                "dates out of order: start dates of a dated value must strictly increase "
                f"(got {', '.join(d.isoformat() for d in dates)})"
            )
        return out
    return check_scalar(value)


def resolve_daily(
    value: Any, start: dt.date, days: int, *, off: float = 0.0, dtype=np.float64
) -> np.ndarray:
    """One value per simulated day: ``out[d]`` is the value in force on ``start + d``.

    >>> import datetime as dt
    >>> resolve_daily({dt.date(2021, 1, 3): 5, dt.date(2021, 1, 5): 7},
    ...               dt.date(2021, 1, 1), 6, off=0).tolist()
    [0.0, 0.0, 5.0, 5.0, 7.0, 7.0]
    """
    out = np.full(days, off, dtype=dtype)
    if not isinstance(value, dict):
        out[:] = value
        return out
    for when, v in value.items():
        first = (when - start).days
        out[max(first, 0) :] = v
    return out


def max_value(value: Any) -> float:
    """The largest value a dated value ever takes (for thinning majorants)."""
    if isinstance(value, dict):
        return max(value.values())
    return value
