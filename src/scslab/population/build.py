"""Build one unit's residents.

A resident's attributes depend only on (seed, resident id); a unit's households only on
(seed, unit id).  So a unit is identical whichever shard or worker builds it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scslab.rng import (
    POP_ATTRIBUTE,
    POP_CHILDREN,
    POP_HOUSEHOLD,
    POP_SHARED,
    keyed_words,
    stream,
    to_uniform,
    uniform4,
)


def unit_sizes(residents: int, units: int) -> np.ndarray:
    """Residents per unit: as equal as possible, the first units taking the remainder.

    >>> unit_sizes(10, 3).tolist()
    [4, 3, 3]
    """
    sizes = np.full(units, residents // units, dtype=np.int64)
    sizes[: residents % units] += 1
    return sizes


@njit(cache=True, nogil=True)
def draw_category(u, cum):
    """Index of the first cumulative weight above ``u`` (inverse CDF)."""
    k = 0
    while k < cum.size - 1 and u >= cum[k]:
        k += 1
    return k


@njit(cache=True, nogil=True)
def build_attributes(k0, k1, gid0, n, attr_ncat, attr_cum):
    """``codes[k, i]``: category of attribute k for the unit's i-th resident."""
    n_attr = attr_ncat.size
    codes = np.empty((n_attr, n), dtype=np.uint8)
    x0 = np.empty(n, dtype=np.uint32)  # the draws of one attribute (keyed_words)
    x1 = np.empty(n, dtype=np.uint32)
    for k in range(n_attr):
        s = stream(POP_ATTRIBUTE, k)
        cum = attr_cum[k, : attr_ncat[k]]
        keyed_words(k0, k1, s, np.int64(gid0), 0, x0, x1)
        for i in range(n):
            codes[k, i] = draw_category(to_uniform(x0[i]), cum)
    return codes


@njit(cache=True, nogil=True)
def build_households(k0, k1, unit, n, hh_sizes, hh_cum):
    """``household[i]``: the unit-local household of resident i (consecutive residents)."""
    household = np.empty(n, dtype=np.int32)
    s = stream(POP_HOUSEHOLD, 0)
    i = 0
    h = 0
    while i < n:
        size = hh_sizes[draw_category(uniform4(k0, k1, s, unit, h)[0], hh_cum)]
        for j in range(i, min(i + size, n)):
            household[j] = h
        i += size
        h += 1
    return household


@njit(cache=True, nogil=True)
def resident_probabilities(base_p, mult, codes):
    """Per-resident daily probability ``p[j, i] = min(1, base_p[j] * prod_k mult[j, k, code])``."""
    n_kinds = base_p.size
    n_attr, n = codes.shape
    p = np.empty((n_kinds, n))
    for j in range(n_kinds):
        for i in range(n):
            v = base_p[j]
            for k in range(n_attr):
                v *= mult[j, k, codes[k, i]]
            p[j, i] = min(v, 1.0)
    return p


@njit(cache=True, nogil=True)
def household_ranges(household):
    """``(hh_lo[i], hh_hi[i])``: the residents [lo, hi) of resident i's household (a
    household's residents are consecutive)."""
    n = household.size
    hh_lo = np.empty(n, dtype=np.int64)
    hh_hi = np.empty(n, dtype=np.int64)
    i = 0
    while i < n:
        j = i
        while j < n and household[j] == household[i]:
            j += 1
        for h in range(i, j):
            hh_lo[h] = i
            hh_hi[h] = j
        i = j
    return hh_lo, hh_hi


@njit(cache=True, nogil=True)
def mark_children(k0, k1, unit, household, hh_lo, hh_hi, share, counts, cum):
    """``is_child[i]``: resident i is a minor.  A household of two or more has children
    with probability ``share``, as many as drawn from ``counts``/``cum`` but at most all
    members but one; they are its last members, so its first member is an adult.  Keyed to
    (unit, household), like the households."""
    n = household.size
    is_child = np.zeros(n, dtype=np.bool_)
    if share <= 0.0:
        return is_child
    s = stream(POP_CHILDREN, 0)
    i = 0
    while i < n:
        lo, hi = hh_lo[i], hh_hi[i]
        if hi - lo >= 2:
            u = uniform4(k0, k1, s, unit, household[i])
            if u[0] < share:
                c = min(counts[draw_category(u[1], cum)], hi - lo - 1)
                for j in range(hi - c, hi):
                    is_child[j] = True
        i = hi
    return is_child


@njit(cache=True, nogil=True)
def share_household_attributes(k0, k1, gid0, codes, hh_lo, is_child, rho, child_attr):
    """Within-household correlation: for each attribute k with ``rho[k] > 0``, a member
    after the first takes the first member's category with probability ``rho[k]`` (keyed
    to the resident and the attribute); children keep their age category."""
    n_attr, n = codes.shape
    x0 = np.empty(n, dtype=np.uint32)  # every member's draw, read for those after the first
    x1 = np.empty(n, dtype=np.uint32)
    for k in range(n_attr):
        if rho[k] <= 0.0:
            continue
        s = stream(POP_SHARED, k)
        keyed_words(k0, k1, s, np.int64(gid0), 0, x0, x1)
        for i in range(n):
            first = hh_lo[i]
            if i == first or (k == child_attr and is_child[i]):
                continue
            if to_uniform(x0[i]) < rho[k]:
                codes[k, i] = codes[k, first]


@njit(cache=True, nogil=True)
def group_codes(codes, is_child, child_attr, child_slot):
    """The group each resident counts in, per attribute: its category, except that a
    child counts in the children's slot of every attribute but the age attribute (so
    adults' groups keep adults' rates).  ``codes`` itself when there are no children."""
    if child_slot < 0:
        return codes
    g = codes.copy()
    for i in range(is_child.size):
        if is_child[i]:
            for k in range(codes.shape[0]):
                if k != child_attr:
                    g[k, i] = child_slot
    return g
