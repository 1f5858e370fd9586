"""The event loop for one unit.

Work follows events, not residents x days:

* each (subject, act type) is a chain of candidate days drawn as geometric gaps, so a
  resident who never acts costs one draw; state-dependent rates (feedback loops) thin the
  candidates, so every scenario sees the same candidates (common random numbers);
* records turn on and off at scheduled days; listing is re-evaluated only for subjects
  whose records, obligations or linked subjects changed that day (and for everybody on a
  policy change day);
* attempts at actions are sampled only while a block or a green-channel benefit is
  possible.  Attempt days come from epoch-keyed draws, so a resident has the same attempt
  days in every scenario.

Residents and firms are both *entities* of the unit: entity e < n is resident e, entity
n + f is firm f.  They share one record store, score code and list code.

Events live in a calendar queue: one bucket per (phase, day), each a stack of blocks of
events (see _push).  Within a day the phases run in order: acts -> records and remedies
-> listing -> attempts -> metrics.

The day loop (_run_days) is compiled without reference counting: it never allocates or
rebinds an array.  When a table may run out of room it stops, the caller grows the table
and the loop resumes where it stopped, so results do not depend on table sizes.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from scslab.engine.compile import (
    LIFELONG,
    LIST_AT_LEAST,
    LIST_BELOW,
    LIST_ESCALATION,
    LIST_FIRM_LINKED,
    LIST_HOUSEHOLD,
    LIST_RECORD,
    NEVER,
)
from scslab.population.build import (
    build_attributes,
    build_households,
    resident_probabilities,
)
from scslab.rng import (
    ACT,
    APPEAL,
    ATTEMPT,
    ENFORCEMENT,
    FALSE_RECORD,
    FIRM,
    FIRM_IDENT,
    RECORDING,
    REMEDY,
    REPAIR,
    geometric_gap,
    stream,
    to_uniform,
    uniform4,
    words4,
)

# event kinds
EV_ACT, EV_FALSE, EV_REC_ON, EV_REC_OFF, EV_WAKE, EV_ATTEMPT = 0, 1, 2, 3, 4, 5
EV_PERFORM, EV_APPEAL, EV_REPAIR = 6, 7, 8
# phases of a day
PH_ACT, PH_REC, PH_ATT = 0, 1, 2
N_PHASES = 3
# record columns
# (int32: days, unit-local ids and points all fit; the keyed identity of a record's draws
# is its actor's, or for a false record its subject's, so it need not be stored)
(R_SUBJECT, R_ACTOR, R_ACT, R_DEPT, R_PROV, R_DAY_ACT, R_DAY_REC, R_DAY_ON, R_DAY_OFF,
 R_POINTS, R_NEXT, R_PERFORMED, R_REMOVED, R_EXT, R_KCTR, R_KSTREAM, R_ACTIVE,
 R_REMOVED_BY) = range(18)
N_RCOLS = 18
RECORD_DTYPE = np.int32
PROV_TRUE, PROV_FALSE, PROV_MISATTRIBUTED = 0, 1, 2
PROVENANCE = ("true", "false", "misattributed")
REMOVED_BY = ("", "appeal", "repair")
# per-group measures (residents)
GROUP_MEASURES = (
    "residents", "ever_listed", "listed_days", "ever_wrongful", "wrongful_days",
    "blocked", "blocked_wrongful", "final_score_sum", "records", "with_record",
    "green_days", "shocked", "trapped", "ever_blocked",
)
N_MEASURES = len(GROUP_MEASURES)
# per-period (calendar year) group measures
PERIOD_MEASURES = ("listed_days", "wrongful_days", "blocked", "blocked_wrongful",
                   "green_days", "new_listings")
N_PMEASURES = len(PERIOD_MEASURES)
SCORE_BIN = 10
SCORE_BINS = 201  # base - 1000 ... base + 1000 in steps of 10, clipped at both ends
ATTEMPT_EPOCH = 64
BLOCK = 16  # events per block of the calendar queue
N_EVF = 5  # event fields: kind, entity, b (act, record, ...), counter, carried word
FALSE_CTR = 1 << 40  # false records' keyed counters live above acts' counters

# the arrays of one unit that the day loop reads and writes in place
UnitState = namedtuple("UnitState", [
    "codes", "fcodes", "hh_lo", "hh_hi", "rep", "rep_ptr", "rep_firms", "p_att", "ext_act",
    "cap_val", "pts_all", "pts_true", "listed_mask", "wrongful", "listed_since",
    "wrong_since", "rec_head", "rec_lists", "neg_active", "tier", "src_since", "chain_active",
    "dirty", "shock_until", "shock_flag", "ever_listed", "ever_wrong", "shocked", "trapped",
    "listed_days", "wrong_days", "blocked_i", "blocked_wrong_i", "green_i", "records_i",
    "list_count", "dept_active", "tier_count",
])
# scalars of the day loop, saved in an int64 vector when it stops for room
(ST_T, ST_PH, ST_D, ST_NDIRTY, ST_NBLK, ST_FREE, ST_NREC, ST_NLOG, ST_NLISTED, ST_NWRONG,
 ST_RECACT, ST_NEW, ST_OFF) = range(13)
N_ST = 13
NEED_ROOM = 1
ROOM_DIRTY = 64  # dirty-list entries one evaluation may add (households have at most 50)

UnitOutputs = namedtuple(
    "UnitOutputs",
    [
        "listed", "listed_wrongful", "listed_new", "delisted", "records_active",
        "records_created", "records_by_prov", "acts", "blocked", "blocked_wrongful",
        "list_size", "group", "score_hist",
        "dept_active", "dept_created", "green_days", "fast_tracked", "tiers", "firm_tiers",
        "performed", "appeals_filed", "appeals_won", "repairs", "shocks",
        "spell_hist", "wrong_spell_hist", "fix_hist", "firms", "totals", "list_new",
        "group_period",
    ],
)


def new_outputs(n_days, n_acts, n_actions, n_lists, n_attr, width, n_depts=0,
                n_tiers=1, n_periods=1) -> UnitOutputs:
    """Zeroed metric accumulators; every unit adds into them."""
    def z(*shape):
        return np.zeros(shape, dtype=np.int64)

    return UnitOutputs(
        listed=z(n_days), listed_wrongful=z(n_days), listed_new=z(n_days),
        delisted=z(n_days), records_active=z(n_days), records_created=z(n_days),
        records_by_prov=z(3, n_days), acts=z(n_acts, n_days),
        blocked=z(n_actions, n_days), blocked_wrongful=z(n_actions, n_days),
        list_size=z(n_lists, n_days), group=np.zeros((n_attr, width, N_MEASURES)),
        score_hist=z(n_attr, width, SCORE_BINS),
        dept_active=z(n_depts, n_days), dept_created=z(n_depts, n_days),
        green_days=np.zeros((n_actions, n_days)), fast_tracked=z(n_actions, n_days),
        tiers=z(n_tiers, n_days), firm_tiers=z(n_tiers, n_days),
        performed=z(n_days), appeals_filed=z(n_days), appeals_won=z(n_days),
        repairs=z(n_days), shocks=z(n_days),
        spell_hist=z(n_days + 1), wrong_spell_hist=z(n_days + 1), fix_hist=z(n_days + 1),
        firms=z(1), totals=np.zeros(N_MEASURES), list_new=z(n_lists, n_days),
        group_period=np.zeros((n_periods, n_attr + 1, width, N_PMEASURES)),
    )


@njit(cache=True, nogil=True, _nrt=False)
def _period_add(gp, codes, i, mi, a, b, value, pstart):
    """Add ``value`` per day of days [a, b) (or ``value`` once at day a when b < 0) to
    measure ``mi`` of resident i's groups, split by period; the last attribute slot is
    'all residents'."""
    n_attr = codes.shape[0]
    for p in range(pstart.size):
        lo = pstart[p]
        hi = pstart[p + 1] if p + 1 < pstart.size else NEVER
        if b < 0:
            if not (lo <= a < hi):
                continue
            v = value
        else:
            ov = min(b, hi) - max(a, lo)
            if ov <= 0:
                continue
            v = value * ov
        for k in range(n_attr):
            gp[p, k, codes[k, i], mi] += v
        gp[p, n_attr, 0, mi] += v


@njit(cache=True, nogil=True)
def _grown(table):
    """The same table with twice the rows (only between calls of _run_days: an array that
    the day loop could rebind would cost reference-count atomics at every use)."""
    out = np.empty((table.shape[0] * 2,) + table.shape[1:], dtype=table.dtype)
    out[: table.shape[0]] = table
    return out


@njit(cache=True, nogil=True)
def _grown_queue(evb, evp, blk):
    """The event store with twice the blocks (see _grown)."""
    return _grown(evb), _grown(evp), _grown(blk)


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _push(evb, evp, blk, top, n_blk, free_blk, phase, day, kind, e, b, c, w, p):
    """Put an event on the stack of bucket (phase, day); the caller has made room (see
    _grown).

    A bucket is a stack of blocks of BLOCK events: only its top block is partly full, and
    its fill lives beside the top in ``top[phase, day]``, so a push touches no cold memory
    but the slot it writes, and a day's events are read block by block, not by chasing a
    pointer per event.  Last in, first out, as a linked list would be."""
    bk = top[phase, day, 0]
    k = top[phase, day, 1]
    if bk < 0 or k == BLOCK:
        if free_blk >= 0:
            nb = free_blk
            free_blk = blk[nb]
        else:
            nb = n_blk
            n_blk += 1
        blk[nb] = bk
        top[phase, day, 0] = nb
        bk = nb
        k = 0
    evb[bk, k, 0] = kind
    evb[bk, k, 1] = e
    evb[bk, k, 2] = b
    evb[bk, k, 3] = c
    evb[bk, k, 4] = w
    evp[bk, k] = p
    top[phase, day, 1] = k + 1
    return n_blk, free_blk


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _pop(blk, top, free_blk, phase, day):
    """Take the last event pushed to bucket (phase, day), which is not empty: its block and
    slot, and the new free-block list (a block emptied goes back to it; the caller reads
    the slot before it pushes again)."""
    bk = top[phase, day, 0]
    k = top[phase, day, 1] - 1
    if k == 0:
        top[phase, day, 0] = blk[bk]
        top[phase, day, 1] = BLOCK
        blk[bk] = free_blk
        free_blk = bk
    else:
        top[phase, day, 1] = k
    return bk, k, free_blk


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _word(x):
    """A Philox word (0 .. 2^32 - 1) as int32, to carry in an event (exactly invertible)."""
    return np.int32(np.int64(x) - 2147483648)


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _unword(w):
    return np.int64(w) + 2147483648


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _ident(e, n, gid0, fgid0):
    """Keyed identity of entity e: a resident's global id, or a firm's above FIRM_IDENT."""
    return np.int64(gid0 + e) if e < n else np.int64(FIRM_IDENT + fgid0 + e - n)


@njit(cache=True, nogil=True, _nrt=False)
def _effective_score(e, kind, pts, cap_val, m):
    """Entity e's score from its points: column 0 uncapped, column 1 + c capped at
    cap_val[c] either way; then clipped to the score's range."""
    s = m.score_base[kind] + pts[e, 0]
    for c in range(cap_val.size):
        s += min(max(pts[e, 1 + c], -cap_val[c]), cap_val[c])
    return min(max(s, m.score_min[kind]), m.score_max[kind])


