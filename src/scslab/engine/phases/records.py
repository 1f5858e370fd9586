"""Records turn on and off the platform; remedies take effect; entities wake up.

A record turns on on the day its department shares it (``R_DAY_ON``) unless it was removed
or expired first: it takes the points of its act, stays for the act's retention (or for
life), and draws its remedies (phases/remedies.py) and whether it extends its listings.
It turns off when its retention ends, or when an appeal or credit repair removes it.
Every change marks its subject for listing.
"""

from __future__ import annotations

from numba import njit

from scslab.engine.calendar import has_events, pop, push
from scslab.engine.compile import LIFELONG, NEVER
from scslab.engine.layout import (
    EV_APPEAL,
    EV_PERFORM,
    EV_REC_OFF,
    EV_REC_ON,
    EV_WAKE,
    F_ARG,
    F_ENTITY,
    F_KIND,
    PHASE_RECORDS,
    PROV_TRUE,
    R_ACT,
    R_ACTIVE,
    R_DAY_OFF,
    R_DAY_ON,
    R_DAY_REC,
    R_DEPT,
    R_EXT,
    R_PERFORMED,
    R_POINTS,
    R_PROV,
    R_REMOVED,
    ST_FREE,
    ST_NBLK,
    ST_NDIRTY,
    ST_NLOG,
    ST_NREC,
    ST_RECACT,
)
from scslab.engine.phases.listing import mark
from scslab.engine.phases.remedies import (
    appeal_won,
    file_appeal,
    performed,
    repaired,
    schedule_performance,
    schedule_repair,
)
from scslab.engine.records import record_key
from scslab.engine.room import DONE, NEED_ROOM, short_of_room
from scslab.rng import REMEDY, stream, uniform4


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def day_off_if_seen(m, rec, r, a, t):
    """The day record r turns off, set from its act's retention, or -1 if it was removed
    or expired before the platform saw it (then it never turns on)."""
    if rec[r, R_REMOVED] < NEVER:
        return -1  # removed before the platform saw it
    ret = m.retention[a, t]
    day_off = NEVER if ret == LIFELONG else rec[r, R_DAY_REC] + ret
    rec[r, R_DAY_OFF] = day_off
    if day_off <= t:
        rec[r, R_DAY_ON] = NEVER  # expired before the platform saw it
        return -1
    return day_off


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def record_on(m, out, S, T, t, e, r, a, prov, day_off, n, gid0, fgid0, n_blk, free_blk):
    """Record r of entity e turns on until ``day_off``: its points, its end, whether it
    extends its listings, and its remedies."""
    rec = T.rec
    pts = m.points[a, t]
    rec[r, R_POINTS] = pts
    rec[r, R_ACTIVE] = 1
    if day_off < m.n_days:
        n_blk, free_blk = push(T, n_blk, free_blk, PHASE_RECORDS, day_off, EV_REC_OFF, e, r, 0,
                               0, 0.0)
    kid, kc, ks = record_key(rec, r, n, gid0, fgid0)
    if S.ext_act[a] or (m.perform_p[a] > 0.0 and prov == PROV_TRUE):
        rem = uniform4(m.k0, m.k1, stream(REMEDY, ks), kid, kc)
    else:  # nothing would read the draw
        rem = (1.0, 1.0, 1.0, 1.0)
    lm = m.act_list_mask[a]
    if lm:
        for j in range(m.list_kind.size):
            if (lm >> j) & 1 and m.list_ext_p[j] > 0 and rem[1] < m.list_ext_p[j]:
                rec[r, R_EXT] |= 1 << j  # this list's listing is extended
    if m.perform_p[a] > 0.0 and prov == PROV_TRUE:
        n_blk, free_blk = schedule_performance(m, S, T, t, e, r, a, rem[0], n, n_blk, free_blk)
    if m.appeals_on and e < n and (pts < 0 or (lm & m.black_mask)):
        n_blk, free_blk = file_appeal(m, out, T, t, e, r, prov, kid, kc, ks, n_blk, free_blk)
    if m.repair_on and m.repair_act[a]:
        n_blk, free_blk = schedule_repair(m, T, t, e, r, kid, kc, ks, n_blk, free_blk)
    return n_blk, free_blk


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def removed(rec, r, t):
    """Record r is removed today (appeal or repair): -1 if it was on the platform, else
    0."""
    rec[r, R_REMOVED] = t
    if rec[r, R_ACTIVE] == 1:
        rec[r, R_ACTIVE] = 0
        rec[r, R_DAY_OFF] = t
        return -1
    return 0


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def add_points(m, S, rec, e, r, a, prov, sign):
    """Add (sign 1) or take away (sign -1) record r's points from entity e's scores and
    its counts of active records."""
    pts = rec[r, R_POINTS]
    S.dept_active[rec[r, R_DEPT]] += sign
    if pts < 0:
        S.neg_active[e] += sign
    col = 1 + m.cap_index[a]  # column 0 when uncapped
    S.pts_all[e, col] += sign * pts
    if prov == PROV_TRUE:
        S.pts_true[e, col] += sign * pts


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def records_phase(m, out, S, T, st, t, n, gid0, fgid0, room_q, room_r):
    """Today's records on and off, remedies and wake-ups.  Returns DONE, or NEED_ROOM with
    the phase's scalars saved in ``st``."""
    n_blk = st[ST_NBLK]
    free_blk = st[ST_FREE]
    n_rec = st[ST_NREC]
    n_dirty = st[ST_NDIRTY]
    n_log = st[ST_NLOG]
    records_active = st[ST_RECACT]
    L = m.list_kind.size
    rec = T.rec
    status = DONE
    while has_events(T, PHASE_RECORDS, t):
        if short_of_room(T, n_blk, n_rec, n_dirty, n_log, room_q, room_r, L):
            status = NEED_ROOM
            break
        bk, sl, free_blk = pop(T, free_blk, PHASE_RECORDS, t)
        kind, e, r = T.evb[bk, sl, F_KIND], T.evb[bk, sl, F_ENTITY], T.evb[bk, sl, F_ARG]
        if kind == EV_WAKE:
            n_dirty = mark(e, S.dirty, T.dirty_list, n_dirty)
            continue
        a = rec[r, R_ACT]
        prov = rec[r, R_PROV]
        sign = 0
        if kind == EV_REC_ON:
            day_off = day_off_if_seen(m, rec, r, a, t)
            if day_off < 0:
                continue
            n_blk, free_blk = record_on(m, out, S, T, t, e, r, a, prov, day_off, n, gid0,
                                        fgid0, n_blk, free_blk)
            sign = 1
        elif kind == EV_REC_OFF:
            if rec[r, R_ACTIVE] == 0 or rec[r, R_DAY_OFF] != t:
                continue  # stale: removed earlier
            rec[r, R_ACTIVE] = 0
            sign = -1
        elif kind == EV_PERFORM:
            if rec[r, R_PERFORMED] < NEVER:
                continue
            n_blk, free_blk = performed(m, out, T, t, e, r, a, n_blk, free_blk)
        else:  # EV_APPEAL or EV_REPAIR: the record is removed
            if rec[r, R_REMOVED] < NEVER:
                continue
            if kind == EV_APPEAL:
                if not appeal_won(m, out, T, t, r, prov, n, gid0, fgid0):
                    continue
            else:
                repaired(out, T, t, r)
            sign = removed(rec, r, t)
            n_dirty = mark(e, S.dirty, T.dirty_list, n_dirty)
        if sign != 0:
            records_active += sign
            add_points(m, S, rec, e, r, a, prov, sign)
        n_dirty = mark(e, S.dirty, T.dirty_list, n_dirty)
    st[ST_NBLK] = n_blk
    st[ST_FREE] = free_blk
    st[ST_NDIRTY] = n_dirty
    st[ST_RECACT] = records_active
    return status
