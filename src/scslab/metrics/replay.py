"""A subject's score rebuilt from its records, with the engine's rule: the base, plus the
points of its active records, each capped act type clipped to its cap, then the whole
clipped to the score's range.  One definition, for ``explain`` and the report's score
path (the engine keeps the same sums incrementally; a test holds them equal)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def score_of(points_by_act: dict, rule):
    """The score from points summed per act type (numbers, or arrays of daily sums).

    >>> from scslab.scenario.schema import Score
    >>> score_of({"a": -120, "b": -5}, Score(base=1000, caps={"a": 100}))
    895
    """
    total = rule.base
    for act, pts in points_by_act.items():
        cap = rule.caps.get(act)
        total = total + (np.clip(pts, -cap, cap) if cap else pts)
    lo = -np.inf if rule.min is None else rule.min
    hi = np.inf if rule.max is None else rule.max
    out = np.clip(total, lo, hi)
    return int(out) if np.ndim(out) == 0 else out.astype(np.int64)


def score_path(records: pd.DataFrame, rule, n_days: int) -> np.ndarray:
    """One subject's score on each day from its records (``day_on``, ``day_off``,
    ``day_removed``, ``points``, ``act``): a record counts from the day it reaches the
    platform until it expires or is removed, whichever comes first."""
    removed = records["day_removed"] if "day_removed" in records else pd.Series(
        -1, records.index)
    diffs: dict[str, np.ndarray] = {}
    for on, off, gone, pts, act in zip(records["day_on"], records["day_off"], removed,
                                       records["points"], records["act"].astype(str),
                                       strict=True):
        if on < 0 or on >= n_days:
            continue
        end = min([n_days, *[int(x) for x in (off, gone) if x >= 0]])
        if end <= on:
            continue
        d = diffs.setdefault(act, np.zeros(n_days + 1, dtype=np.int64))
        d[int(on)] += int(pts)
        d[end] -= int(pts)
    by_act = {act: np.cumsum(d)[:n_days] for act, d in diffs.items()}
    if not by_act:
        return np.full(n_days, score_of({}, rule), dtype=np.int64)
    return score_of(by_act, rule)
