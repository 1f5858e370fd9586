"""Acts and false records: the ground truth, and what departments record of it.

Each (subject, act type) is a chain of candidate days drawn as geometric gaps, so a
subject who never acts costs one draw.  The candidates run at the highest rate the act can
have (its income-shocked rate for residents), so every scenario sees the same candidates
(common random numbers); the feedback loops then thin them to the rate of the day:

* economic: a resident in an income shock acts at the shocked rate (its acts' shock
  multipliers), otherwise at the base rate;
* chilling: speech acts fall with surveillance (the platform scores them) and with the
  salience of sanctions (the share of residents listed);
* deterrence: negative acts fall, for residents aware of the system (phases/awareness.py),
  with the general risk (the platform scores them; their records can bring a sanction in
  force) and, for a resident with a negative record on the platform, the personal one;
* account removal: a resident whose account is removed makes no speech act.

An act is recorded by each department that records its type, with the department's
coverage, and may be misattributed to another subject of the unit.  Departments also
file false records: a chain per (resident, department, act type) at its highest rate,
thinned to the rate of the day.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scslab.engine.calendar import has_events, pop, push, unword, word
from scslab.engine.compile import NEVER
from scslab.engine.layout import (
    EV_ACT,
    EV_FALSE,
    EV_REC_ON,
    F_ARG,
    F_COUNTER,
    F_ENTITY,
    F_KIND,
    F_WORD,
    PHASE_ACTS,
    PHASE_RECORDS,
    PROV_FALSE,
    PROV_MISATTRIBUTED,
    PROV_TRUE,
    ST_FREE,
    ST_NASSOC,
    ST_NBLK,
    ST_NDIRTY,
    ST_NLISTED,
    ST_NLOG,
    ST_NREC,
    ident,
)
from scslab.engine.phases.awareness import is_aware
from scslab.engine.records import new_record
from scslab.engine.room import DONE, NEED_ROOM, short_of_room
from scslab.rng import (
    ACT,
    FALSE_RECORD,
    FIRM_IDENT,
    RECORDING,
    gap_within,
    keyed_words,
    stream,
    to_uniform,
    uniform4,
    words4,
)
from scslab.sorting import counting_sort


@njit(cache=True, nogil=True, _nrt=False)
def first_candidates(k0, k1, s, key0, p, D, day, w, x0, x1, memo, row):
    """The first candidate of chain ``s`` of each subject ``e`` (keyed ``key0 + e``) at
    rate ``p[e]``: its day (``day[e]``, >= ``D`` if none before the end) and its carried
    acceptance word (``w[e]``, read only for a day before ``D``); ``x0`` and ``x1`` are
    scratch for the words, ``memo[row]`` memoises the rates' logarithms and bounds
    (``gap_within``: most candidates of a rare chain fall after the end and take no
    logarithm).  Plain loops with nothing but draws; the caller pushes the candidates in
    the same order."""
    n = p.size
    keyed_words(k0, k1, s, key0, 0, x0[:n], x1[:n])
    for e in range(n):
        if p[e] <= 0.0:
            day[e] = NEVER
            continue
        day[e] = -1 + gap_within(to_uniform(x0[e]), p[e], memo, row, D)
        w[e] = word(x1[e])


@njit(cache=True, nogil=True)
def schedule_first_acts(m, T, p_res, p_firm, n, nf, gid0, fgid0, is_child, memo):
    """Push the first candidate of every act and false-record chain (children have
    neither); returns the blocks used and the free-block list.  An act event carries its
    counter, its rate and the acceptance word of its own Philox block (drawn with the
    block that set its day), so popping it reads nothing per entity and draws one block,
    not two.  Days are drawn chain by chain (``first_candidates``), then pushed day by day,
    each bucket's events in the order one loop over the chains would push them."""
    top, evb, evp, blk = T.top, T.evb, T.evp, T.blk
    D = m.n_days
    k0, k1 = m.k0, m.k1
    size = max(n, nf)
    p = np.empty(size)
    day = np.empty(size, dtype=np.int64)
    w = np.empty(size, dtype=np.int32)
    x0 = np.empty(size, dtype=np.uint32)
    x1 = np.empty(size, dtype=np.uint32)
    # the candidates before the end, in the order one loop would push them
    cap = m.act_p.size * size + m.pair_act.size * n
    c_day = np.empty(cap, dtype=np.int32)
    c_kind = np.empty(cap, dtype=np.int32)
    c_e = np.empty(cap, dtype=np.int32)
    c_b = np.empty(cap, dtype=np.int32)
    c_w = np.empty(cap, dtype=np.int32)
    c_p = np.empty(cap)
    nc = 0
    for a in range(m.act_p.size):
        if m.act_subject[a] == 0:
            # candidates at the shocked rate whether or not the loop is on (CRN)
            for e in range(n):
                p[e] = min(1.0, p_res[a, e] * m.act_shock[a])
            first_candidates(k0, k1, stream(ACT, a), np.int64(gid0), p[:n], D, day, w, x0,
                             x1, memo, a)
            for e in range(n):
                if day[e] < D:
                    c_day[nc], c_kind[nc], c_e[nc], c_b[nc] = day[e], EV_ACT, e, a
                    c_w[nc], c_p[nc] = w[e], p_res[a, e]
                    nc += 1
        else:
            first_candidates(k0, k1, stream(ACT, a), np.int64(FIRM_IDENT + fgid0), p_firm[a],
                             D, day, w, x0, x1, memo, a)
            for f in range(nf):
                if day[f] < D:
                    c_day[nc], c_kind[nc], c_e[nc], c_b[nc] = day[f], EV_ACT, n + f, a
                    c_w[nc], c_p[nc] = w[f], p_firm[a, f]
                    nc += 1
    for q in range(m.pair_act.size):
        if m.false_pmax[q] > 0.0 and m.act_subject[m.pair_act[q]] == 0:
            for i in range(n):
                p[i] = 0.0 if is_child[i] else m.false_pmax[q]
            first_candidates(k0, k1, stream(FALSE_RECORD, q), np.int64(gid0), p[:n], D, day, w,
                             x0, x1, memo, m.act_p.size + q)
            for i in range(n):
                if day[i] < D:
                    c_day[nc], c_kind[nc], c_e[nc], c_b[nc] = day[i], EV_FALSE, i, q
                    c_w[nc], c_p[nc] = w[i], 0.0
                    nc += 1
    # pushed day by day (a stable counting sort): each bucket gets its events in the
    # order above, so it pops them in the same order, and the pushes of one day write
    # its top block while it is in cache, not a block of a random day each time
    _, order = counting_sort(c_day[:nc], D)
    n_blk = 0
    free_blk = -1
    for j in range(nc):
        c = order[j]
        n_blk, free_blk = push(top, evb, evp, blk, n_blk, free_blk, PHASE_ACTS, c_day[c],
                               c_kind[c], c_e[c], c_b[c], 0, c_w[c], c_p[c])
    return n_blk, free_blk


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def chilling(p, surveillance, scored, salience, listed_share):
    """A speech act's rate under surveillance (when the platform scores the act) and under
    the salience of sanctions (``listed_share``: the listed share of residents relative
    to the share at which salience is full)."""
    p *= 1.0 - surveillance * scored
    p *= 1.0 - salience * min(1.0, listed_share)
    return p


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def deterrence(p, general, scored, sanctions, sanctioned, aware, personal,
               has_negative_record):
    """A negative act's rate under the general risk, for a subject aware of the system:
    ``general`` while the platform scores the act, ``sanctions`` while its records can
    bring a sanction in force that day; and, for a subject with a negative record on the
    platform (aware of it or not), the personal one."""
    if aware:
        p *= 1.0 - general * scored
        p *= 1.0 - sanctions * sanctioned
    if has_negative_record:
        p *= 1.0 - personal
    return p


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def misattributed_subject(e, lo, hi, u):
    """Another subject of [lo, hi) than e, uniform from the draw ``u``: a same-name
    mix-up."""
    subject = lo + int(u * (hi - lo - 1))
    if subject >= e:
        subject += 1
    return subject


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def file_record(rec, n_rec, rec_head, rec_lists, records_i, created, created_by_prov,
                dept_created, subject, actor, a, act_lists, dept, prov, t, day_rec, day_on,
                kctr, kstream, n):
    """File a record (the caller has made room) and count it; returns the record count."""
    n_rec = new_record(rec, n_rec, rec_head, subject, actor, a, dept, prov, t, day_rec, day_on,
                       kctr, kstream)
    rec_lists[subject] |= act_lists
    created[t] += 1
    created_by_prov[prov, t] += 1
    dept_created[dept, t] += 1
    if subject < n:
        records_i[subject] += 1
    return n_rec


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def acts_phase(m, out, S, T, st, t, n, nf, gid0, fgid0, room_q, room_r):
    """Today's act and false-record candidates.  Returns DONE, or NEED_ROOM with the
    phase's scalars saved in ``st``."""
    top, evb, evp, blk, rec = T.top, T.evb, T.evp, T.blk, T.rec
    rec_head, rec_lists, records_i = S.rec_head, S.rec_lists, S.records_i
    created, created_by_prov, dept_created = (out.records_created, out.records_by_prov,
                                              out.dept_created)
    k0, k1 = m.k0, m.k1
    D = m.n_days
    L = m.list_kind.size
    E = n + nf
    n_blk = st[ST_NBLK]
    free_blk = st[ST_FREE]
    n_rec = st[ST_NREC]
    n_dirty = st[ST_NDIRTY]
    n_log = st[ST_NLOG]
    # residents on a black list by any route: the salience of sanctions
    n_listed = st[ST_NLISTED] + st[ST_NASSOC]
    status = DONE
    while has_events(top, PHASE_ACTS, t):
        # before each step: room for what it may add, or stop; the caller grows the
        # tables and the loop resumes at this step
        if short_of_room(blk, n_blk, rec, n_rec, T.dirty_list, n_dirty, T.log, n_log, room_q,
                         room_r, L):
            status = NEED_ROOM
            break
        bk, sl, free_blk = pop(top, blk, free_blk, PHASE_ACTS, t)
        kind, e, b = evb[bk, sl, F_KIND], evb[bk, sl, F_ENTITY], evb[bk, sl, F_ARG]
        c = evb[bk, sl, F_COUNTER]
        u1 = to_uniform(unword(evb[bk, sl, F_WORD]))
        key = ident(e, n, gid0, fgid0)
        if kind == EV_ACT:
            a = b
            # the candidate runs at the highest rate; today's rate follows the feedback
            # loops, and the acceptance draw u1 thins the candidate to it
            p_base = evp[bk, sl]
            p_cand = p_base
            p_now = p_base
            if e < n:
                p_cand = min(1.0, p_base * m.act_shock[a])
                if m.economic_on and S.shock_until[e] > t:
                    p_now = p_cand  # in an income shock
                if m.act_speech[a]:
                    if m.chilling_on:
                        p_now = chilling(p_now, m.chilling_surveillance, m.act_scored[a, t],
                                         m.chilling_salience,
                                         n_listed / n / m.chilling_salience_share)
                elif m.deterrence_on and m.act_negative[a]:
                    aware = is_aware(S.aware_u, S.exposure, e, m.awareness_base[t],
                                     m.awareness_household, m.awareness_listed)
                    p_now = deterrence(p_now, m.deterrence_general, m.act_scored[a, t],
                                       m.deterrence_sanctions, m.act_sanctioned[a, t], aware,
                                       m.deterrence_personal, S.neg_active[e] > 0)
            x0, x1, _, _ = words4(k0, k1, stream(ACT, a), key, c + 1)
            t2 = t + gap_within(to_uniform(x0), p_cand, S.gap_memo, a, D)
            if t2 < D:
                n_blk, free_blk = push(top, evb, evp, blk, n_blk, free_blk, PHASE_ACTS, t2,
                                       EV_ACT, e, a, c + 1, word(x1), p_base)
            if u1 * p_cand >= p_now:
                continue  # thinned: the act does not happen today
            if m.act_speech[a] and S.account_removed.size and S.account_removed[e]:
                out.speech_acts_removed[t] += 1  # no account: the post is not made
                continue
            out.acts[a, t] += 1
            # departments that record the act: coverage, then misattribution
            for qq in range(m.act_pair_ptr[a], m.act_pair_ptr[a + 1]):
                q = m.act_pair_idx[qq]
                v = uniform4(k0, k1, stream(RECORDING, q), key, c)
                if v[0] >= m.coverage[q, t]:
                    continue
                dept = m.pair_dept[q]
                subject = e
                prov = PROV_TRUE
                lo, hi = (0, n) if e < n else (n, E)
                if hi - lo > 1 and v[1] < m.dept_misattr[dept, t]:
                    subject = misattributed_subject(e, lo, hi, v[2])
                    if subject < n and S.is_child[subject]:
                        subject = S.hh_lo[subject]  # a child's record lands on an adult
                    if subject != e:
                        prov = PROV_MISATTRIBUTED
                day_rec = t + m.dept_delay[dept]
                day_on = min(max(day_rec, m.dept_share_day[dept]), NEVER)
                n_rec = file_record(rec, n_rec, rec_head, rec_lists, records_i, created,
                                    created_by_prov, dept_created, subject, e, a,
                                    m.act_list_mask[a], dept, prov, t, day_rec, day_on, c, q, n)
                if day_on < D:  # shared: it turns on then
                    n_blk, free_blk = push(top, evb, evp, blk, n_blk, free_blk, PHASE_RECORDS,
                                           day_on, EV_REC_ON, subject, n_rec - 1, 0, 0, 0.0)
        else:  # EV_FALSE: a department's false record on resident e
            q = b
            x0, x1, _, _ = words4(k0, k1, stream(FALSE_RECORD, q), key, c + 1)
            t2 = t + gap_within(to_uniform(x0), m.false_pmax[q], S.gap_memo, m.act_p.size + q,
                                D)
            if t2 < D:
                n_blk, free_blk = push(top, evb, evp, blk, n_blk, free_blk, PHASE_ACTS, t2,
                                       EV_FALSE, e, q, c + 1, word(x1), 0.0)
            if u1 * m.false_pmax[q] >= m.false_p[q, t]:
                continue
            a = m.pair_act[q]
            dept = m.pair_dept[q]
            day_rec = t + m.dept_delay[dept]
            day_on = min(max(day_rec, m.dept_share_day[dept]), NEVER)
            n_rec = file_record(rec, n_rec, rec_head, rec_lists, records_i, created,
                                created_by_prov, dept_created, e, -1, a, m.act_list_mask[a],
                                dept, PROV_FALSE, t, day_rec, day_on, c, q, n)
            if day_on < D:
                n_blk, free_blk = push(top, evb, evp, blk, n_blk, free_blk, PHASE_RECORDS,
                                       day_on, EV_REC_ON, e, n_rec - 1, 0, 0, 0.0)
    st[ST_NBLK] = n_blk
    st[ST_FREE] = free_blk
    st[ST_NREC] = n_rec
    return status