@njit(cache=True, nogil=True, _nrt=False)
def _tier_of(score, kind, m):
    for j in range(m.n_tiers[kind]):
        if score >= m.tier_floor[kind, j]:
            return j
    return -1


@njit(cache=True, nogil=True, _nrt=False)
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


@njit(cache=True, nogil=True, _nrt=False)
def _multiplied(base, mult, codes, i):
    v = base
    for k in range(codes.shape[0]):
        v *= mult[k, codes[k, i]]
    return min(v, 1.0)


@njit(cache=True, nogil=True, _nrt=False)
def _mark(e, dirty, dirty_list, n_dirty):
    if not dirty[e]:
        dirty[e] = True
        dirty_list[n_dirty] = e
        n_dirty += 1
    return n_dirty


@njit(cache=True, nogil=True, _nrt=False)
def _new_record(rec, n_rec, rec_head, rec_lists, subject, actor, a, dept, prov, t, kctr, kstream,
                m, out, records_i, n):
    """File record number n_rec (the caller has made room): fill it, link it to its
    subject's records and count it.  Returns the new record count."""
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
    rec[n_rec, R_NEXT] = rec_head[subject]
    rec_head[subject] = n_rec
    rec_lists[subject] |= m.act_list_mask[a]
    rec[n_rec, R_PERFORMED] = NEVER
    rec[n_rec, R_REMOVED] = NEVER
    rec[n_rec, R_EXT] = 0
    rec[n_rec, R_KCTR] = kctr
    rec[n_rec, R_KSTREAM] = kstream
    rec[n_rec, R_ACTIVE] = 0
    rec[n_rec, R_REMOVED_BY] = 0
    out.records_created[t] += 1
    out.records_by_prov[prov, t] += 1
    out.dept_created[dept, t] += 1
    if subject < n:
        records_i[subject] += 1
    return n_rec + 1


