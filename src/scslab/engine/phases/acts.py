"""Acts and false records: the ground truth, and what departments record of it.

Each (subject, act type) is a chain of candidate days drawn as geometric gaps, so a
subject who never acts costs one draw.  The candidates run at the highest rate the act can
have (its income-shocked rate for residents), so every scenario sees the same candidates
(common random numbers); the feedback loops then thin them to the rate of the day:

* economic: a resident in an income shock acts at the shocked rate (its acts' shock
  multipliers), otherwise at the base rate;
* chilling: speech acts fall with surveillance (the platform scores them) and with the
  salience of sanctions (the share of residents listed);
* deterrence: negative acts fall with the general risk (the platform scores them) and,
  for a resident with a negative record on the platform, the personal one.

An act is recorded by each department that records its type, with the department's
coverage, and may be misattributed to another subject of the unit.  Departments also
file false records: a chain per (resident, department, act type) at its highest rate,
thinned to the rate of the day.
"""

from __future__ import annotations

from numba import njit

from scslab.engine.calendar import has_events, pop, push, unword, word
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
    R_DAY_ON,
    ST_FREE,
    ST_NBLK,
    ST_NDIRTY,
    ST_NLISTED,
    ST_NLOG,
    ST_NREC,
    ident,
)
from scslab.engine.records import new_record
from scslab.engine.room import DONE, NEED_ROOM, short_of_room
from scslab.rng import (
    ACT,
    FALSE_RECORD,
    RECORDING,
    geometric_gap,
    stream,
    to_uniform,
    uniform4,
    words4,
)


