"""Scores and tiers.

An entity's points are kept per column: column 0 holds uncapped points, column 1 + c the
points of the acts under cap c (``cap_index``).  Its score is the base plus column 0 plus
every capped column clipped to its cap, then clipped to the score's range.  Points are
kept twice, on all records and on true records only, so a listing that only wrong records
cause is known to be wrongful.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def cap_values(cap_index, cap):
    """The cap of each capped column (column c + 1 of the points table)."""
    n_caps = 0
    for a in range(cap_index.size):
        if cap_index[a] >= 0:
            n_caps += 1
    cap_val = np.zeros(n_caps, dtype=np.int64)
    for a in range(cap_index.size):
        if cap_index[a] >= 0:
            cap_val[cap_index[a]] = cap[a]
    return cap_val


@njit(cache=True, nogil=True, _nrt=False)
def effective_score(pts, e, cap_val, base, lowest, highest):
    """Entity e's score from its points: the base, column 0 uncapped, column 1 + c capped
    at cap_val[c] either way; then clipped to [lowest, highest]."""
    s = base + pts[e, 0]
    for c in range(cap_val.size):
        s += min(max(pts[e, 1 + c], -cap_val[c]), cap_val[c])
    return min(max(s, lowest), highest)


@njit(cache=True, nogil=True, _nrt=False)
def tier_of(score, tier_floor, kind, n_tiers):
    """The first of the ``n_tiers`` tiers of entity kind ``kind``, in the scenario's order,
    whose floor the score reaches, or -1."""
    for j in range(n_tiers):
        if score >= tier_floor[kind, j]:
            return j
    return -1
