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
    EV_REPAIR,
    EV_WAKE,
    F_ARG,
    F_COUNTER,
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
    R_REMOVED_BY,
    REMOVED_BY_APPEAL,
    REMOVED_BY_REPAIR,
    ST_FREE,
    ST_NBLK,
    ST_NDIRTY,
    ST_NLOG,
    ST_NREC,
    ST_RECACT,
    lists_of,
)
from scslab.engine.phases.listing import mark
from scslab.engine.phases.remedies import (
    appeal_filed,
    appeal_won,
    performance_day,
    performance_rate,
    repair_day,
)
from scslab.engine.records import record_key
from scslab.engine.room import DONE, NEED_ROOM, short_of_room
from scslab.rng import APPEAL, PERFORMANCE, REMEDY, REPAIR, geometric_gap, stream, uniform4


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def retention_end(retention, day_recorded):
    """The day a record turns off: ``retention`` days after it was recorded, or never."""
    return NEVER if retention == LIFELONG else day_recorded + retention


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def extensions(act_lists, list_ext_p, u):
    """The record lists whose listing this record extends (one bit each): those of its
    act's lists with an extension whose probability exceeds the record's draw ``u``."""
    ext = 0
    if act_lists:
        for j in range(list_ext_p.size):
            if (act_lists >> j) & 1 and list_ext_p[j] > 0 and u < list_ext_p[j]:
                ext |= 1 << j
    return ext


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
def add_points(pts_all, pts_true, neg_active, e, col, pts, is_true, sign):
    """Add (sign 1) or take away (sign -1) a record's points from entity e's scores, in
    column ``col``, and count its active negative records."""
    if pts < 0:
        neg_active[e] += sign
    pts_all[e, col] += sign * pts
    if is_true:
        pts_true[e, col] += sign * pts


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def records_phase(m, out, S, T, st, t, n, gid0, fgid0, room_q, room_r):
    """Today's records on and off, remedies and wake-ups.  Returns DONE, or NEED_ROOM with
    the phase's scalars saved in ``st``."""
    top, evb, evp, blk, rec = T.top, T.evb, T.evp, T.blk, T.rec
    dirty, dirty_list = S.dirty, T.dirty_list
    k0, k1 = m.k0, m.k1
    D = m.n_days
    n_blk = st[ST_NBLK]
    free_blk = st[ST_FREE]
    n_rec = st[ST_NREC]
    n_dirty = st[ST_NDIRTY]
    n_log = st[ST_NLOG]
    records_active = st[ST_RECACT]
    L = m.list_kind.size
    status = DONE
    while has_events(top, PHASE_RECORDS, t):
        if short_of_room(blk, n_blk, rec, n_rec, dirty_list, n_dirty, T.log, n_log, room_q,
                         room_r, L):
            status = NEED_ROOM
            break
        bk, sl, free_blk = pop(top, blk, free_blk, PHASE_RECORDS, t)
        kind, e, r = evb[bk, sl, F_KIND], evb[bk, sl, F_ENTITY], evb[bk, sl, F_ARG]
        if kind == EV_WAKE:
            n_dirty = mark(e, dirty, dirty_list, n_dirty)
            continue
        a = rec[r, R_ACT]
        prov = rec[r, R_PROV]
        sign = 0
        if kind == EV_REC_ON:
            if rec[r, R_REMOVED] < NEVER:
                continue  # removed before the platform saw it
            day_off = retention_end(m.retention[a, t], rec[r, R_DAY_REC])
            rec[r, R_DAY_OFF] = day_off
            if day_off <= t:
                rec[r, R_DAY_ON] = NEVER  # expired before the platform saw it
                continue
            pts = m.points[a, t]
            rec[r, R_POINTS] = pts
            rec[r, R_ACTIVE] = 1
            sign = 1
            if day_off < D:
                n_blk, free_blk = push(top, evb, evp, blk, n_blk, free_blk, PHASE_RECORDS,
                                       day_off, EV_REC_OFF, e, r, 0, 0, 0.0)
            # the record's own draws decide its extensions and remedies
            kid, kc, ks = record_key(rec, r, n, gid0, fgid0)
            performs = m.perform_p[a] > 0.0 and prov == PROV_TRUE
            if S.ext_act[a] or performs:
                rem = uniform4(k0, k1, stream(REMEDY, ks), kid, kc)
            else:  # nothing would read the draw
                rem = (1.0, 1.0, 1.0, 1.0)
            lm = m.act_list_mask[a]
            rec[r, R_EXT] |= extensions(lm, m.list_ext_p, rem[1])
            if performs:
                pp = performance_rate(m.perform_p[a], m.perform_mult[a], m.perform_fmult[a],
                                      S.codes, S.fcodes, e, n)
                # listing raises the rate: candidates at the listed rate, thinned on their
                # day to the rate of the day (counter 1 on: a candidate to thin)
                p_top = min(1.0, pp * m.perform_listed[a])
                tp = performance_day(t, rem[0], p_top)
                if tp < D:
                    n_blk, free_blk = push(top, evb, evp, blk, n_blk, free_blk, PHASE_RECORDS,
                                           max(tp, t), EV_PERFORM, e, r,
                                           1 if p_top > pp else 0, 0, 0.0)
            if m.appeals_on and e < n and (pts < 0 or (lm & m.black_mask)):
                v = uniform4(k0, k1, stream(APPEAL, ks), kid, kc)
                if appeal_filed(v, m.appeal_notified[t], m.notice_if, m.notice_else,
                                prov == PROV_TRUE, m.appeal_true):
                    out.appeals_filed[t] += 1
                    td = t + m.appeal_filing + m.appeal_review
                    if td < D:
                        n_blk, free_blk = push(top, evb, evp, blk, n_blk, free_blk,
                                               PHASE_RECORDS, td, EV_APPEAL, e, r, 0, 0, 0.0)
            if m.repair_on and m.repair_act[a]:
                w = uniform4(k0, k1, stream(REPAIR, ks), kid, kc)[0]
                tr = repair_day(t, m.repair_after, w, m.repair_p)
                if tr < D:
                    n_blk, free_blk = push(top, evb, evp, blk, n_blk, free_blk, PHASE_RECORDS,
                                           max(tr, t), EV_REPAIR, e, r, 0, 0, 0.0)
        elif kind == EV_REC_OFF:
            if rec[r, R_ACTIVE] == 0 or rec[r, R_DAY_OFF] != t:
                continue  # stale: removed earlier
            rec[r, R_ACTIVE] = 0
            sign = -1
        elif kind == EV_PERFORM:
            if rec[r, R_PERFORMED] < NEVER:
                continue
            c = evb[bk, sl, F_COUNTER]
            if c > 0:  # a candidate: performed at the listed rate only while listed
                pp = performance_rate(m.perform_p[a], m.perform_mult[a], m.perform_fmult[a],
                                      S.codes, S.fcodes, e, n)
                p_top = min(1.0, pp * m.perform_listed[a])
                listed = (lists_of(S.listed_mask[e]) & m.black_mask) != 0
                kid, kc, ks = record_key(rec, r, n, gid0, fgid0)
                v = uniform4(k0, k1, stream(PERFORMANCE, ks), kid, kc * 65536 + c)
                if v[0] * p_top >= (p_top if listed else pp):
                    tn = t + geometric_gap(v[1], p_top)
                    if tn < D:
                        n_blk, free_blk = push(top, evb, evp, blk, n_blk, free_blk,
                                               PHASE_RECORDS, tn, EV_PERFORM, e, r, c + 1, 0,
                                               0.0)
                    continue
            rec[r, R_PERFORMED] = t
            out.performed[0 if e < n else 1, t] += 1
            td = t + m.perform_removal[a]  # the listing ends then: wake the entity
            if td > t and td < D:
                n_blk, free_blk = push(top, evb, evp, blk, n_blk, free_blk, PHASE_RECORDS, td,
                                       EV_WAKE, e, 0, 0, 0, 0.0)
        else:  # EV_APPEAL or EV_REPAIR: the record is removed
            if rec[r, R_REMOVED] < NEVER:
                continue
            if kind == EV_APPEAL:
                kid, kc, ks = record_key(rec, r, n, gid0, fgid0)
                v = uniform4(k0, k1, stream(APPEAL, ks), kid, kc)
                if not appeal_won(v, prov == PROV_TRUE, m.success_true, m.success_wrong):
                    continue
                out.appeals_won[t] += 1
                if prov != PROV_TRUE:
                    out.fix_hist[min(t - rec[r, R_DAY_ON], D)] += 1
                rec[r, R_REMOVED_BY] = REMOVED_BY_APPEAL
            else:
                out.repairs[t] += 1
                rec[r, R_REMOVED_BY] = REMOVED_BY_REPAIR
            sign = removed(rec, r, t)
            n_dirty = mark(e, dirty, dirty_list, n_dirty)
        if sign != 0:
            records_active += sign
            S.dept_active[rec[r, R_DEPT]] += sign
            add_points(S.pts_all, S.pts_true, S.neg_active, e, 1 + m.cap_index[a],
                       rec[r, R_POINTS], prov == PROV_TRUE, sign)  # column 0 when uncapped
        n_dirty = mark(e, dirty, dirty_list, n_dirty)
    st[ST_NBLK] = n_blk
    st[ST_FREE] = free_blk
    st[ST_NDIRTY] = n_dirty
    st[ST_RECACT] = records_active
    return status
