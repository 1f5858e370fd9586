"""Exposure: residents attempt actions, and a listed resident meets its sanctions or its
green channel.

Attempts are sampled only while a block or a green-channel benefit is possible: a chain of
attempt days starts when a resident joins a list that restricts or rewards an action, and
ends at the first attempt after the resident has left every such list.  Attempt days come
from epoch-keyed draws (``next_attempt``), so a resident has the same attempt days in every
scenario.

* sanction: an attempt at an action restricted by one of the resident's lists is blocked
  with the action's enforcement probability; the block is wrongful when no list the
  resident is rightfully on restricts the action; a blocked job or loan may start an
  income shock (the economic feedback loop, see phases/acts.py).
* green channel: an attempt at an action rewarded by one of the resident's lists, and not
  blocked, saves ``green_channel_days`` waiting days.
* retry: a blocked attempt is tried again ``retry_days`` later with ``retry_p``; a retry
  is an event of its own (its counter numbers the retries), outside the attempt chain, and
  a blocked retry may be retried in turn.  Its draws (whether to retry, whether the retry
  is enforced) are keyed to (resident, action, day, retry number) on their own stream.
* growth: the attempt chain runs at the action's peak growth multiplier and keeps a
  candidate day with probability growth / peak (``action_growth_accept``), from the same
  keyed draw block that set the day.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scslab.engine.calendar import has_events, pop, push
from scslab.engine.compile import NEVER
from scslab.engine.layout import (
    EV_ATTEMPT,
    F_ARG,
    F_COUNTER,
    F_ENTITY,
    F_WORD,
    P_BLOCKED,
    P_BLOCKED_WRONGFUL,
    P_GREEN_CHANNEL_DAYS_SAVED,
    PHASE_ATTEMPTS,
    ST_FREE,
    ST_NBLK,
    ST_NDIRTY,
    ST_NLOG,
    ST_NREC,
    lists_of,
    rightful_of,
)
from scslab.engine.phases.metrics import period_add
from scslab.engine.room import DONE, NEED_ROOM, short_of_room
from scslab.rng import ATTEMPT, ENFORCEMENT, RETRY, geometric_gap_log, stream, uniform4

ATTEMPT_EPOCH = 64  # days per epoch of keyed attempt draws
MAX_RETRIES = 1023  # retries of one blocked attempt (keys: day * 1024 + retry number)


@njit(cache=True, nogil=True, _nrt=False)
def next_attempt(k0, k1, action, gid, from_day, p, n_days, accept, last_day, last_draws):
    """First attempt day >= from_day of a resident's daily Bernoulli(p) attempt process,
    each candidate day d kept with probability ``accept[d]`` (growth thinning), and the
    draws of its epoch up to it (NEVER, 0 if none).

    Days are generated per 64-day epoch from draws keyed by (resident, action, epoch), so
    the set of attempt days does not depend on when a scenario starts looking.  A chain
    passes its last attempt day and that day's draw count (``last_day`` < from_day, or -1):
    when it lies in from_day's epoch, the search goes on from it instead of drawing the
    epoch again from its start, which gives the same days.
    """
    if p <= 0.0:
        return NEVER, 0
    log1m_p = np.log1p(-p)  # once per search, not per draw
    s = stream(ATTEMPT, action)
    e = from_day // ATTEMPT_EPOCH
    t = e * ATTEMPT_EPOCH - 1
    n = 0
    if last_day >= 0 and last_day // ATTEMPT_EPOCH == e:
        t = last_day
        n = last_draws
    while e * ATTEMPT_EPOCH < n_days:
        end = (e + 1) * ATTEMPT_EPOCH
        while True:
            u = uniform4(k0, k1, s, gid, e * 65536 + n)
            n += 1
            t += geometric_gap_log(u[0], p, log1m_p)
            if t >= end:
                break
            if t >= from_day:
                if t >= n_days:
                    return NEVER, 0
                if accept[t] >= 1.0 or u[1] < accept[t]:
                    return t, n
        e += 1
        t = e * ATTEMPT_EPOCH - 1
        n = 0
    return NEVER, 0


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def start_attempts(top, evb, evp, blk, n_blk, free_blk, chain_active, p_att, sanction_lists,
                   green_channel_lists, k0, k1, t, i, gid0, lists, n_days, accept):
    """Start resident i's attempt chain at every action whose lists restrict or reward it,
    if i is on one of them and the chain is not running (called when i's lists are
    re-evaluated).

    A chain with no attempt day left before the end is marked running too, with no event:
    ``next_attempt`` from a later day would find none either (its days do not depend on
    the day it starts looking), so it is never searched again.  Without this, every
    evaluation of a listed resident searched every epoch to the end for its rare
    actions."""
    if lists == 0:  # on no list: no chain to start (most evaluations)
        return n_blk, free_blk
    for k in range(sanction_lists.size):
        acts_on = lists & (sanction_lists[k] | green_channel_lists[k])
        if acts_on and not chain_active[k, i]:
            t1, w1 = next_attempt(k0, k1, k, gid0 + i, t, p_att[k, i], n_days, accept[k], -1,
                                  0)
            if t1 < n_days:
                n_blk, free_blk = push(top, evb, evp, blk, n_blk, free_blk, PHASE_ATTEMPTS, t1,
                                       EV_ATTEMPT, i, k, 0, w1, 0.0)
            chain_active[k, i] = True
    return n_blk, free_blk


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def guardian_lists(listed_mask, hh_lo, hh_hi, is_child, i):
    """The lists any adult of child i's household is on, and those it is rightfully on:
    what blocks or fast-tracks an action taken for the child."""
    lists, rightful = 0, 0
    for h in range(hh_lo[i], hh_hi[i]):
        if not is_child[h]:
            lm = listed_mask[h]
            lists |= lists_of(lm)
            rightful |= rightful_of(lm) & lists_of(lm)
    return lists, rightful


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def enforced(k0, k1, k, gid, t, enforcement):
    """Whether resident gid's restricted attempt at action k on day t is enforced (the
    enforcement draw is keyed to the resident, the action and the day)."""
    return uniform4(k0, k1, stream(ENFORCEMENT, k), gid, t)[0] < enforcement


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def retry_draws(k0, k1, k, gid, t, r):
    """(retried, enforced) uniforms of attempt number r (0: the chain's attempt, 1...:
    retries) of resident gid at action k on day t: whether a block of it is retried, and
    whether it (a retry) is enforced."""
    v = uniform4(k0, k1, stream(RETRY, k), gid, t * (MAX_RETRIES + 1) + r)
    return v[0], v[1]


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def attempts_phase(m, out, S, T, st, t, gid0, room_q, room_r):
    """Today's attempts at actions a list restricts or rewards.  Returns DONE, or
    NEED_ROOM with the phase's scalars saved in ``st``."""
    top, evb, evp, blk = T.top, T.evb, T.evp, T.blk
    listed_mask, chain_active, p_att, codes = S.listed_mask, S.chain_active, S.p_att, S.gcodes
    gp, pstart = out.group_period, m.period_start
    D = m.n_days
    n_blk = st[ST_NBLK]
    free_blk = st[ST_FREE]
    n_rec = st[ST_NREC]
    n_dirty = st[ST_NDIRTY]
    n_log = st[ST_NLOG]
    L = m.list_kind.size
    status = DONE
    while has_events(top, PHASE_ATTEMPTS, t):
        if short_of_room(blk, n_blk, T.rec, n_rec, T.dirty_list, n_dirty, T.log, n_log,
                         room_q, room_r, L):
            status = NEED_ROOM
            break
        bk, sl, free_blk = pop(top, blk, free_blk, PHASE_ATTEMPTS, t)
        i, k, r = evb[bk, sl, F_ENTITY], evb[bk, sl, F_ARG], evb[bk, sl, F_COUNTER]
        draws = evb[bk, sl, F_WORD]  # a chain attempt's draws in its epoch (next_attempt)
        if m.action_for_child[k]:  # taken for child i: its guardians' lists count
            lists, rightful = guardian_lists(listed_mask, S.hh_lo, S.hh_hi, S.is_child, i)
        else:
            lists = lists_of(listed_mask[i])
            rightful = rightful_of(listed_mask[i])
        restricting = lists & m.sanction_lists[k]
        blocked = False
        u_retry = 1.0
        if r > 0:  # a retry: outside the chain; blocked, or it goes through
            if restricting == 0:
                continue
            u_retry, u_enf = retry_draws(m.k0, m.k1, k, gid0 + i, t, r)
            if u_enf >= m.enforcement[k, t]:
                continue
            out.blocked_retry[k, t] += 1
        else:
            chain_active[k, i] = False
            if (lists & (m.sanction_lists[k] | m.green_channel_lists[k])) == 0:
                continue  # off every list that restricts or rewards k: the chain ends
            blocked = restricting != 0 and enforced(m.k0, m.k1, k, gid0 + i, t,
                                                    m.enforcement[k, t])
            if blocked and m.retry_p[k] > 0.0:
                u_retry = retry_draws(m.k0, m.k1, k, gid0 + i, t, 0)[0]
        if r > 0 or blocked:
            # sanction: blocked, wrongfully when no list i is rightfully on restricts k
            out.blocked[k, t] += 1
            S.blocked_i[i] += 1
            period_add(gp, codes, i, P_BLOCKED, t, -1, 1.0, pstart)
            if (restricting & rightful) == 0:
                out.blocked_wrongful[k, t] += 1
                S.blocked_wrong_i[i] += 1
                period_add(gp, codes, i, P_BLOCKED_WRONGFUL, t, -1, 1.0, pstart)
            if m.economic_on and m.shock_days[k] > 0:
                # economic feedback: an income shock (phases/acts.py reads shock_until)
                S.shock_until[i] = max(S.shock_until[i], t + m.shock_days[k])
                S.shocked[i] = True
                out.shocks[t] += 1
            if m.retry_p[k] > 0.0 and r < MAX_RETRIES and u_retry < m.retry_p[k]:
                t2 = t + m.retry_days[k]
                if t2 < D:
                    n_blk, free_blk = push(top, evb, evp, blk, n_blk, free_blk,
                                           PHASE_ATTEMPTS, t2, EV_ATTEMPT, i, k, r + 1, 0, 0.0)
            if r > 0:
                continue  # a retry does not advance the chain
        elif (lists & m.green_channel_lists[k]) and m.green_channel_days[k, t] > 0:
            # green channel: the attempt saves waiting days
            out.green_channel_days_saved[k, t] += m.green_channel_days[k, t]
            out.green_channel_uses[k, t] += 1
            S.green_channel_days_saved[i] += m.green_channel_days[k, t]
            period_add(gp, codes, i, P_GREEN_CHANNEL_DAYS_SAVED, t, -1,
                       m.green_channel_days[k, t], pstart)
        # the chain's next attempt, its search going on from this one's draws
        t1, w1 = next_attempt(m.k0, m.k1, k, gid0 + i, t + 1, p_att[k, i], D,
                              m.action_growth_accept[k], t, draws)
        if t1 < D:
            n_blk, free_blk = push(top, evb, evp, blk, n_blk, free_blk, PHASE_ATTEMPTS, t1,
                                   EV_ATTEMPT, i, k, 0, w1, 0.0)
        chain_active[k, i] = True  # running, or with no attempt left (start_attempts)
    st[ST_NBLK] = n_blk
    st[ST_FREE] = free_blk
    return status
