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
def cap_values(m):
    """The cap of each capped column (column c + 1 of the points table)."""
    n_caps = 0
    for a in range(m.act_p.size):
        if m.cap_index[a] >= 0:
            n_caps += 1
    cap_val = np.zeros(n_caps, dtype=np.int64)
    for a in range(m.act_p.size):
        if m.cap_index[a] >= 0:
            cap_val[m.cap_index[a]] = m.cap[a]
    return cap_val


@njit(cache=True, nogil=True, _nrt=False)
def effective_score(e, kind, pts, cap_val, m):
    """Entity e's score from its points: column 0 uncapped, column 1 + c capped at
    cap_val[c] either way; then clipped to the score's range."""
    s = m.score_base[kind] + pts[e, 0]
    for c in range(cap_val.size):
        s += min(max(pts[e, 1 + c], -cap_val[c]), cap_val[c])
    return min(max(s, m.score_min[kind]), m.score_max[kind])


@njit(cache=True, nogil=True, _nrt=False)
def tier_of(score, kind, m):
    """The first tier, in the scenario's order, whose floor the score reaches, or -1."""
    for j in range(m.n_tiers[kind]):
        if score >= m.tier_floor[kind, j]:
            return j
    return -1
