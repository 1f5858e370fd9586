"""Build one unit's firms: their attributes, legal representatives and employees.

A firm's draws are keyed to its identity above ``FIRM_IDENT`` (its attributes, its legal
representative) and a resident's employer to the resident, so a unit's firms are identical
whichever shard or worker builds them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scslab.population.build import draw_category
from scslab.rng import FIRM, FIRM_IDENT, stream, uniform4
from scslab.sorting import counting_sort

# FIRM stream indexes beyond the firm attributes'
REPRESENTATIVE_STREAM = 100
EMPLOYER_STREAM = 101


@njit(cache=True, nogil=True)
def build_firm_attributes(k0, k1, fgid0, nf, fattr_ncat, fattr_cum):
    """``fcodes[k, f]``: category of firm attribute k for the unit's f-th firm."""
    fcodes = np.zeros((fattr_ncat.size, nf), dtype=np.uint8)
    for k in range(fattr_ncat.size):
        cum = fattr_cum[k, : fattr_ncat[k]]
        for f in range(nf):
            u = uniform4(k0, k1, stream(FIRM, k), FIRM_IDENT + fgid0 + f, 0)[0]
            fcodes[k, f] = draw_category(u, cum)
    return fcodes


@njit(cache=True, nogil=True)
def legal_representatives(k0, k1, fgid0, nf, n):
    """Each firm's legal representative (a resident of the unit), and each resident's
    firms: ``rep_firms[rep_ptr[i]:rep_ptr[i + 1]]`` are the firms resident i represents."""
    rep = np.empty(nf, dtype=np.int64)
    for f in range(nf):
        u = uniform4(k0, k1, stream(FIRM, REPRESENTATIVE_STREAM), FIRM_IDENT + fgid0 + f, 0)
        rep[f] = min(int(u[0] * n), n - 1)
    rep_ptr, rep_firms = representatives_index(rep, n)
    return rep, rep_ptr, rep_firms


@njit(cache=True, nogil=True)
def weighted_representatives(k0, k1, fgid0, nf, weight):
    """Each firm's legal representative drawn with probability proportional to
    ``weight[i]`` (the same keyed draw as ``legal_representatives``), and each resident's
    firms as there.  All weights zero: uniformly."""
    n = weight.size
    cum = np.cumsum(weight)
    total = cum[n - 1] if n > 0 else 0.0
    rep = np.empty(nf, dtype=np.int64)
    for f in range(nf):
        u = uniform4(k0, k1, stream(FIRM, REPRESENTATIVE_STREAM), FIRM_IDENT + fgid0 + f, 0)
        if total > 0.0:
            rep[f] = min(np.searchsorted(cum, u[0] * total, side="right"), n - 1)
        else:
            rep[f] = min(int(u[0] * n), n - 1)
    rep_ptr, rep_firms = representatives_index(rep, n)
    return rep, rep_ptr, rep_firms


@njit(cache=True, nogil=True)
def representatives_index(rep, n):
    """``rep_ptr``, ``rep_firms``: the firms each resident represents."""
    return counting_sort(rep, n)


@njit(cache=True, nogil=True)
def employers(k0, k1, gid0, n, nf, employed_share):
    """Each resident's employer (a firm of the unit), or -1: employed with probability
    ``employed_share``, at a firm drawn uniformly."""
    employer = np.full(n, -1, dtype=np.int64)
    if nf > 0:
        for i in range(n):
            u = uniform4(k0, k1, stream(FIRM, EMPLOYER_STREAM), gid0 + i, 0)
            if u[0] < employed_share:
                employer[i] = min(int(u[1] * nf), nf - 1)
    return employer
