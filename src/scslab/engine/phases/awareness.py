"""Awareness of the system: who knows that an act can bring sanctions, and so is deterred.

Each resident has one keyed draw ``u`` (stream AWARENESS), drawn when the unit is built.
A resident is aware on day t when ``u`` is below the dated base share of aware residents,
or below the awareness that exposure brings: a household member was listed, or the
resident was listed (``exposure`` 1 and 2).  One draw per resident makes awareness vary
between people and grow over time without new draws: as the base share or a resident's
exposure rises, the same resident stays aware (common random numbers across scenarios).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scslab.rng import AWARENESS, stream, uniform4

EXPOSED_HOUSEHOLD, EXPOSED_LISTED = 1, 2


@njit(cache=True, nogil=True, _nrt=True)
def awareness_draws(k0, k1, gid0, n):
    """Each resident's awareness draw (``n`` 0 when everybody is aware: no draw)."""
    u = np.empty(n)
    s = stream(AWARENESS, 0)
    for i in range(n):
        u[i] = uniform4(k0, k1, s, gid0 + i, 0)[0]
    return u


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def is_aware(aware_u, exposure, i, base, if_household, if_listed):
    """Whether resident i is aware today (always, when awareness is not modelled)."""
    if aware_u.size == 0:
        return True
    level = base
    x = exposure[i]
    if x == EXPOSED_LISTED:
        level = max(level, if_listed)
    elif x == EXPOSED_HOUSEHOLD:
        level = max(level, if_household)
    return aware_u[i] < level


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def expose(exposure, hh_lo, hh_hi, i):
    """Resident i is listed: i is exposed as listed, its household members at least as
    relatives of a listed resident."""
    if exposure.size == 0:
        return
    exposure[i] = EXPOSED_LISTED
    for h in range(hh_lo[i], hh_hi[i]):
        if h != i and exposure[h] < EXPOSED_HOUSEHOLD:
            exposure[h] = EXPOSED_HOUSEHOLD