@njit(cache=True, nogil=True, _nrt=False)
def _record_key(rec, r, n, gid0, fgid0):
    """(identity, counter, stream index) that key a record's own draws (remedies, appeal,
    repair): the actor's act counter, or the subject's false-record counter."""
    if rec[r, R_PROV] == PROV_FALSE:
        return (_ident(rec[r, R_SUBJECT], n, gid0, fgid0), FALSE_CTR + rec[r, R_KCTR],
                rec[r, R_KSTREAM])
    return (_ident(rec[r, R_ACTOR], n, gid0, fgid0), np.int64(rec[r, R_KCTR]),
            rec[r, R_KSTREAM])


@njit(cache=True, nogil=True, _nrt=False)
def _record_listing(rec, head_r, e, j, t, m):
    """Until when (exclusive) entity e is on record list j, on all records and on true
    records only: the latest end over its records of the list's acts."""
    best_all = 0
    best_true = 0
    bit = 1 << j
    r = head_r[e]
    while r >= 0:
        a = rec[r, R_ACT]
        on = rec[r, R_DAY_ON]
        if (m.act_list_mask[a] & bit) and on <= t and on >= m.list_start[j]:
            end = on + m.list_dur[j, on]
            if (rec[r, R_EXT] >> j) & 1:
                end += m.list_ext_days[j]
            if rec[r, R_PERFORMED] < NEVER:
                end = min(end, rec[r, R_PERFORMED] + m.perform_removal[a])
            end = min(end, rec[r, R_REMOVED])
            best_all = max(best_all, end)
            if rec[r, R_PROV] == PROV_TRUE:
                best_true = max(best_true, end)
        r = rec[r, R_NEXT]
    return best_all, best_true


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def _short_of_room(blk, n_blk, rec, n_rec, dirty_list, n_dirty, log, n_log, room_q, room_r,
                   room_log):
    """Whether a table may not hold what one step of the day loop can add: event blocks
    (one push each), records (one act's), dirty-list entries (one evaluation's re-marks)
    and trace rows (one evaluation's list changes).  simulate_unit grows exactly the
    tables short here, so the same test guards every step."""
    return (blk.size - n_blk < room_q or rec.shape[0] - n_rec < room_r
            or dirty_list.size - n_dirty < ROOM_DIRTY or log.shape[0] - n_log < room_log)


@njit(cache=True, nogil=True, _nrt=False)
def _save_state(st, t, ph, d, n_dirty, n_blk, free_blk, n_rec, n_log, n_listed, n_wrong,
                records_active, new_today, off_today):
    st[ST_T] = t
    st[ST_PH] = ph
    st[ST_D] = d
    st[ST_NDIRTY] = n_dirty
    st[ST_NBLK] = n_blk
    st[ST_FREE] = free_blk
    st[ST_NREC] = n_rec
    st[ST_NLOG] = n_log
    st[ST_NLISTED] = n_listed
    st[ST_NWRONG] = n_wrong
    st[ST_RECACT] = records_active
    st[ST_NEW] = new_today
    st[ST_OFF] = off_today


