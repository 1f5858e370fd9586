"""Remedies: performing the obligation, appeals against records, credit repair.

Each is decided when a record turns on, from draws keyed to the record (its actor's act
counter, or its subject's false-record counter), and scheduled as an event of the records
phase on the day it takes effect:

* performance (true records of acts with a ``perform`` rate): the obligation is performed
  after a geometric wait at a rate that depends on means; the record's listings end
  ``removal_days`` later;
* appeal (residents' negative or black-listing records): noticed (more often when
  notified), filed (always for wrong records, sometimes for true ones), decided after
  filing and review; success removes the record;
* credit repair: after ``after_days``, at a daily rate, removes the record.
"""

from __future__ import annotations

from numba import njit

from scslab.engine.calendar import push
from scslab.engine.layout import (
    EV_APPEAL,
    EV_PERFORM,
    EV_REPAIR,
    EV_WAKE,
    PHASE_RECORDS,
    PROV_TRUE,
    R_DAY_ON,
    R_PERFORMED,
    R_REMOVED_BY,
    REMOVED_BY_APPEAL,
    REMOVED_BY_REPAIR,
)
from scslab.engine.records import record_key
from scslab.rng import APPEAL, REPAIR, geometric_gap, stream, uniform4


@njit(cache=True, nogil=True, _nrt=False)
def multiplied(base, mult, codes, i):
    """``base`` times the multipliers of subject i's attribute categories, at most 1."""
    v = base
    for k in range(codes.shape[0]):
        v *= mult[k, codes[k, i]]
    return min(v, 1.0)


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def schedule_performance(m, S, T, t, e, r, a, u, n, n_blk, free_blk):
    """Schedule the day entity e performs the obligation of true record r (``u``: the
    record's remedy draw)."""
    if e < n:
        pp = multiplied(m.perform_p[a], m.perform_mult[a], S.codes, e)
    else:
        pp = multiplied(m.perform_p[a], m.perform_fmult[a], S.fcodes, e - n)
    tp = t - 1 + geometric_gap(u, pp)
    if tp < m.n_days:
        n_blk, free_blk = push(T, n_blk, free_blk, PHASE_RECORDS, max(tp, t), EV_PERFORM, e, r,
                               0, 0, 0.0)
    return n_blk, free_blk


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def performed(m, out, T, t, e, r, a, n_blk, free_blk):
    """Entity e performs the obligation of record r today; its listings end
    ``perform_removal`` days later, when e is woken."""
    T.rec[r, R_PERFORMED] = t
    out.performed[t] += 1
    td = t + m.perform_removal[a]
    if td > t and td < m.n_days:
        n_blk, free_blk = push(T, n_blk, free_blk, PHASE_RECORDS, td, EV_WAKE, e, 0, 0, 0, 0.0)
    return n_blk, free_blk


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def file_appeal(m, out, T, t, e, r, prov, kid, kc, ks, n_blk, free_blk):
    """Resident e notices record r and appeals (wrong records always, true ones with
    ``appeal_true``); the decision is scheduled after filing and review."""
    v = uniform4(m.k0, m.k1, stream(APPEAL, ks), kid, kc)
    notified = v[0] < m.appeal_notified[t]
    if v[1] < (m.notice_if if notified else m.notice_else):
        if prov != PROV_TRUE or v[2] < m.appeal_true:
            out.appeals_filed[t] += 1
            td = t + m.appeal_filing + m.appeal_review
            if td < m.n_days:
                n_blk, free_blk = push(T, n_blk, free_blk, PHASE_RECORDS, td, EV_APPEAL, e, r,
                                       0, 0, 0.0)
    return n_blk, free_blk


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def appeal_won(m, out, T, t, r, prov, n, gid0, fgid0):
    """Whether the appeal against record r succeeds today (the fourth word of the
    record's appeal draw); a won appeal is counted, with how long a wrong record took to
    correct."""
    kid, kc, ks = record_key(T.rec, r, n, gid0, fgid0)
    v = uniform4(m.k0, m.k1, stream(APPEAL, ks), kid, kc)
    if v[3] >= (m.success_true if prov == PROV_TRUE else m.success_wrong):
        return False
    out.appeals_won[t] += 1
    if prov != PROV_TRUE:
        out.fix_hist[min(t - T.rec[r, R_DAY_ON], m.n_days)] += 1
    T.rec[r, R_REMOVED_BY] = REMOVED_BY_APPEAL
    return True


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def schedule_repair(m, T, t, e, r, kid, kc, ks, n_blk, free_blk):
    """Schedule the credit repair of record r: not before ``repair_after`` days, then at
    the daily rate ``repair_p``."""
    w = uniform4(m.k0, m.k1, stream(REPAIR, ks), kid, kc)[0]
    tr = t + m.repair_after - 1 + geometric_gap(w, m.repair_p)
    if tr < m.n_days:
        n_blk, free_blk = push(T, n_blk, free_blk, PHASE_RECORDS, max(tr, t), EV_REPAIR, e, r,
                               0, 0, 0.0)
    return n_blk, free_blk


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def repaired(out, T, t, r):
    """Record r is removed by credit repair today."""
    out.repairs[t] += 1
    T.rec[r, R_REMOVED_BY] = REMOVED_BY_REPAIR
