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
resident its listing spells (listed through its own records, score or firm, and wrongfully
so; listed only through association, and wrongfully so), its exposure (awareness), its
account (account removal) and its attempt chains.
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
    ST_NASSOC,
    ST_NASSOC_WRONG,
    ST_NBLK,
    ST_NDIRTY,
    ST_NEW,
    ST_NLISTED,
    ST_NLOG,
    ST_NREC,
    ST_NREMOVED,
    ST_NWRONG,
    ST_OFF,
    listed_mask_of,
    lists_of,
    rightful_of,
)
from scslab.engine.phases.awareness import expose
from scslab.engine.phases.exposure import guardian_lists, start_attempts
from scslab.engine.phases.metrics import period_add
from scslab.engine.phases.speech import POSTING_REMOVED, posting_rate
from scslab.engine.records import record_listing
from scslab.engine.room import DONE, NEED_ROOM, short_of_room
from scslab.engine.score import effective_score, tier_of


@njit(cache=True, nogil=True)
def extending_acts(act_list_mask, list_ext_p):
    """Acts whose records may extend a listing (a record list with an extension)."""
    ext_act = np.zeros(act_list_mask.size, dtype=np.bool_)
    for a in range(act_list_mask.size):
        for j in range(list_ext_p.size):
            if (act_list_mask[a] >> j) & 1 and list_ext_p[j] > 0:
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
def score_list(kj, thr, s_all, s_true):
    """On a score list (below or at least ``thr``), on all records and on true ones."""
    if kj == LIST_BELOW:
        return s_all < thr, s_true < thr
    return s_all >= thr, s_true >= thr


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def firm_linked(listed_mask, rep_ptr, rep_firms, e, n, src):
    """Resident e represents a firm on one of the source lists ``src`` (rightfully: a firm
    rightfully on it)."""
    on, on_true = False, False
    for ff in range(rep_ptr[e], rep_ptr[e + 1]):
        fm = listed_mask[n + rep_firms[ff]]
        if lists_of(fm) & src:
            on = True
            if rightful_of(fm) & lists_of(fm) & src:
                on_true = True
    return on, on_true


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def household_association(listed_mask, hh_lo, hh_hi, e, src):
    """Another member of resident e's household is on one of the source lists ``src``
    (rightfully: rightfully on it)."""
    on, on_true = False, False
    for h in range(hh_lo[e], hh_hi[e]):
        if h != e:
            hm = listed_mask[h]
            if lists_of(hm) & src:
                on = True
                if rightful_of(hm) & lists_of(hm) & src:
                    on_true = True
    return on, on_true


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
def listing_phase(m, out, S, T, st, t, n, gid0, room_q, room_r):
    """Evaluate the dirty entities in order; evaluation may mark linked entities, which
    are evaluated today too.  Returns DONE, or NEED_ROOM with the phase's scalars saved
    in ``st``."""
    top, evb, evp, blk, rec, log = T.top, T.evb, T.evp, T.blk, T.rec, T.log
    dirty, dirty_list, listed_mask, codes = S.dirty, T.dirty_list, S.listed_mask, S.gcodes
    gp, pstart = out.group_period, m.period_start
    D = m.n_days
    L = m.list_kind.size
    n_blk = st[ST_NBLK]
    free_blk = st[ST_FREE]
    n_rec = st[ST_NREC]
    n_dirty = st[ST_NDIRTY]
    n_log = st[ST_NLOG]
    d = st[ST_D]
    n_listed = st[ST_NLISTED]
    n_wrong = st[ST_NWRONG]
    n_assoc = st[ST_NASSOC]
    n_assoc_wrong = st[ST_NASSOC_WRONG]
    n_removed = st[ST_NREMOVED]
    new_today = st[ST_NEW]
    off_today = st[ST_OFF]
    status = DONE
    while d < n_dirty:
        if short_of_room(blk, n_blk, rec, n_rec, dirty_list, n_dirty, log, n_log, room_q,
                         room_r, L):
            status = NEED_ROOM
            break
        e = dirty_list[d]
        d += 1
        dirty[e] = False
        kind = RESIDENT_KIND if e < n else FIRM_KIND
        s_all = effective_score(S.pts_all, e, S.cap_val, m.score_base[kind],
                                m.score_min[kind], m.score_max[kind])
        s_true = effective_score(S.pts_true, e, S.cap_val, m.score_base[kind],
                                 m.score_min[kind], m.score_max[kind])

        # ---- memberships: the lists e is on (all records) and rightfully (true ones)
        lists = 0
        rightful = 0
        for j in range(L):
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
                    until, until_true = record_listing(
                        rec, S.rec_head, e, j, t, m.act_list_mask, m.list_start[j], m.list_dur,
                        m.list_ext_days[j], m.perform_removal)
                on = until > t
                if on and until < D:  # wake e on the day the listing ends
                    n_blk, free_blk = push(top, evb, evp, blk, n_blk, free_blk, PHASE_RECORDS,
                                           until, EV_WAKE, e, 0, 0, 0, 0.0)
                on_true = until_true > t
            elif kj == LIST_FIRM_LINKED:
                on, on_true = firm_linked(listed_mask, S.rep_ptr, S.rep_firms, e, n,
                                          m.list_src_mask[j])
            elif kj == LIST_HOUSEHOLD:
                on, on_true = household_association(listed_mask, S.hh_lo, S.hh_hi, e,
                                                    m.list_src_mask[j])
            if on:
                lists |= bit
            if on_true:
                rightful |= bit

        # ---- escalation (firms): on the source list for after_days, woken on that day;
        # after the firm's other lists, as it reads them
        if kind == FIRM_KIND:
            for j in range(L):
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
                        n_blk, free_blk = push(top, evb, evp, blk, n_blk, free_blk,
                                               PHASE_RECORDS, due, EV_WAKE, e, 0, 0, 0, 0.0)
                else:
                    S.src_since[j, e] = NEVER

        # ---- tier (a firm's may be fixed by an attribute)
        tr = tier_of(s_all, m.tier_floor, kind, m.n_tiers[kind])
        if kind == FIRM_KIND and m.fixed_attr >= 0:
            if m.fixed_tier[S.fcodes[m.fixed_attr, e - n]] >= 0:
                tr = m.fixed_tier[S.fcodes[m.fixed_attr, e - n]]
        if tr != S.tier[e]:
            if S.tier[e] >= 0:
                S.tier_count[kind, S.tier[e]] -= 1
            if tr >= 0:
                S.tier_count[kind, tr] += 1
            S.tier[e] = tr

        old = lists_of(listed_mask[e])
        old_rightful = rightful_of(listed_mask[e])
        listed_mask[e] = listed_mask_of(lists, rightful)

        # ---- linked entities follow both membership and rightfulness of their sources:
        # a firm's legal representative (firm-linked lists), a resident's household
        # (household association)
        linked = (lists ^ old) | (rightful ^ old_rightful)
        if kind == FIRM_KIND and (linked & m.firm_linked_src):
            n_dirty = mark(S.rep[e - n], dirty, dirty_list, n_dirty)
        elif kind == RESIDENT_KIND and (linked & m.association_src):
            for h in range(S.hh_lo[e], S.hh_hi[e]):
                if h != e:
                    n_dirty = mark(h, dirty, dirty_list, n_dirty)

        # ---- list sizes, entries and trace rows
        if lists != old:
            changed = lists ^ old
            for j in range(L):
                if changed & (1 << j):
                    joined = 1 if lists & (1 << j) else 0
                    S.list_count[j] += 1 if joined else -1
                    out.list_new[j, t] += joined
                    if m.trace:
                        log[n_log, LOG_DAY] = t
                        log[n_log, LOG_ENTITY] = e
                        log[n_log, LOG_LIST] = j
                        log[n_log, LOG_CHANGE] = joined * (
                            LOG_ON_RIGHTFUL if (rightful & (1 << j)) else LOG_ON_WRONGFUL)
                        n_log += 1
        if kind == FIRM_KIND:
            continue

        # ---- spells of a resident on a black list through its own records, score or firm
        # (own route), and wrongfully so; listings only through association (household)
        # are counted apart, wrongful when the relative's listing is
        was_black = (old & m.own_black_mask) != 0
        is_black = (lists & m.own_black_mask) != 0
        is_wrong = is_black and (lists & rightful & m.own_black_mask) == 0
        if is_black and not was_black:
            n_listed += 1
            new_today += 1
            period_add(gp, codes, e, P_NEW_LISTINGS, t, -1, 1.0, pstart)
            S.listed_since[e] = t
            S.ever_listed[e] = True
            S.listings_i[e] += 1
            if S.shock_until[e] > t:  # descriptive: a listing while an income shock lasts
                S.listings_during_shock[e] += 1
            expose(S.exposure, S.hh_lo, S.hh_hi, e)
        elif was_black and not is_black:
            n_listed -= 1
            off_today += 1
            S.listed_days[e] += t - S.listed_since[e]
            period_add(gp, codes, e, P_LISTED_DAYS, S.listed_since[e], t, 1.0, pstart)
            out.spell_hist[min(t - S.listed_since[e], D)] += 1
        if is_wrong and not S.wrongful[e]:
            n_wrong += 1
            S.wrong_since[e] = t
            S.ever_wrong[e] = True
        elif S.wrongful[e] and not is_wrong:
            n_wrong -= 1
            S.wrong_days[e] += t - S.wrong_since[e]
            period_add(gp, codes, e, P_WRONGFUL_DAYS, S.wrong_since[e], t, 1.0, pstart)
            out.wrong_spell_hist[min(t - S.wrong_since[e], D)] += 1
        S.wrongful[e] = is_wrong
        if m.association_black_mask:
            am = m.association_black_mask
            was_assoc = not was_black and (old & am) != 0
            is_assoc = not is_black and (lists & am) != 0
            was_assoc_wrong = was_assoc and (old & old_rightful & am) == 0
            is_assoc_wrong = is_assoc and (lists & rightful & am) == 0
            if is_assoc and not was_assoc:
                n_assoc += 1
                S.association_since[e] = t
                S.ever_association[e] = True
            elif was_assoc and not is_assoc:
                n_assoc -= 1
                S.association_days[e] += t - S.association_since[e]
            n_assoc_wrong += int(is_assoc_wrong) - int(was_assoc_wrong)

        # ---- account removal (a speech sanction): no posts while on a removing list
        if S.account_removed.size:
            rm = t >= m.removal_start and (lists & m.removal_mask) != 0
            if rm != S.account_removed[e]:
                S.account_removed[e] = rm
                n_removed += 1 if rm else -1
                if m.lawful_on:
                    S.speech_rates[POSTING_REMOVED] += (1.0 if rm else -1.0) * posting_rate(
                        m.lawful_rate, m.lawful_mult, codes, e)

        # ---- exposure: attempt chains for the actions e's lists restrict or reward; a
        # child's (actions taken for it) follow its guardians' lists, so a guardian's
        # change starts its household's children's chains too
        own = lists
        if S.is_child[e]:
            own = guardian_lists(listed_mask, S.hh_lo, S.hh_hi, S.is_child, e)[0]
        n_blk, free_blk = start_attempts(top, evb, evp, blk, n_blk, free_blk, S.chain_active,
                                         S.p_att, m.sanction_lists, m.green_channel_lists,
                                         m.k0, m.k1, t, e, gid0, own, D,
                                         m.action_growth_accept)
        if not S.is_child[e] and (lists & m.child_lists) and lists != old:
            for c in range(S.hh_lo[e], S.hh_hi[e]):
                if S.is_child[c]:
                    g = guardian_lists(listed_mask, S.hh_lo, S.hh_hi, S.is_child, c)[0]
                    n_blk, free_blk = start_attempts(
                        top, evb, evp, blk, n_blk, free_blk, S.chain_active, S.p_att,
                        m.sanction_lists, m.green_channel_lists, m.k0, m.k1, t, c, gid0, g,
                        D, m.action_growth_accept)
    if status == DONE:
        n_dirty = 0  # everybody evaluated: the dirty list starts again tomorrow
    st[ST_NBLK] = n_blk
    st[ST_FREE] = free_blk
    st[ST_NDIRTY] = n_dirty
    st[ST_NLOG] = n_log
    st[ST_D] = d
    st[ST_NLISTED] = n_listed
    st[ST_NWRONG] = n_wrong
    st[ST_NASSOC] = n_assoc
    st[ST_NASSOC_WRONG] = n_assoc_wrong
    st[ST_NREMOVED] = n_removed
    st[ST_NEW] = new_today
    st[ST_OFF] = off_today
    return status