@njit(cache=True, nogil=True, _nrt=False)
def _run_days(m, out, S, st, top, evb, evp, blk, rec, dirty_list, log, n, nf, gid0, fgid0,
              room_q, room_r):
    """The day loop of one unit, from the point saved in ``st`` to the last day.

    Returns 0 when done, or NEED_ROOM at the first step that might outgrow the event
    store, the record table, the dirty list or the trace log; the caller grows it and
    calls again, and the loop resumes where it stopped.  Nothing here allocates or
    rebinds an array, so it compiles without reference counting: an array that a loop may
    rebind costs two atomic operations per use per iteration, which was most of the
    event loop's time."""
    D = m.n_days
    k0, k1 = m.k0, m.k1
    L = m.list_kind.size
    K = m.action_p.size
    E = n + nf
    codes = S.codes
    fcodes = S.fcodes
    hh_lo = S.hh_lo
    hh_hi = S.hh_hi
    rep = S.rep
    rep_ptr = S.rep_ptr
    rep_firms = S.rep_firms
    p_att = S.p_att
    ext_act = S.ext_act
    cap_val = S.cap_val
    pts_all = S.pts_all
    pts_true = S.pts_true
    listed_mask = S.listed_mask
    wrongful = S.wrongful
    listed_since = S.listed_since
    wrong_since = S.wrong_since
    rec_head = S.rec_head
    rec_lists = S.rec_lists
    neg_active = S.neg_active
    tier = S.tier
    src_since = S.src_since
    chain_active = S.chain_active
    dirty = S.dirty
    shock_until = S.shock_until
    shock_flag = S.shock_flag
    ever_listed = S.ever_listed
    ever_wrong = S.ever_wrong
    shocked = S.shocked
    trapped = S.trapped
    listed_days = S.listed_days
    wrong_days = S.wrong_days
    blocked_i = S.blocked_i
    blocked_wrong_i = S.blocked_wrong_i
    green_i = S.green_i
    records_i = S.records_i
    list_count = S.list_count
    dept_active = S.dept_active
    tier_count = S.tier_count
    t = st[ST_T]
    ph = st[ST_PH]
    d = st[ST_D]
    n_dirty = st[ST_NDIRTY]
    n_blk = st[ST_NBLK]
    free_blk = st[ST_FREE]
    n_rec = st[ST_NREC]
    n_log = st[ST_NLOG]
    n_listed = st[ST_NLISTED]
    n_wrong = st[ST_NWRONG]
    records_active = st[ST_RECACT]
    new_today = st[ST_NEW]
    off_today = st[ST_OFF]
    while t < D:
        if ph == 0:
            # ---- phase 0: acts and false records create records
            while top[PH_ACT, t, 0] >= 0:  # last in, first out: same-day pushes are seen too
                # before each step: room for what it may add, or stop; the caller grows
                # the tables and the loop resumes at this step
                if _short_of_room(blk, n_blk, rec, n_rec, dirty_list, n_dirty, log, n_log,
                                  room_q, room_r, L):
                    _save_state(st, t, ph, d, n_dirty, n_blk, free_blk, n_rec, n_log, n_listed,
                                n_wrong, records_active, new_today, off_today)
                    return NEED_ROOM
                bk, sl, free_blk = _pop(blk, top, free_blk, PH_ACT, t)
                kind, e, b, c = evb[bk, sl, 0], evb[bk, sl, 1], evb[bk, sl, 2], evb[bk, sl, 3]
                u1 = to_uniform(_unword(evb[bk, sl, 4]))
                ident = _ident(e, n, gid0, fgid0)
                if kind == EV_ACT:
                    a = b
                    s_act = stream(ACT, a)
                    p_base = evp[bk, sl]
                    p_cand = p_base
                    p_now = p_base
                    if e < n:
                        p_cand = min(1.0, p_base * m.act_shock[a])
                        if m.econ_on and shock_until[e] > t:
                            p_now = p_cand
                    if e < n:
                        if m.act_speech[a]:
                            if m.chill_on:
                                p_now *= 1.0 - m.chill_surveillance * m.act_scored[a, t]
                                share = n_listed / n / m.chill_share
                                p_now *= 1.0 - m.chill_salience * min(1.0, share)
                        elif m.det_on and m.act_negative[a]:
                            p_now *= 1.0 - m.det_general * m.act_scored[a, t]
                            if neg_active[e] > 0:
                                p_now *= 1.0 - m.det_personal
                    x0, x1, _, _ = words4(k0, k1, s_act, ident, c + 1)
                    t2 = t + geometric_gap(to_uniform(x0), p_cand)
                    if t2 < D:
                        n_blk, free_blk = _push(evb, evp, blk, top, n_blk, free_blk, PH_ACT, t2,
                                                EV_ACT, e, a, c + 1, _word(x1), p_base)
                    if u1 * p_cand >= p_now:
                        continue
                    out.acts[a, t] += 1
                    for qq in range(m.act_pair_ptr[a], m.act_pair_ptr[a + 1]):
                        q = m.act_pair_idx[qq]
                        v = uniform4(k0, k1, stream(RECORDING, q), ident, c)
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
                        n_rec = _new_record(rec, n_rec, rec_head, rec_lists, subject, e, a, dept,
                                            prov, t, c, q, m, out, records_i, n)
                        r = n_rec - 1
                        if rec[r, R_DAY_ON] < D:
                            n_blk, free_blk = _push(evb, evp, blk, top, n_blk, free_blk, PH_REC,
                                                    rec[r, R_DAY_ON], EV_REC_ON, subject, r, 0, 0,
                                                    0.0)
                else:  # EV_FALSE
                    q = b
                    s_f = stream(FALSE_RECORD, q)
                    x0, x1, _, _ = words4(k0, k1, s_f, ident, c + 1)
                    t2 = t + geometric_gap(to_uniform(x0), m.false_pmax[q])
                    if t2 < D:
                        n_blk, free_blk = _push(evb, evp, blk, top, n_blk, free_blk, PH_ACT, t2,
                                                EV_FALSE, e, q, c + 1, _word(x1), 0.0)
                    if u1 * m.false_pmax[q] >= m.false_p[q, t]:
                        continue
                    dept = m.pair_dept[q]
                    n_rec = _new_record(rec, n_rec, rec_head, rec_lists, e, -1, m.pair_act[q], dept,
                                        PROV_FALSE, t, c, q, m, out, records_i, n)
                    r = n_rec - 1
                    if rec[r, R_DAY_ON] < D:
                        n_blk, free_blk = _push(evb, evp, blk, top, n_blk, free_blk, PH_REC,
                                                rec[r, R_DAY_ON], EV_REC_ON, e, r, 0, 0, 0.0)

            ph = 1
        if ph == 1:
            # ---- phase 1: records turn on/off; remedies; wake-ups
            while top[PH_REC, t, 0] >= 0:  # last in, first out: same-day pushes are seen too
                if _short_of_room(blk, n_blk, rec, n_rec, dirty_list, n_dirty, log, n_log,
                                  room_q, room_r, L):
                    _save_state(st, t, ph, d, n_dirty, n_blk, free_blk, n_rec, n_log, n_listed,
                                n_wrong, records_active, new_today, off_today)
                    return NEED_ROOM
                bk, sl, free_blk = _pop(blk, top, free_blk, PH_REC, t)
                kind, e, r = evb[bk, sl, 0], evb[bk, sl, 1], evb[bk, sl, 2]
                if kind == EV_WAKE:
                    n_dirty = _mark(e, dirty, dirty_list, n_dirty)
                    continue
                a = rec[r, R_ACT]
                prov = rec[r, R_PROV]
                sign = 0
                if kind == EV_REC_ON:
                    if rec[r, R_REMOVED] < NEVER:
                        continue  # removed before the platform saw it
                    ret = m.retention[a, t]
                    day_off = NEVER if ret == LIFELONG else rec[r, R_DAY_REC] + ret
                    rec[r, R_DAY_OFF] = day_off
                    if day_off <= t:
                        rec[r, R_DAY_ON] = NEVER  # expired before the platform saw it
                        continue
                    pts = m.points[a, t]
                    rec[r, R_POINTS] = pts
                    rec[r, R_ACTIVE] = 1
                    sign = 1
                    if day_off < D:
                        n_blk, free_blk = _push(evb, evp, blk, top, n_blk, free_blk, PH_REC,
                                                day_off, EV_REC_OFF, e, r, 0, 0, 0.0)
                    kid, kc, ks = _record_key(rec, r, n, gid0, fgid0)
                    if ext_act[a] or (m.perform_p[a] > 0.0 and prov == PROV_TRUE):
                        rem = uniform4(k0, k1, stream(REMEDY, ks), kid, kc)
                    else:  # nothing would read the draw
                        rem = (1.0, 1.0, 1.0, 1.0)
                    lm = m.act_list_mask[a]
                    if lm:
                        for j in range(L):
                            if (lm >> j) & 1 and m.list_ext_p[j] > 0 and rem[1] < m.list_ext_p[j]:
                                rec[r, R_EXT] |= 1 << j  # this list's listing is extended
                    if m.perform_p[a] > 0.0 and prov == PROV_TRUE:
                        if e < n:
                            pp = _multiplied(m.perform_p[a], m.perform_mult[a], codes, e)
                        else:
                            pp = _multiplied(m.perform_p[a], m.perform_fmult[a], fcodes, e - n)
                        tp = t - 1 + geometric_gap(rem[0], pp)
                        if tp < D:
                            n_blk, free_blk = _push(evb, evp, blk, top, n_blk, free_blk, PH_REC,
                                                    max(tp, t), EV_PERFORM, e, r, 0, 0, 0.0)
                    if m.appeals_on and e < n and (pts < 0 or (lm & m.black_mask)):
                        v = uniform4(k0, k1, stream(APPEAL, ks), kid, kc)
                        notified = v[0] < m.appeal_notified[t]
                        if v[1] < (m.notice_if if notified else m.notice_else):
                            if prov != PROV_TRUE or v[2] < m.appeal_true:
                                out.appeals_filed[t] += 1
                                td = t + m.appeal_filing + m.appeal_review
                                if td < D:
                                    n_blk, free_blk = _push(evb, evp, blk, top, n_blk, free_blk,
                                                            PH_REC, td, EV_APPEAL, e, r, 0, 0, 0.0)
                    if m.repair_on and m.repair_act[a]:
                        w = uniform4(k0, k1, stream(REPAIR, ks), kid, kc)[0]
                        tr = t + m.repair_after - 1 + geometric_gap(w, m.repair_p)
                        if tr < D:
                            n_blk, free_blk = _push(evb, evp, blk, top, n_blk, free_blk, PH_REC,
                                                    max(tr, t), EV_REPAIR, e, r, 0, 0, 0.0)
                elif kind == EV_REC_OFF:
                    if rec[r, R_ACTIVE] == 0 or rec[r, R_DAY_OFF] != t:
                        continue  # stale: removed earlier
                    rec[r, R_ACTIVE] = 0
                    sign = -1
                elif kind == EV_PERFORM:
                    if rec[r, R_PERFORMED] < NEVER:
                        continue
                    rec[r, R_PERFORMED] = t
                    out.performed[t] += 1
                    td = t + m.perform_removal[a]
                    if td > t and td < D:
                        n_blk, free_blk = _push(evb, evp, blk, top, n_blk, free_blk, PH_REC, td,
                                                EV_WAKE, e, 0, 0, 0, 0.0)
                else:  # EV_APPEAL or EV_REPAIR: the record is removed
                    if rec[r, R_REMOVED] < NEVER:
                        continue
                    if kind == EV_APPEAL:
                        kid, kc, ks = _record_key(rec, r, n, gid0, fgid0)
                        v = uniform4(k0, k1, stream(APPEAL, ks), kid, kc)
                        if v[3] >= (m.success_true if prov == PROV_TRUE else m.success_wrong):
                            continue
                        out.appeals_won[t] += 1
                        if prov != PROV_TRUE:
                            out.fix_hist[min(t - rec[r, R_DAY_ON], D)] += 1
                        rec[r, R_REMOVED_BY] = 1
                    else:
                        out.repairs[t] += 1
                        rec[r, R_REMOVED_BY] = 2
                    rec[r, R_REMOVED] = t
                    if rec[r, R_ACTIVE] == 1:
                        rec[r, R_ACTIVE] = 0
                        rec[r, R_DAY_OFF] = t
                        sign = -1
                    n_dirty = _mark(e, dirty, dirty_list, n_dirty)
                if sign != 0:
                    pts = rec[r, R_POINTS]
                    records_active += sign
                    dept_active[rec[r, R_DEPT]] += sign
                    if pts < 0:
                        neg_active[e] += sign
                    col = 1 + m.cap_index[a]  # column 0 when uncapped
                    pts_all[e, col] += sign * pts
                    if prov == PROV_TRUE:
                        pts_true[e, col] += sign * pts
                n_dirty = _mark(e, dirty, dirty_list, n_dirty)

            ph = 2
        if ph == 2:
            # ---- listing: re-evaluate entities whose state changed (all, on policy days)
            if m.reeval_day[t]:
                for e in range(E):
                    n_dirty = _mark(e, dirty, dirty_list, n_dirty)
            new_today = 0
            off_today = 0
            d = 0
            ph = 3
        if ph == 3:
            while d < n_dirty:  # evaluation may mark linked entities (reps, households)
                if _short_of_room(blk, n_blk, rec, n_rec, dirty_list, n_dirty, log, n_log,
                                  room_q, room_r, L):
                    _save_state(st, t, ph, d, n_dirty, n_blk, free_blk, n_rec, n_log, n_listed,
                                n_wrong, records_active, new_today, off_today)
                    return NEED_ROOM
                e = dirty_list[d]
                d += 1
                dirty[e] = False
                kind = 0 if e < n else 1
                s_all = _effective_score(e, kind, pts_all, cap_val, m)
                s_true = _effective_score(e, kind, pts_true, cap_val, m)
                mask = 0
                right = 0
                for j in range(L):
                    if m.list_subject[j] != kind or t < m.list_start[j]:
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
                        until, until_true = 0, 0
                        if rec_lists[e] & bit:  # else there are no records to walk
                            until, until_true = _record_listing(rec, rec_head, e, j, t, m)
                        if until > t:
                            mask |= bit
                            if until < D:
                                n_blk, free_blk = _push(evb, evp, blk, top, n_blk, free_blk,
                                                        PH_REC, until, EV_WAKE, e, 0, 0, 0, 0.0)
                        if until_true > t:
                            right |= bit
                    elif kj == LIST_FIRM_LINKED:
                        src = m.list_src_mask[j]
                        for ff in range(rep_ptr[e], rep_ptr[e + 1]):
                            fm = listed_mask[n + rep_firms[ff]]
                            if fm & src:
                                mask |= bit
                                if (fm >> 32) & fm & src:
                                    right |= bit
                    elif kj == LIST_HOUSEHOLD:
                        src = m.list_src_mask[j]
                        for h in range(hh_lo[e], hh_hi[e]):
                            if h != e:
                                hm = listed_mask[h]
                                if hm & src:
                                    mask |= bit
                                    if (hm >> 32) & hm & src:
                                        right |= bit
                if kind == 1:  # escalation needs the firm's other lists first
                    for j in range(L):
                        if m.list_kind[j] != LIST_ESCALATION or t < m.list_start[j]:
                            continue
                        sb = 1 << m.list_esc_source[j]
                        if mask & sb:
                            if src_since[j, e] == NEVER:
                                src_since[j, e] = t
                            due = src_since[j, e] + m.list_esc_after[j]
                            if t >= due:
                                mask |= 1 << j
                                if right & sb:
                                    right |= 1 << j
                            elif due < D:
                                n_blk, free_blk = _push(evb, evp, blk, top, n_blk, free_blk,
                                                        PH_REC, due, EV_WAKE, e, 0, 0, 0, 0.0)
                        else:
                            src_since[j, e] = NEVER
                tr = _tier_of(s_all, kind, m)
                if kind == 1 and m.fixed_attr >= 0:
                    if m.fixed_tier[fcodes[m.fixed_attr, e - n]] >= 0:
                        tr = m.fixed_tier[fcodes[m.fixed_attr, e - n]]
                if tr != tier[e]:
                    if tier[e] >= 0:
                        tier_count[kind, tier[e]] -= 1
                    if tr >= 0:
                        tier_count[kind, tr] += 1
                    tier[e] = tr
                old = listed_mask[e] & 0xFFFFFFFF
                old_right = listed_mask[e] >> 32
                listed_mask[e] = mask | (right << 32)
                # linked entities follow both membership and rightfulness of their sources
                linked = (mask ^ old) | (right ^ old_right)
                if (kind == 1 and (linked & m.firm_linked_src)) or (
                        kind == 0 and (linked & m.household_src)):
                    if kind == 1:
                        n_dirty = _mark(rep[e - n], dirty, dirty_list, n_dirty)
                    else:
                        for h in range(hh_lo[e], hh_hi[e]):
                            if h != e:
                                n_dirty = _mark(h, dirty, dirty_list, n_dirty)
                if mask != old:
                    changed = mask ^ old
                    for j in range(L):
                        if changed & (1 << j):
                            on = 1 if mask & (1 << j) else 0
                            list_count[j] += 1 if on else -1
                            out.list_new[j, t] += on
                            if m.trace:
                                log[n_log, 0] = t
                                log[n_log, 1] = e
                                log[n_log, 2] = j
                                log[n_log, 3] = on * (1 if (right & (1 << j)) else 2)
                                n_log += 1
                if kind == 1:
                    continue
                was_black = (old & m.black_mask) != 0
                is_black = (mask & m.black_mask) != 0
                is_wrong = is_black and (mask & right & m.black_mask) == 0
                if is_black and not was_black:
                    n_listed += 1
                    new_today += 1
                    _period_add(out.group_period, codes, e, 5, t, -1, 1.0, m.period_start)
                    listed_since[e] = t
                    if ever_listed[e] and shock_flag[e]:
                        trapped[e] = True
                    ever_listed[e] = True
                elif was_black and not is_black:
                    n_listed -= 1
                    off_today += 1
                    listed_days[e] += t - listed_since[e]
                    _period_add(out.group_period, codes, e, 0, listed_since[e], t, 1.0,
                                m.period_start)
                    out.spell_hist[min(t - listed_since[e], D)] += 1
                if is_wrong and not wrongful[e]:
                    n_wrong += 1
                    wrong_since[e] = t
                    ever_wrong[e] = True
                elif wrongful[e] and not is_wrong:
                    n_wrong -= 1
                    wrong_days[e] += t - wrong_since[e]
                    _period_add(out.group_period, codes, e, 1, wrong_since[e], t, 1.0,
                                m.period_start)
                    out.wrong_spell_hist[min(t - wrong_since[e], D)] += 1
                wrongful[e] = is_wrong
                for k in range(K):
                    acts_on = mask & (m.action_restrict[k] | m.action_reward[k])
                    if acts_on and not chain_active[k, e]:
                        t1 = next_attempt(k0, k1, k, gid0 + e, t, p_att[k, e], D)
                        if t1 < D:
                            n_blk, free_blk = _push(evb, evp, blk, top, n_blk, free_blk, PH_ATT,
                                                    t1, EV_ATTEMPT, e, k, 0, 0, 0.0)
                            chain_active[k, e] = True
            n_dirty = 0
            ph = 4
        if ph == 4:
            # ---- phase 2: attempts at actions a list restricts or fast-tracks
            while top[PH_ATT, t, 0] >= 0:  # last in, first out: same-day pushes are seen too
                if _short_of_room(blk, n_blk, rec, n_rec, dirty_list, n_dirty, log, n_log,
                                  room_q, room_r, L):
                    _save_state(st, t, ph, d, n_dirty, n_blk, free_blk, n_rec, n_log, n_listed,
                                n_wrong, records_active, new_today, off_today)
                    return NEED_ROOM
                bk, sl, free_blk = _pop(blk, top, free_blk, PH_ATT, t)
                i, k = evb[bk, sl, 1], evb[bk, sl, 2]
                chain_active[k, i] = False
                mask = listed_mask[i] & 0xFFFFFFFF
                right = listed_mask[i] >> 32
                restricting = mask & m.action_restrict[k]
                if (mask & (m.action_restrict[k] | m.action_reward[k])) == 0:
                    continue
                blocked = restricting != 0 and (
                    uniform4(k0, k1, stream(ENFORCEMENT, k), gid0 + i, t)[0] < m.enforcement[k, t])
                if blocked:
                    out.blocked[k, t] += 1
                    blocked_i[i] += 1
                    _period_add(out.group_period, codes, i, 2, t, -1, 1.0, m.period_start)
                    if (restricting & right) == 0:
                        out.blocked_wrongful[k, t] += 1
                        blocked_wrong_i[i] += 1
                        _period_add(out.group_period, codes, i, 3, t, -1, 1.0, m.period_start)
                    if m.econ_on and m.shock_days[k] > 0:
                        shock_until[i] = max(shock_until[i], t + m.shock_days[k])
                        shock_flag[i] = True
                        shocked[i] = True
                        out.shocks[t] += 1
                elif (mask & m.action_reward[k]) and m.reward_days[k, t] > 0:
                    out.green_days[k, t] += m.reward_days[k, t]
                    out.fast_tracked[k, t] += 1
                    green_i[i] += m.reward_days[k, t]
                    _period_add(out.group_period, codes, i, 4, t, -1, m.reward_days[k, t],
                                m.period_start)
                t1 = next_attempt(k0, k1, k, gid0 + i, t + 1, p_att[k, i], D)
                if t1 < D:
                    n_blk, free_blk = _push(evb, evp, blk, top, n_blk, free_blk, PH_ATT, t1,
                                            EV_ATTEMPT, i, k, 0, 0, 0.0)
                    chain_active[k, i] = True

        # ---- metrics of the day
        out.listed[t] += n_listed
        out.listed_wrongful[t] += n_wrong
        out.listed_new[t] += new_today
        out.delisted[t] += off_today
        out.records_active[t] += records_active
        for j in range(L):
            out.list_size[j, t] += list_count[j]
        for j in range(dept_active.size):
            out.dept_active[j, t] += dept_active[j]
        for j in range(m.n_tiers[0]):
            out.tiers[j, t] += tier_count[0, j]
        for j in range(m.tier_floor.shape[1]):
            out.firm_tiers[j, t] += tier_count[1, j]
        ph = 0
        t += 1
    _save_state(st, t, ph, d, n_dirty, n_blk, free_blk, n_rec, n_log, n_listed, n_wrong,
                                        records_active, new_today, off_today)
    return 0


