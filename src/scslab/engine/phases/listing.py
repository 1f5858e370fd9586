"""Listing: re-evaluate the lists, tier and spells of every entity whose state changed.

An entity is marked (put on the dirty list) when one of its records turns on or off, is
performed or removed, when a listing it is on may end (a wake-up), when an entity it is
linked to changes lists, and everybody on a policy change day.  Evaluating it decides,
list by list, whether it is on the list on all records and on true records only
(rightfully):

* score lists: its score below (or at least) the list's threshold;
* record lists: a record of the list's acts, on the platform, for the list's duration
  (extended by some records, shortened by performing the obligation, ended by removal);
* firm-linked lists: a legal representative of a firm on a source list;
* household association: a member of a household with someone on a source list;
* escalation (firms): on the source list for ``after_days``.

Then its tier, its list counts and trace rows, the entities linked to it, and for a
resident its listing spells (listed, wrongfully listed) and its attempt chains.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scslab.engine.calendar import push
from scslab.engine.compile import (
    LIST_AT_LEAST,
    LIST_BELOW,
    LIST_ESCALATION,
    LIST_FIRM_LINKED,
    LIST_HOUSEHOLD,
    LIST_RECORD,
    NEVER,
)
from scslab.engine.layout import (
    EV_WAKE,
    FIRM_KIND,
    LOG_CHANGE,
    LOG_DAY,
    LOG_ENTITY,
    LOG_LIST,
    LOG_ON_RIGHTFUL,
    LOG_ON_WRONGFUL,
    P_LISTED_DAYS,
    P_NEW_LISTINGS,
    P_WRONGFUL_DAYS,
    PHASE_RECORDS,
    RESIDENT_KIND,
    ST_D,
    ST_FREE,
    ST_NBLK,
    ST_NDIRTY,
    ST_NEW,
    ST_NLISTED,
    ST_NLOG,
    ST_NREC,
    ST_NWRONG,
    ST_OFF,
    listed_mask_of,
    lists_of,
    rightful_of,
)
from scslab.engine.phases.exposure import start_attempts
from scslab.engine.phases.metrics import period_add
from scslab.engine.records import record_listing
from scslab.engine.room import DONE, NEED_ROOM, short_of_room
from scslab.engine.score import effective_score, tier_of


@njit(cache=True, nogil=True)
def extending_acts(m):
    """Acts whose records may extend a listing (a record list with an extension)."""
    ext_act = np.zeros(m.act_p.size, dtype=np.bool_)
    for a in range(m.act_p.size):
        for j in range(m.list_kind.size):
            if (m.act_list_mask[a] >> j) & 1 and m.list_ext_p[j] > 0:
                ext_act[a] = True
    return ext_act


@njit(cache=True, nogil=True, _nrt=False)
def mark(e, dirty, dirty_list, n_dirty):
    """Put entity e on the dirty list (once) to be re-evaluated today."""
    if not dirty[e]:
        dirty[e] = True
        dirty_list[n_dirty] = e
        n_dirty += 1
    return n_dirty


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def listing_start(m, S, T, st, t, E):
    """Open today's listing: everybody is marked on a policy change day."""
    n_dirty = st[ST_NDIRTY]
    if m.reeval_day[t]:
        for e in range(E):
            n_dirty = mark(e, S.dirty, T.dirty_list, n_dirty)
    st[ST_NDIRTY] = n_dirty
    st[ST_NEW] = 0
    st[ST_OFF] = 0
    st[ST_D] = 0


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def score_list(kj, thr, s_all, s_true):
    """On a score list (below or at least ``thr``), on all records and on true ones."""
    if kj == LIST_BELOW:
        return s_all < thr, s_true < thr
    return s_all >= thr, s_true >= thr


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def firm_linked(m, S, e, j, n):
    """Resident e represents a firm on one of list j's source lists (rightfully: a firm
    rightfully on it)."""
    on, on_true = False, False
    src = m.list_src_mask[j]
    for ff in range(S.rep_ptr[e], S.rep_ptr[e + 1]):
        fm = S.listed_mask[n + S.rep_firms[ff]]
        if lists_of(fm) & src:
            on = True
            if rightful_of(fm) & lists_of(fm) & src:
                on_true = True
    return on, on_true


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def household_association(m, S, e, j):
    """Another member of resident e's household is on one of list j's source lists
    (rightfully: rightfully on it)."""
    on, on_true = False, False
    src = m.list_src_mask[j]
    for h in range(S.hh_lo[e], S.hh_hi[e]):
        if h != e:
            hm = S.listed_mask[h]
            if lists_of(hm) & src:
                on = True
                if rightful_of(hm) & lists_of(hm) & src:
                    on_true = True
    return on, on_true


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def memberships(m, S, T, t, e, kind, s_all, s_true, n, n_blk, free_blk):
    """The lists entity e is on today (all records) and rightfully (true records), but
    escalation; a record listing that will end wakes e on its last day."""
    D = m.n_days
    lists = 0
    rightful = 0
    for j in range(m.list_kind.size):
        if m.list_subject[j] != kind or t < m.list_start[j]:
            continue
        bit = 1 << j
        kj = m.list_kind[j]
        on, on_true = False, False
        if kj == LIST_BELOW or kj == LIST_AT_LEAST:
            on, on_true = score_list(kj, m.list_thr[j, t], s_all, s_true)
        elif kj == LIST_RECORD:
            until, until_true = 0, 0
            if S.rec_lists[e] & bit:  # else there are no records to walk
                until, until_true = record_listing(T.rec, S.rec_head, e, j, t, m)
            on = until > t
            if on and until < D:
                n_blk, free_blk = push(T, n_blk, free_blk, PHASE_RECORDS, until, EV_WAKE, e,
                                       0, 0, 0, 0.0)
            on_true = until_true > t
        elif kj == LIST_FIRM_LINKED:
            on, on_true = firm_linked(m, S, e, j, n)
        elif kj == LIST_HOUSEHOLD:
            on, on_true = household_association(m, S, e, j)
        if on:
            lists |= bit
        if on_true:
            rightful |= bit
    return lists, rightful, n_blk, free_blk


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def escalation(m, S, T, t, e, lists, rightful, n_blk, free_blk):
    """Firm e joins each escalation list once it has been on the list's source list for
    ``after_days`` (rightfully if rightfully on the source); it is woken on that day.
    After the firm's other lists, as escalation reads them."""
    D = m.n_days
    for j in range(m.list_kind.size):
        if m.list_kind[j] != LIST_ESCALATION or t < m.list_start[j]:
            continue
        sb = 1 << m.list_esc_source[j]
        if lists & sb:
            if S.src_since[j, e] == NEVER:
                S.src_since[j, e] = t
            due = S.src_since[j, e] + m.list_esc_after[j]
            if t >= due:
                lists |= 1 << j
                if rightful & sb:
                    rightful |= 1 << j
            elif due < D:
                n_blk, free_blk = push(T, n_blk, free_blk, PHASE_RECORDS, due, EV_WAKE, e, 0,
                                       0, 0, 0.0)
        else:
            S.src_since[j, e] = NEVER
    return lists, rightful, n_blk, free_blk


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def update_tier(m, S, e, kind, s_all, n):
    """Entity e's tier from its score (a firm's may be fixed by an attribute), and the
    tier counts."""
    tr = tier_of(s_all, kind, m)
    if kind == FIRM_KIND and m.fixed_attr >= 0:
        if m.fixed_tier[S.fcodes[m.fixed_attr, e - n]] >= 0:
            tr = m.fixed_tier[S.fcodes[m.fixed_attr, e - n]]
    if tr != S.tier[e]:
        if S.tier[e] >= 0:
            S.tier_count[kind, S.tier[e]] -= 1
        if tr >= 0:
            S.tier_count[kind, tr] += 1
        S.tier[e] = tr


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def mark_linked(m, S, dirty_list, e, kind, changed, n, n_dirty):
    """Linked entities follow both membership and rightfulness of their sources: when a
    firm's source list of a firm-linked list changes, mark its legal representative; when
    a resident's source list of household association changes, mark its household."""
    if kind == FIRM_KIND and (changed & m.firm_linked_src):
        n_dirty = mark(S.rep[e - n], S.dirty, dirty_list, n_dirty)
    elif kind == RESIDENT_KIND and (changed & m.association_src):
        for h in range(S.hh_lo[e], S.hh_hi[e]):
            if h != e:
                n_dirty = mark(h, S.dirty, dirty_list, n_dirty)
    return n_dirty


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def count_list_changes(m, out, S, log, t, e, lists, rightful, old, n_log):
    """List sizes and entries for the lists e joined or left, and their trace rows."""
    if lists != old:
        changed = lists ^ old
        for j in range(m.list_kind.size):
            if changed & (1 << j):
                on = 1 if lists & (1 << j) else 0
                S.list_count[j] += 1 if on else -1
                out.list_new[j, t] += on
                if m.trace:
                    log[n_log, LOG_DAY] = t
                    log[n_log, LOG_ENTITY] = e
                    log[n_log, LOG_LIST] = j
                    log[n_log, LOG_CHANGE] = on * (
                        LOG_ON_RIGHTFUL if (rightful & (1 << j)) else LOG_ON_WRONGFUL)
                    n_log += 1
    return n_log


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def spells(m, out, S, t, i, lists, rightful, old, n_listed, n_wrong, new_today, off_today):
    """Resident i's spells on a black list and wrongfully on one: their starts, ends,
    lengths and period sums; a second listing after an income shock is a poverty trap."""
    D = m.n_days
    was_black = (old & m.black_mask) != 0
    is_black = (lists & m.black_mask) != 0
    is_wrong = is_black and (lists & rightful & m.black_mask) == 0
    if is_black and not was_black:
        n_listed += 1
        new_today += 1
        period_add(out.group_period, S.codes, i, P_NEW_LISTINGS, t, -1, 1.0, m.period_start)
        S.listed_since[i] = t
        if S.ever_listed[i] and S.shock_flag[i]:
            S.trapped[i] = True
        S.ever_listed[i] = True
    elif was_black and not is_black:
        n_listed -= 1
        off_today += 1
        S.listed_days[i] += t - S.listed_since[i]
        period_add(out.group_period, S.codes, i, P_LISTED_DAYS, S.listed_since[i], t, 1.0,
                   m.period_start)
        out.spell_hist[min(t - S.listed_since[i], D)] += 1
    if is_wrong and not S.wrongful[i]:
        n_wrong += 1
        S.wrong_since[i] = t
        S.ever_wrong[i] = True
    elif S.wrongful[i] and not is_wrong:
        n_wrong -= 1
        S.wrong_days[i] += t - S.wrong_since[i]
        period_add(out.group_period, S.codes, i, P_WRONGFUL_DAYS, S.wrong_since[i], t, 1.0,
                   m.period_start)
        out.wrong_spell_hist[min(t - S.wrong_since[i], D)] += 1
    S.wrongful[i] = is_wrong
    return n_listed, n_wrong, new_today, off_today


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def listing_phase(m, out, S, T, st, t, n, gid0, room_q, room_r):
    """Evaluate the dirty entities in order; evaluation may mark linked entities, which
    are evaluated today too.  Returns DONE, or NEED_ROOM with the phase's scalars saved
    in ``st``."""
    n_blk = st[ST_NBLK]
    free_blk = st[ST_FREE]
    n_rec = st[ST_NREC]
    n_dirty = st[ST_NDIRTY]
    n_log = st[ST_NLOG]
    d = st[ST_D]
    n_listed = st[ST_NLISTED]
    n_wrong = st[ST_NWRONG]
    new_today = st[ST_NEW]
    off_today = st[ST_OFF]
    L = m.list_kind.size
    status = DONE
    while d < n_dirty:
        if short_of_room(T, n_blk, n_rec, n_dirty, n_log, room_q, room_r, L):
            status = NEED_ROOM
            break
        e = T.dirty_list[d]
        d += 1
        S.dirty[e] = False
        kind = RESIDENT_KIND if e < n else FIRM_KIND
        s_all = effective_score(e, kind, S.pts_all, S.cap_val, m)
        s_true = effective_score(e, kind, S.pts_true, S.cap_val, m)
        lists, rightful, n_blk, free_blk = memberships(m, S, T, t, e, kind, s_all, s_true, n,
                                                       n_blk, free_blk)
        if kind == FIRM_KIND:  # escalation needs the firm's other lists first
            lists, rightful, n_blk, free_blk = escalation(m, S, T, t, e, lists, rightful,
                                                          n_blk, free_blk)
        update_tier(m, S, e, kind, s_all, n)
        old = lists_of(S.listed_mask[e])
        old_rightful = rightful_of(S.listed_mask[e])
        S.listed_mask[e] = listed_mask_of(lists, rightful)
        n_dirty = mark_linked(m, S, T.dirty_list, e, kind,
                              (lists ^ old) | (rightful ^ old_rightful), n, n_dirty)
        n_log = count_list_changes(m, out, S, T.log, t, e, lists, rightful, old, n_log)
        if kind == FIRM_KIND:
            continue
        n_listed, n_wrong, new_today, off_today = spells(
            m, out, S, t, e, lists, rightful, old, n_listed, n_wrong, new_today, off_today)
        n_blk, free_blk = start_attempts(m, S, T, t, e, lists, gid0, n_blk, free_blk)
    if status == DONE:
        n_dirty = 0  # everybody evaluated: the dirty list starts again tomorrow
    st[ST_NBLK] = n_blk
    st[ST_FREE] = free_blk
    st[ST_NDIRTY] = n_dirty
    st[ST_NLOG] = n_log
    st[ST_D] = d
    st[ST_NLISTED] = n_listed
    st[ST_NWRONG] = n_wrong
    st[ST_NEW] = new_today
    st[ST_OFF] = off_today
    return status
