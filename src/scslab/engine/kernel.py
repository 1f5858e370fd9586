"""The event loop for one unit.

Work follows events, not residents x days:

* each (resident, act type) is a chain of candidate days drawn as geometric gaps, so a
  resident who never acts costs one draw; state-dependent rates thin the candidates;
* records turn on and off at scheduled days; listing is re-evaluated only for residents
  whose records or listings changed that day (and for everybody on a policy change day);
* attempts at actions are sampled only while a block is possible (the resident is on a
  list that restricts the action).  Attempt days come from epoch-keyed draws, so a
  resident has the same attempt days in every scenario (common random numbers).

Events live in a calendar queue: one bucket per (phase, day).  Within a day the phases
run in order: acts -> records -> listing -> attempts -> metrics.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from scslab.engine.compile import (
    LIFELONG,
    LIST_AT_LEAST,
    LIST_BELOW,
    LIST_RECORD,
    NEVER,
)
from scslab.population.build import build_attributes, build_households, resident_probabilities
from scslab.rng import (
    ACT,
    ATTEMPT,
    ENFORCEMENT,
    FALSE_RECORD,
    RECORDING,
    geometric_gap,
    stream,
    uniform4,
)

# event kinds
EV_ACT, EV_FALSE, EV_REC_ON, EV_REC_OFF, EV_LIST_END, EV_ATTEMPT = 0, 1, 2, 3, 4, 5
# phases of a day
PH_ACT, PH_REC, PH_ATT = 0, 1, 2
N_PHASES = 3
# record columns
(R_SUBJECT, R_ACTOR, R_ACT, R_DEPT, R_PROV, R_DAY_ACT, R_DAY_REC, R_DAY_ON, R_DAY_OFF,
 R_POINTS) = range(10)
N_RCOLS = 10
PROV_TRUE, PROV_FALSE, PROV_MISATTRIBUTED = 0, 1, 2
PROVENANCE = ("true", "false", "misattributed")
# per-group measures
GROUP_MEASURES = (
    "residents", "ever_listed", "listed_days", "ever_wrongful", "wrongful_days",
    "blocked", "blocked_wrongful", "final_score_sum", "records", "with_record",
)
N_MEASURES = len(GROUP_MEASURES)
SCORE_BIN = 10
SCORE_BINS = 201  # base - 1000 ... base + 1000 in steps of 10, clipped at both ends
ATTEMPT_EPOCH = 64

UnitOutputs = namedtuple(
    "UnitOutputs",
    [
        "listed", "listed_wrongful", "listed_new", "delisted", "records_active",
        "records_created", "records_by_prov", "acts", "blocked", "blocked_wrongful",
        "list_size", "group", "score_hist",
    ],
)


def new_outputs(n_days, n_acts, n_actions, n_lists, n_attr, width) -> UnitOutputs:
    """Zeroed metric accumulators; every unit adds into them."""
    z = lambda *shape: np.zeros(shape, dtype=np.int64)  # noqa: E731
    return UnitOutputs(
        listed=z(n_days), listed_wrongful=z(n_days), listed_new=z(n_days),
        delisted=z(n_days), records_active=z(n_days), records_created=z(n_days),
        records_by_prov=z(3, n_days), acts=z(n_acts, n_days),
        blocked=z(n_actions, n_days), blocked_wrongful=z(n_actions, n_days),
        list_size=z(n_lists, n_days), group=np.zeros((n_attr, width, N_MEASURES)),
        score_hist=z(n_attr, width, SCORE_BINS),
    )


@njit(cache=True, nogil=True)
def _push(ev, n_used, free, head, phase, day, kind, a, b):
    if free >= 0:
        slot = free
        free = ev[slot, 3]
    else:
        if n_used == ev.shape[0]:
            grown = np.empty((ev.shape[0] * 2, 4), dtype=np.int32)
            grown[:n_used] = ev[:n_used]
            ev = grown
        slot = n_used
        n_used += 1
    ev[slot, 0] = kind
    ev[slot, 1] = a
    ev[slot, 2] = b
    ev[slot, 3] = head[phase, day]
    head[phase, day] = slot
    return ev, n_used, free


@njit(cache=True, nogil=True)
def _effective_score(i, raw, capsum, m):
    s = m.score_base + raw[i]
    for a in range(m.cap.size):
        c = m.cap_index[a]
        if c >= 0:
            v = capsum[c, i]
            cap = m.cap[a]
            s += min(max(v, -cap), cap)
    return min(max(s, m.score_min), m.score_max)


@njit(cache=True, nogil=True)
def next_attempt(k0, k1, action, gid, from_day, p, n_days):
    """First attempt day >= from_day of a resident's daily Bernoulli(p) attempt process.

    Days are generated per 64-day epoch from draws keyed by (resident, action, epoch), so
    the set of attempt days does not depend on when a scenario starts looking.
    """
    if p <= 0.0:
        return NEVER
    s = stream(ATTEMPT, action)
    e = from_day // ATTEMPT_EPOCH
    while e * ATTEMPT_EPOCH < n_days:
        t = e * ATTEMPT_EPOCH - 1
        n = 0
        end = (e + 1) * ATTEMPT_EPOCH
        while True:
            u = uniform4(k0, k1, s, gid, e * 65536 + n)[0]
            n += 1
            t += geometric_gap(u, p)
            if t >= end:
                break
            if t >= from_day:
                return t if t < n_days else NEVER
        e += 1
    return NEVER


@njit(cache=True, nogil=True)
def simulate_unit(m, unit, gid0, n, out):
    """Simulate one unit of ``n`` residents (global ids gid0 ...) and add its metrics to
    ``out``.  Returns the unit's records, list events and resident arrays for tracing."""
    D = m.n_days
    k0, k1 = m.k0, m.k1
    A = m.act_p.size
    P = m.pair_act.size
    L = m.list_kind.size
    K = m.action_p.size
    n_caps = 0
    for a in range(A):
        if m.cap_index[a] >= 0:
            n_caps += 1
    n_reclists = 0
    for j in range(L):
        if m.list_rec_index[j] >= 0:
            n_reclists += 1

    codes = build_attributes(k0, k1, gid0, n, m.attr_ncat, m.attr_cum)
    household = build_households(k0, k1, unit, n, m.hh_sizes, m.hh_cum)
    p_act = resident_probabilities(m.act_p, m.act_mult, codes)
    p_att = resident_probabilities(m.action_p, m.action_mult, codes)

    # resident state
    raw_all = np.zeros(n, dtype=np.int64)
    raw_true = np.zeros(n, dtype=np.int64)
    cap_all = np.zeros((n_caps, n), dtype=np.int64)
    cap_true = np.zeros((n_caps, n), dtype=np.int64)
    until_all = np.zeros((n_reclists, n), dtype=np.int64)
    until_true = np.zeros((n_reclists, n), dtype=np.int64)
    listed_mask = np.zeros(n, dtype=np.int64)
    wrongful = np.zeros(n, dtype=np.bool_)
    listed_since = np.zeros(n, dtype=np.int64)
    wrong_since = np.zeros(n, dtype=np.int64)
    chain_active = np.zeros((K, n), dtype=np.bool_)
    act_ctr = np.zeros((A, n), dtype=np.int64)
    false_ctr = np.zeros((P, n), dtype=np.int64)
    dirty = np.zeros(n, dtype=np.bool_)
    dirty_list = np.empty(n, dtype=np.int64)
    n_dirty = 0
    # per-resident summaries
    ever_listed = np.zeros(n, dtype=np.bool_)
    ever_wrong = np.zeros(n, dtype=np.bool_)
    listed_days = np.zeros(n, dtype=np.int64)
    wrong_days = np.zeros(n, dtype=np.int64)
    blocked_i = np.zeros(n, dtype=np.int64)
    blocked_wrong_i = np.zeros(n, dtype=np.int64)
    records_i = np.zeros(n, dtype=np.int64)
    # counters
    n_listed = 0
    n_wrong = 0
    records_active = 0
    list_count = np.zeros(L, dtype=np.int64)

    head = np.full((N_PHASES, D), -1, dtype=np.int32)
    ev = np.empty((max(16, 2 * n * (A + K) + 16), 4), dtype=np.int32)
    n_ev = 0
    free = -1
    rec = np.empty((max(16, n // 4), N_RCOLS), dtype=np.int64)
    n_rec = 0
    log = np.empty((16 if not m.trace else max(16, n), 4), dtype=np.int64)
    n_log = 0

    # first candidate of every chain
    for i in range(n):
        gid = gid0 + i
        for a in range(A):
            t = -1 + geometric_gap(uniform4(k0, k1, stream(ACT, a), gid, 0)[0], p_act[a, i])
            if t < D:
                ev, n_ev, free = _push(ev, n_ev, free, head, PH_ACT, t, EV_ACT, i, a)
        for q in range(P):
            if m.false_pmax[q] > 0.0:
                u = uniform4(k0, k1, stream(FALSE_RECORD, q), gid, 0)[0]
                t = -1 + geometric_gap(u, m.false_pmax[q])
                if t < D:
                    ev, n_ev, free = _push(ev, n_ev, free, head, PH_ACT, t, EV_FALSE, i, q)

    for t in range(D):
        # ---- phase 0: acts and false records create records
        slot = head[PH_ACT, t]
        while slot >= 0:
            kind, i, b = ev[slot, 0], ev[slot, 1], ev[slot, 2]
            nxt = ev[slot, 3]
            ev[slot, 3] = free
            free = slot
            slot = nxt
            gid = gid0 + i
            if kind == EV_ACT:
                a = b
                c = act_ctr[a, i]
                s_act = stream(ACT, a)
                u = uniform4(k0, k1, s_act, gid, c)
                p_cand = p_act[a, i]
                p_now = p_cand  # state-dependent rates (feedback loops) thin here
                act_ctr[a, i] = c + 1
                t2 = t + geometric_gap(uniform4(k0, k1, s_act, gid, c + 1)[0], p_cand)
                if t2 < D:
                    ev, n_ev, free = _push(ev, n_ev, free, head, PH_ACT, t2, EV_ACT, i, a)
                if u[1] * p_cand >= p_now:
                    continue
                out.acts[a, t] += 1
                for qq in range(m.act_pair_ptr[a], m.act_pair_ptr[a + 1]):
                    q = m.act_pair_idx[qq]
                    v = uniform4(k0, k1, stream(RECORDING, q), gid, c)
                    if v[0] >= m.coverage[q, t]:
                        continue
                    dept = m.pair_dept[q]
                    subject = i
                    prov = PROV_TRUE
                    if n > 1 and v[1] < m.dept_misattr[dept, t]:
                        subject = int(v[2] * (n - 1))
                        if subject >= i:
                            subject += 1
                        prov = PROV_MISATTRIBUTED
                    rec, n_rec = _new_record(rec, n_rec, subject, i, a, dept, prov, t, m)
                    out.records_created[t] += 1
                    out.records_by_prov[prov, t] += 1
                    records_i[subject] += 1
                    if rec[n_rec - 1, R_DAY_ON] < D:
                        ev, n_ev, free = _push(ev, n_ev, free, head, PH_REC,
                                               rec[n_rec - 1, R_DAY_ON], EV_REC_ON, 0,
                                               n_rec - 1)
            else:  # EV_FALSE
                q = b
                c = false_ctr[q, i]
                s_f = stream(FALSE_RECORD, q)
                u = uniform4(k0, k1, s_f, gid, c)
                false_ctr[q, i] = c + 1
                t2 = t + geometric_gap(uniform4(k0, k1, s_f, gid, c + 1)[0], m.false_pmax[q])
                if t2 < D:
                    ev, n_ev, free = _push(ev, n_ev, free, head, PH_ACT, t2, EV_FALSE, i, q)
                if u[1] * m.false_pmax[q] >= m.false_p[q, t]:
                    continue
                rec, n_rec = _new_record(rec, n_rec, i, -1, m.pair_act[q], m.pair_dept[q],
                                         PROV_FALSE, t, m)
                out.records_created[t] += 1
                out.records_by_prov[PROV_FALSE, t] += 1
                records_i[i] += 1
                if rec[n_rec - 1, R_DAY_ON] < D:
                    ev, n_ev, free = _push(ev, n_ev, free, head, PH_REC,
                                           rec[n_rec - 1, R_DAY_ON], EV_REC_ON, 0, n_rec - 1)

        # ---- phase 1: records turn on/off, record listings end
        slot = head[PH_REC, t]
        while slot >= 0:
            kind, i, b = ev[slot, 0], ev[slot, 1], ev[slot, 2]
            nxt = ev[slot, 3]
            ev[slot, 3] = free
            free = slot
            slot = nxt
            if kind == EV_LIST_END:
                if not dirty[i]:
                    dirty[i] = True
                    dirty_list[n_dirty] = i
                    n_dirty += 1
                continue
            r = b
            subject = rec[r, R_SUBJECT]
            a = rec[r, R_ACT]
            prov = rec[r, R_PROV]
            if kind == EV_REC_ON:
                ret = m.retention[a, t]
                day_off = NEVER if ret == LIFELONG else rec[r, R_DAY_REC] + ret
                rec[r, R_DAY_OFF] = day_off
                if day_off <= t:
                    rec[r, R_DAY_ON] = NEVER  # expired before the platform saw it
                    continue
                pts = m.points[a, t]
                rec[r, R_POINTS] = pts
                sign = 1
                records_active += 1
                if day_off < D:
                    ev, n_ev, free = _push(ev, n_ev, free, head, PH_REC, day_off, EV_REC_OFF,
                                           subject, r)
                lm = m.act_list_mask[a]
                j = 0
                while lm:
                    if lm & 1 and t >= m.list_start[j]:
                        li = m.list_rec_index[j]
                        until = t + m.list_dur[j, t]
                        if until > until_all[li, subject]:
                            until_all[li, subject] = until
                            if until < D:
                                ev, n_ev, free = _push(ev, n_ev, free, head, PH_REC, until,
                                                       EV_LIST_END, subject, j)
                        if prov == PROV_TRUE and until > until_true[li, subject]:
                            until_true[li, subject] = until
                    lm >>= 1
                    j += 1
            else:  # EV_REC_OFF
                pts = rec[r, R_POINTS]
                sign = -1
                records_active -= 1
            c = m.cap_index[a]
            if c >= 0:
                cap_all[c, subject] += sign * pts
                if prov == PROV_TRUE:
                    cap_true[c, subject] += sign * pts
            else:
                raw_all[subject] += sign * pts
                if prov == PROV_TRUE:
                    raw_true[subject] += sign * pts
            if not dirty[subject]:
                dirty[subject] = True
                dirty_list[n_dirty] = subject
                n_dirty += 1

        # ---- listing: re-evaluate residents whose state changed (or all, on policy days)
        if m.reeval_day[t]:
            for i in range(n):
                if not dirty[i]:
                    dirty[i] = True
                    dirty_list[n_dirty] = i
                    n_dirty += 1
        new_today = 0
        off_today = 0
        for d in range(n_dirty):
            i = dirty_list[d]
            dirty[i] = False
            s_all = _effective_score(i, raw_all, cap_all, m)
            s_true = _effective_score(i, raw_true, cap_true, m)
            mask = 0
            right = 0
            for j in range(L):
                if t < m.list_start[j]:
                    continue
                bit = 1 << j
                kj = m.list_kind[j]
                if kj == LIST_BELOW:
                    thr = m.list_thr[j, t]
                    if s_all < thr:
                        mask |= bit
                    if s_true < thr:
                        right |= bit
                elif kj == LIST_AT_LEAST:
                    thr = m.list_thr[j, t]
                    if s_all >= thr:
                        mask |= bit
                    if s_true >= thr:
                        right |= bit
                elif kj == LIST_RECORD:
                    li = m.list_rec_index[j]
                    if until_all[li, i] > t:
                        mask |= bit
                    if until_true[li, i] > t:
                        right |= bit
            old = listed_mask[i] & 0xFFFFFFFF
            if mask != old:
                changed = mask ^ old
                for j in range(L):
                    if changed & (1 << j):
                        on = 1 if mask & (1 << j) else 0
                        list_count[j] += 1 if on else -1
                        if m.trace:
                            if n_log == log.shape[0]:
                                grown = np.empty((2 * n_log, 4), dtype=np.int64)
                                grown[:n_log] = log[:n_log]
                                log = grown
                            log[n_log, 0] = t
                            log[n_log, 1] = i
                            log[n_log, 2] = j
                            log[n_log, 3] = on * (1 if (right & (1 << j)) else 2)
                            n_log += 1
            was_black = (old & m.black_mask) != 0
            is_black = (mask & m.black_mask) != 0
            is_wrong = is_black and (mask & right & m.black_mask) == 0
            if is_black and not was_black:
                n_listed += 1
                new_today += 1
                listed_since[i] = t
                ever_listed[i] = True
            elif was_black and not is_black:
                n_listed -= 1
                off_today += 1
                listed_days[i] += t - listed_since[i]
            if is_wrong and not wrongful[i]:
                n_wrong += 1
                wrong_since[i] = t
                ever_wrong[i] = True
            elif wrongful[i] and not is_wrong:
                n_wrong -= 1
                wrong_days[i] += t - wrong_since[i]
            wrongful[i] = is_wrong
            # right-ness per list is needed for wrongful blocks: keep it in the high bits
            listed_mask[i] = mask | (right << 32)
            for k in range(K):
                if (mask & m.action_restrict[k]) != 0 and not chain_active[k, i]:
                    t1 = next_attempt(k0, k1, k, gid0 + i, t, p_att[k, i], D)
                    if t1 < D:
                        ev, n_ev, free = _push(ev, n_ev, free, head, PH_ATT, t1, EV_ATTEMPT,
                                               i, k)
                        chain_active[k, i] = True
        n_dirty = 0

        # ---- phase 2: attempts at restricted actions
        slot = head[PH_ATT, t]
        while slot >= 0:
            i, k = ev[slot, 1], ev[slot, 2]
            nxt = ev[slot, 3]
            ev[slot, 3] = free
            free = slot
            slot = nxt
            chain_active[k, i] = False
            mask = listed_mask[i] & 0xFFFFFFFF
            right = listed_mask[i] >> 32
            restricting = mask & m.action_restrict[k]
            if restricting == 0:
                continue
            if uniform4(k0, k1, stream(ENFORCEMENT, k), gid0 + i, t)[0] < m.enforcement[k, t]:
                out.blocked[k, t] += 1
                blocked_i[i] += 1
                if (restricting & right) == 0:
                    out.blocked_wrongful[k, t] += 1
                    blocked_wrong_i[i] += 1
            t1 = next_attempt(k0, k1, k, gid0 + i, t + 1, p_att[k, i], D)
            if t1 < D:
                ev, n_ev, free = _push(ev, n_ev, free, head, PH_ATT, t1, EV_ATTEMPT, i, k)
                chain_active[k, i] = True

        # ---- metrics of the day
        out.listed[t] += n_listed
        out.listed_wrongful[t] += n_wrong
        out.listed_new[t] += new_today
        out.delisted[t] += off_today
        out.records_active[t] += records_active
        for j in range(L):
            out.list_size[j, t] += list_count[j]

    # close open spells and add the unit's residents to their groups
    final_score = np.empty(n, dtype=np.int64)
    n_attr = codes.shape[0]
    for i in range(n):
        if (listed_mask[i] & 0xFFFFFFFF & m.black_mask) != 0:
            listed_days[i] += D - listed_since[i]
        if wrongful[i]:
            wrong_days[i] += D - wrong_since[i]
        final_score[i] = _effective_score(i, raw_all, cap_all, m)
        b = (final_score[i] - (m.score_base - 1000)) // SCORE_BIN
        b = min(max(b, 0), SCORE_BINS - 1)
        for k in range(n_attr):
            g = out.group[k, codes[k, i]]
            g[0] += 1
            g[1] += ever_listed[i]
            g[2] += listed_days[i]
            g[3] += ever_wrong[i]
            g[4] += wrong_days[i]
            g[5] += blocked_i[i]
            g[6] += blocked_wrong_i[i]
            g[7] += final_score[i]
            g[8] += records_i[i]
            g[9] += records_i[i] > 0
            out.score_hist[k, codes[k, i], b] += 1
    return (rec[:n_rec].copy(), log[:n_log].copy(), codes, household, final_score,
            listed_days, wrong_days, blocked_i)


@njit(cache=True, nogil=True)
def _new_record(rec, n_rec, subject, actor, a, dept, prov, t, m):
    if n_rec == rec.shape[0]:
        grown = np.empty((rec.shape[0] * 2, N_RCOLS), dtype=np.int64)
        grown[:n_rec] = rec[:n_rec]
        rec = grown
    day_rec = t + m.dept_delay[dept]
    rec[n_rec, R_SUBJECT] = subject
    rec[n_rec, R_ACTOR] = actor
    rec[n_rec, R_ACT] = a
    rec[n_rec, R_DEPT] = dept
    rec[n_rec, R_PROV] = prov
    rec[n_rec, R_DAY_ACT] = t
    rec[n_rec, R_DAY_REC] = day_rec
    rec[n_rec, R_DAY_ON] = min(max(day_rec, m.dept_share_day[dept]), NEVER)
    rec[n_rec, R_DAY_OFF] = NEVER
    rec[n_rec, R_POINTS] = 0
    return rec, n_rec + 1