@njit(cache=True, nogil=True)
def schedule_first_acts(m, T, p_res, p_firm, n, nf, gid0, fgid0):
    """Push the first candidate of every act and false-record chain; returns the blocks
    used and the free-block list.  An act event carries its counter, its rate and the
    acceptance word of its own Philox block (drawn with the block that set its day), so
    popping it reads nothing per entity and draws one block, not two."""
    D = m.n_days
    k0, k1 = m.k0, m.k1
    E = n + nf
    n_blk = 0
    free_blk = -1
    for a in range(m.act_p.size):
        s_act = stream(ACT, a)
        lo, hi = (0, n) if m.act_subject[a] == 0 else (n, E)
        for e in range(lo, hi):
            p_base = p_res[a, e] if e < n else p_firm[a, e - n]
            p = p_base
            if e < n:  # candidates at the shocked rate whether or not the loop is on (CRN)
                p = min(1.0, p * m.act_shock[a])
            if p <= 0.0:
                continue
            x0, x1, _, _ = words4(k0, k1, s_act, ident(e, n, gid0, fgid0), 0)
            t = -1 + geometric_gap(to_uniform(x0), p)
            if t < D:
                n_blk, free_blk = push(T, n_blk, free_blk, PHASE_ACTS, t, EV_ACT, e, a, 0,
                                       word(x1), p_base)
    for q in range(m.pair_act.size):
        if m.false_pmax[q] > 0.0 and m.act_subject[m.pair_act[q]] == 0:
            s_f = stream(FALSE_RECORD, q)
            for i in range(n):
                x0, x1, _, _ = words4(k0, k1, s_f, gid0 + i, 0)
                t = -1 + geometric_gap(to_uniform(x0), m.false_pmax[q])
                if t < D:
                    n_blk, free_blk = push(T, n_blk, free_blk, PHASE_ACTS, t, EV_FALSE, i, q, 0,
                                           word(x1), 0.0)
    return n_blk, free_blk


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def chilling(m, a, t, p_now, n_listed, n):
    """Speech act a's rate under surveillance and the salience of sanctions."""
    p_now *= 1.0 - m.chilling_surveillance * m.act_scored[a, t]
    share = n_listed / n / m.chilling_salience_share
    p_now *= 1.0 - m.chilling_salience * min(1.0, share)
    return p_now


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def deterrence(m, S, a, t, e, p_now):
    """Negative act a's rate under the general and, for resident e with a negative record
    on the platform, the personal risk of sanctions."""
    p_now *= 1.0 - m.deterrence_general * m.act_scored[a, t]
    if S.neg_active[e] > 0:
        p_now *= 1.0 - m.deterrence_personal
    return p_now


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def act_rates(m, S, a, t, e, p_base, n, n_listed):
    """(candidate rate, rate today) of act a by entity e: residents' candidates run at the
    income-shocked rate; today's rate follows the feedback loops."""
    p_cand = p_base
    p_now = p_base
    if e < n:
        p_cand = min(1.0, p_base * m.act_shock[a])
        if m.economic_on and S.shock_until[e] > t:
            p_now = p_cand
        if m.act_speech[a]:
            if m.chilling_on:
                p_now = chilling(m, a, t, p_now, n_listed, n)
        elif m.deterrence_on and m.act_negative[a]:
            p_now = deterrence(m, S, a, t, e, p_now)
    return p_cand, p_now


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def file_record(m, out, S, T, t, subject, actor, a, dept, prov, c, q, n, n_blk, free_blk,
                n_rec):
    """File a record and schedule the day its department shares it."""
    n_rec = new_record(T.rec, n_rec, S.rec_head, S.rec_lists, subject, actor, a, dept, prov, t,
                       c, q, m, out, S.records_i, n)
    r = n_rec - 1
    if T.rec[r, R_DAY_ON] < m.n_days:
        n_blk, free_blk = push(T, n_blk, free_blk, PHASE_RECORDS, T.rec[r, R_DAY_ON], EV_REC_ON,
                               subject, r, 0, 0, 0.0)
    return n_blk, free_blk, n_rec


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def departments_record(m, out, S, T, t, e, a, c, key, n, E, n_blk, free_blk, n_rec):
    """Each department that records act a records it with its coverage, on its actor e or,
    misattributed, on another subject of the unit."""
    for qq in range(m.act_pair_ptr[a], m.act_pair_ptr[a + 1]):
        q = m.act_pair_idx[qq]
        v = uniform4(m.k0, m.k1, stream(RECORDING, q), key, c)
        if v[0] >= m.coverage[q, t]:
            continue
        dept = m.pair_dept[q]
        subject = e
        prov = PROV_TRUE
        lo, hi = (0, n) if e < n else (n, E)
        if hi - lo > 1 and v[1] < m.dept_misattr[dept, t]:
            subject = lo + int(v[2] * (hi - lo - 1))
            if subject >= e:
                subject += 1
            prov = PROV_MISATTRIBUTED
        n_blk, free_blk, n_rec = file_record(m, out, S, T, t, subject, e, a, dept, prov, c, q, n,
                                             n_blk, free_blk, n_rec)
    return n_blk, free_blk, n_rec


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def act(m, out, S, T, t, e, a, c, u1, p_base, key, n, E, n_listed, n_blk, free_blk, n_rec):
    """Candidate c of entity e's act a: schedule the next candidate; if today's rate keeps
    it (acceptance draw u1), the act happens and departments record it."""
    p_cand, p_now = act_rates(m, S, a, t, e, p_base, n, n_listed)
    x0, x1, _, _ = words4(m.k0, m.k1, stream(ACT, a), key, c + 1)
    t2 = t + geometric_gap(to_uniform(x0), p_cand)
    if t2 < m.n_days:
        n_blk, free_blk = push(T, n_blk, free_blk, PHASE_ACTS, t2, EV_ACT, e, a, c + 1, word(x1),
                               p_base)
    if u1 * p_cand >= p_now:
        return n_blk, free_blk, n_rec  # thinned: the act does not happen today
    out.acts[a, t] += 1
    return departments_record(m, out, S, T, t, e, a, c, key, n, E, n_blk, free_blk, n_rec)


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def false_record(m, out, S, T, t, i, q, c, u1, key, n, n_blk, free_blk, n_rec):
    """Candidate c of resident i's false-record chain of pair q (department, act):
    schedule the next; if today's rate keeps it, the department files a false record."""
    x0, x1, _, _ = words4(m.k0, m.k1, stream(FALSE_RECORD, q), key, c + 1)
    t2 = t + geometric_gap(to_uniform(x0), m.false_pmax[q])
    if t2 < m.n_days:
        n_blk, free_blk = push(T, n_blk, free_blk, PHASE_ACTS, t2, EV_FALSE, i, q, c + 1,
                               word(x1), 0.0)
    if u1 * m.false_pmax[q] >= m.false_p[q, t]:
        return n_blk, free_blk, n_rec
    return file_record(m, out, S, T, t, i, -1, m.pair_act[q], m.pair_dept[q], PROV_FALSE, c, q,
                       n, n_blk, free_blk, n_rec)


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def acts_phase(m, out, S, T, st, t, n, nf, gid0, fgid0, room_q, room_r):
    """Today's act and false-record candidates.  Returns DONE, or NEED_ROOM with the
    phase's scalars saved in ``st``."""
    n_blk = st[ST_NBLK]
    free_blk = st[ST_FREE]
    n_rec = st[ST_NREC]
    n_dirty = st[ST_NDIRTY]
    n_log = st[ST_NLOG]
    n_listed = st[ST_NLISTED]
    L = m.list_kind.size
    E = n + nf
    status = DONE
    while has_events(T, PHASE_ACTS, t):
        # before each step: room for what it may add, or stop; the caller grows the
        # tables and the loop resumes at this step
        if short_of_room(T, n_blk, n_rec, n_dirty, n_log, room_q, room_r, L):
            status = NEED_ROOM
            break
        bk, sl, free_blk = pop(T, free_blk, PHASE_ACTS, t)
        kind, e, b = T.evb[bk, sl, F_KIND], T.evb[bk, sl, F_ENTITY], T.evb[bk, sl, F_ARG]
        c = T.evb[bk, sl, F_COUNTER]
        u1 = to_uniform(unword(T.evb[bk, sl, F_WORD]))
        key = ident(e, n, gid0, fgid0)
        if kind == EV_ACT:
            n_blk, free_blk, n_rec = act(m, out, S, T, t, e, b, c, u1, T.evp[bk, sl], key, n, E,
                                         n_listed, n_blk, free_blk, n_rec)
        else:  # EV_FALSE
            n_blk, free_blk, n_rec = false_record(m, out, S, T, t, e, b, c, u1, key, n, n_blk,
                                                  free_blk, n_rec)
    st[ST_NBLK] = n_blk
    st[ST_FREE] = free_blk
    st[ST_NREC] = n_rec
    return status