@njit(cache=True, nogil=True)
def simulate_unit(m, unit, gid0, n, fgid0, nf, out, tight=0):
    """Simulate one unit of ``n`` residents (global ids gid0 ...) and ``nf`` firms (global
    ids fgid0 ...); add its metrics to ``out``.  Returns the unit's records, list events
    and resident/firm arrays for tracing.

    ``tight=1`` starts every growable table at its smallest size, so the day loop stops
    for room as often as it can; the results are the same (a test checks it)."""
    D = m.n_days
    k0, k1 = m.k0, m.k1
    A = m.act_p.size
    P = m.pair_act.size
    L = m.list_kind.size
    K = m.action_p.size
    E = n + nf
    n_caps = 0
    for a in range(A):
        if m.cap_index[a] >= 0:
            n_caps += 1
    cap_val = np.zeros(n_caps, dtype=np.int64)  # the cap of each capped column
    for a in range(A):
        if m.cap_index[a] >= 0:
            cap_val[m.cap_index[a]] = m.cap[a]

    # ---- population: residents, households, firms, employers
    codes = build_attributes(k0, k1, gid0, n, m.attr_ncat, m.attr_cum)
    household = build_households(k0, k1, unit, n, m.hh_sizes, m.hh_cum)
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
    fcodes = np.zeros((m.fattr_ncat.size, nf), dtype=np.uint8)
    for k in range(m.fattr_ncat.size):
        cum = m.fattr_cum[k, : m.fattr_ncat[k]]
        for f in range(nf):
            u = uniform4(k0, k1, stream(FIRM, k), FIRM_IDENT + fgid0 + f, 0)[0]
            c = 0
            while c < cum.size - 1 and u >= cum[c]:
                c += 1
            fcodes[k, f] = c
    rep = np.empty(nf, dtype=np.int64)
    for f in range(nf):
        rep[f] = min(int(uniform4(k0, k1, stream(FIRM, 100), FIRM_IDENT + fgid0 + f, 0)[0]
                         * n), n - 1)
    rep_ptr = np.zeros(n + 1, dtype=np.int64)
    for f in range(nf):
        rep_ptr[rep[f] + 1] += 1
    for i in range(n):
        rep_ptr[i + 1] += rep_ptr[i]
    rep_firms = np.empty(nf, dtype=np.int64)
    fill = rep_ptr[:n].copy()
    for f in range(nf):
        rep_firms[fill[rep[f]]] = f
        fill[rep[f]] += 1
    employer = np.full(n, -1, dtype=np.int64)
    if nf > 0:
        for i in range(n):
            u = uniform4(k0, k1, stream(FIRM, 101), gid0 + i, 0)
            if u[0] < m.employed_share:
                employer[i] = min(int(u[1] * nf), nf - 1)

    p_res = resident_probabilities(m.act_p, m.act_mult, codes)
    p_firm = resident_probabilities(m.act_p, m.act_fmult, fcodes)
    p_att = resident_probabilities(m.action_p, m.action_mult, codes)

    ext_act = np.zeros(A, dtype=np.bool_)  # acts whose records may extend a listing
    for a in range(A):
        for j in range(L):
            if (m.act_list_mask[a] >> j) & 1 and m.list_ext_p[j] > 0:
                ext_act[a] = True

    # ---- entity state
    # points per entity, on all records and on true records only: column 0 uncapped,
    # column 1 + c capped (one row per entity, so a score reads one cache line)
    pts_all = np.zeros((E, 1 + n_caps), dtype=np.int32)
    pts_true = np.zeros((E, 1 + n_caps), dtype=np.int32)
    listed_mask = np.zeros(E, dtype=np.int64)  # low 32 bits: lists; high 32: rightful
    wrongful = np.zeros(E, dtype=np.bool_)
    listed_since = np.zeros(E, dtype=np.int32)
    wrong_since = np.zeros(E, dtype=np.int32)
    rec_head = np.full(E, -1, dtype=np.int32)
    rec_lists = np.zeros(E, dtype=np.int64)  # record lists any of e's records may feed
    neg_active = np.zeros(E, dtype=np.int32)
    tier = np.full(E, -2, dtype=np.int16)
    src_since = (np.full((L, E), NEVER, dtype=np.int32) if nf > 0
                 else np.zeros((0, 0), np.int32))
    chain_active = np.zeros((K, n), dtype=np.bool_)
    dirty = np.zeros(E, dtype=np.bool_)
    dirty_list = np.empty(E + ROOM_DIRTY, dtype=np.int64)
    shock_until = np.zeros(n, dtype=np.int32)
    shock_flag = np.zeros(n, dtype=np.bool_)
    # per-resident summaries
    ever_listed = np.zeros(n, dtype=np.bool_)
    ever_wrong = np.zeros(n, dtype=np.bool_)
    shocked = np.zeros(n, dtype=np.bool_)
    trapped = np.zeros(n, dtype=np.bool_)
    listed_days = np.zeros(n, dtype=np.int64)
    wrong_days = np.zeros(n, dtype=np.int64)
    blocked_i = np.zeros(n, dtype=np.int64)
    blocked_wrong_i = np.zeros(n, dtype=np.int64)
    green_i = np.zeros(n)
    records_i = np.zeros(n, dtype=np.int64)
    # counters
    list_count = np.zeros(L, dtype=np.int64)
    dept_active = np.zeros(m.dept_delay.size, dtype=np.int64)
    tier_count = np.zeros((2, m.tier_floor.shape[1]), dtype=np.int64)

    # calendar queue: stacks of event blocks per (phase, day); see _push
    top = np.empty((N_PHASES, D, 2), dtype=np.int32)
    top[:, :, 0] = -1
    top[:, :, 1] = BLOCK
    # room for every first candidate (so scheduling them never grows the store) and the
    # attempt chains; _run_days asks for more when it needs it
    first = P * n
    for a in range(A):
        first += n if m.act_subject[a] == 0 else nf
    n_blk0 = first // BLOCK + N_PHASES * D + 1
    if not tight:
        n_blk0 += (2 * n * K) // BLOCK + 64
    evb = np.empty((n_blk0, BLOCK, N_EVF), dtype=np.int32)
    evp = np.empty((n_blk0, BLOCK))
    blk = np.empty(n_blk0, dtype=np.int32)
    n_blk = 0
    free_blk = -1
    rec = np.empty((1 if tight else max(16, n // 4), N_RCOLS), dtype=RECORD_DTYPE)
    n_rec = 0
    log = np.empty((1 if tight else 16 if not m.trace else max(16, n), 4), dtype=np.int64)
    n_log = 0

    # ---- first candidate of every chain.  An act event carries its counter, its rate
    # and the acceptance word of its own Philox block (drawn with the block that set its
    # day), so popping it reads nothing per entity and draws one block, not two.
    for a in range(A):
        s_act = stream(ACT, a)
        lo, hi = (0, n) if m.act_subject[a] == 0 else (n, E)
        for e in range(lo, hi):
            p_base = p_res[a, e] if e < n else p_firm[a, e - n]
            p = p_base
            if e < n:  # candidates at the shocked rate whether or not the loop is on (CRN)
                p = min(1.0, p * m.act_shock[a])
            if p <= 0.0:
                continue
            x0, x1, _, _ = words4(k0, k1, s_act, _ident(e, n, gid0, fgid0), 0)
            t = -1 + geometric_gap(to_uniform(x0), p)
            if t < D:
                n_blk, free_blk = _push(evb, evp, blk, top, n_blk, free_blk, PH_ACT, t,
                                        EV_ACT, e, a, 0, _word(x1), p_base)
    for q in range(P):
        if m.false_pmax[q] > 0.0 and m.act_subject[m.pair_act[q]] == 0:
            s_f = stream(FALSE_RECORD, q)
            for i in range(n):
                x0, x1, _, _ = words4(k0, k1, s_f, gid0 + i, 0)
                t = -1 + geometric_gap(to_uniform(x0), m.false_pmax[q])
                if t < D:
                    n_blk, free_blk = _push(evb, evp, blk, top, n_blk, free_blk, PH_ACT, t,
                                            EV_FALSE, i, q, 0, _word(x1), 0.0)

    # ---- the days: _run_days stops when a table may run out of room; grow it, resume
    S = UnitState(codes, fcodes, hh_lo, hh_hi, rep, rep_ptr, rep_firms, p_att, ext_act, cap_val,
                  pts_all, pts_true, listed_mask, wrongful, listed_since, wrong_since, rec_head,
                  rec_lists, neg_active, tier, src_since, chain_active, dirty, shock_until,
                  shock_flag, ever_listed, ever_wrong, shocked, trapped, listed_days,
                  wrong_days, blocked_i, blocked_wrong_i, green_i, records_i, list_count,
                  dept_active, tier_count)
    max_pairs = 0
    for a in range(A):
        max_pairs = max(max_pairs, m.act_pair_ptr[a + 1] - m.act_pair_ptr[a])
    room_q = 8 + max_pairs + L + K  # blocks one step may take (one push each at most)
    room_r = 1 + max_pairs  # records one act may file
    st = np.zeros(N_ST, dtype=np.int64)
    st[ST_NBLK] = n_blk
    st[ST_FREE] = free_blk
    while _run_days(m, out, S, st, top, evb, evp, blk, rec, dirty_list, log,
                    n, nf, gid0, fgid0, room_q, room_r) == NEED_ROOM:
        if blk.size - st[ST_NBLK] < room_q:
            evb, evp, blk = _grown_queue(evb, evp, blk)
        if rec.shape[0] - st[ST_NREC] < room_r:
            rec = _grown(rec)
        if dirty_list.size - st[ST_NDIRTY] < ROOM_DIRTY:
            dirty_list = _grown(dirty_list)
        if log.shape[0] - st[ST_NLOG] < L:
            log = _grown(log)
    n_rec = st[ST_NREC]
    n_log = st[ST_NLOG]

    # ---- close open spells; add the unit's residents to their groups
    final_score = np.empty(E, dtype=np.int64)
    n_attr = codes.shape[0]
    measures = np.empty(N_MEASURES)
    for e in range(E):
        final_score[e] = _effective_score(e, 0 if e < n else 1, pts_all, cap_val, m)
    for i in range(n):
        if (listed_mask[i] & 0xFFFFFFFF & m.black_mask) != 0:
            listed_days[i] += D - listed_since[i]
            _period_add(out.group_period, codes, i, 0, listed_since[i], D, 1.0, m.period_start)
        if wrongful[i]:
            wrong_days[i] += D - wrong_since[i]
            _period_add(out.group_period, codes, i, 1, wrong_since[i], D, 1.0, m.period_start)
        b = (final_score[i] - (m.score_base[0] - 1000)) // SCORE_BIN
        b = min(max(b, 0), SCORE_BINS - 1)
        measures[0] = 1
        measures[1] = ever_listed[i]
        measures[2] = listed_days[i]
        measures[3] = ever_wrong[i]
        measures[4] = wrong_days[i]
        measures[5] = blocked_i[i]
        measures[6] = blocked_wrong_i[i]
        measures[7] = final_score[i]
        measures[8] = records_i[i]
        measures[9] = records_i[i] > 0
        measures[10] = green_i[i]
        measures[11] = shocked[i]
        measures[12] = trapped[i]
        measures[13] = blocked_i[i] > 0
        for mi in range(N_MEASURES):  # index, not views: a view per resident costs atomics
            out.totals[mi] += measures[mi]
            for k in range(n_attr):
                out.group[k, codes[k, i], mi] += measures[mi]
        for k in range(n_attr):
            out.score_hist[k, codes[k, i], b] += 1
    out.firms[0] += nf
    return (rec[:n_rec].copy(), log[:n_log].copy(), codes, household, final_score,
            listed_days, wrong_days, blocked_i, employer, fcodes, rep, green_i, trapped)
