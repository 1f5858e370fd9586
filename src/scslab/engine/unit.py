"""Simulate one unit: build its population, schedule its first events, run its days, add
its closing sums.

A unit is the unit of work: every interaction stays inside it, and its randomness is
keyed to (seed, unit, resident, stream), so it is identical whichever shard, thread or
worker runs it.  ``simulate_unit`` adds the unit's metric sums into a ``UnitOutputs``
(engine/layout.py); merging units is elementwise addition.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scslab.engine.calendar import BLOCK, new_calendar
from scslab.engine.compile import NEVER
from scslab.engine.day_loop import run_days
from scslab.engine.layout import (
    N_PHASES,
    N_RCOLS,
    N_ST,
    RECORD_DTYPE,
    ST_FREE,
    ST_NBLK,
    ST_NLOG,
    ST_NREC,
    UnitState,
)
from scslab.engine.phases.acts import schedule_first_acts
from scslab.engine.phases.awareness import awareness_draws
from scslab.engine.phases.listing import extending_acts
from scslab.engine.phases.metrics import add_closing_sums, final_scores
from scslab.engine.phases.speech import POSTING_ALL, posting_sum
from scslab.engine.room import NEED_ROOM, ROOM_DIRTY, Tables, grown_tables
from scslab.engine.score import cap_values
from scslab.population.build import (
    build_attributes,
    build_households,
    group_codes,
    household_ranges,
    mark_children,
    resident_probabilities,
    share_household_attributes,
)
from scslab.population.firms import (
    build_firm_attributes,
    employers,
    legal_representatives,
    weighted_representatives,
)
from scslab.rng import GAP_MEMO_COLS, GAP_MEMO_SLOTS


@njit(cache=True, nogil=True)
def representative_weights(rep_mult, codes, is_child):
    """Each resident's weight as a legal representative: the product of its attribute
    multipliers; 0 for a child."""
    n_attr, n = codes.shape
    w = np.ones(n)
    for i in range(n):
        if is_child[i]:
            w[i] = 0.0
            continue
        for k in range(n_attr):
            w[i] *= rep_mult[k, codes[k, i]]
    return w


@njit(cache=True, nogil=True)
def children_rates(p_res, p_att, employer, is_child, action_for_child):
    """Children commit no acts, work for no firm and attempt only the actions taken for
    a child; adults do not attempt those."""
    for i in range(is_child.size):
        if is_child[i]:
            p_res[:, i] = 0.0
            employer[i] = -1
        for k in range(action_for_child.size):
            if action_for_child[k] != is_child[i]:
                p_att[k, i] = 0.0


@njit(cache=True, nogil=True)
def new_state(codes, gcodes, is_child, fcodes, hh_lo, hh_hi, rep, rep_ptr, rep_firms, p_att,
              ext_act, cap_val, n, nf, n_lists, n_depts, n_tier_cols, aware_u, n_removable,
              n_chain_kinds):
    """The unit's state arrays, every entity at the start: no points, no lists, no tier.
    ``aware_u`` holds each resident's awareness draw (empty when everybody is aware);
    ``n_removable`` is n when a list removes accounts, else 0; ``n_chain_kinds`` counts
    the acts and department-act pairs (rows of the gap memo)."""
    gap_memo = np.zeros((n_chain_kinds, GAP_MEMO_SLOTS, GAP_MEMO_COLS))
    gap_memo[:, :, 0] = -1.0  # no rate is negative: every slot empty
    E = n + nf
    n_cols = 1 + cap_val.size
    # escalation: since when a firm is on each list's source (residents need none)
    src_since = np.zeros((0, 0), np.int32)
    if nf > 0:
        src_since = np.full((n_lists, E), NEVER, dtype=np.int32)
    return UnitState(
        codes, gcodes, is_child, fcodes, hh_lo, hh_hi, rep, rep_ptr, rep_firms, p_att,
        ext_act, cap_val,
        # one row per entity, so a score reads one cache line; int64, so no sum of valid
        # points (|points| <= 100,000 a record) can overflow
        np.zeros((E, n_cols), dtype=np.int64), np.zeros((E, n_cols), dtype=np.int64),
        np.zeros(E, dtype=np.int64),  # listed_mask
        np.zeros(E, dtype=np.bool_),  # wrongful
        np.zeros(E, dtype=np.int32), np.zeros(E, dtype=np.int32),  # listed/wrong since
        np.full(E, -1, dtype=np.int32),  # rec_head
        np.zeros(E, dtype=np.int64),  # rec_lists: record lists any of e's records may feed
        np.zeros(E, dtype=np.int32),  # neg_active
        np.full(E, -2, dtype=np.int16),  # tier
        src_since,
        np.zeros((p_att.shape[0], n), dtype=np.bool_),  # chain_active (or exhausted)
        np.zeros(E, dtype=np.bool_),  # dirty
        np.zeros(n, dtype=np.int32),  # shock_until
        np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_),  # ever listed, wrong
        np.zeros(n, dtype=np.bool_),  # shocked
        np.zeros(n, dtype=np.int32), np.zeros(n, dtype=np.int32),  # listings in shock, all
        np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64),  # listed, wrong days
        np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64),  # blocked, wrongfully
        np.zeros(n),  # green_channel_days_saved
        np.zeros(n, dtype=np.int64),  # records_i
        np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.int32),  # association: ever, since
        np.zeros(n, dtype=np.int64),  # association_days
        aware_u, np.zeros(aware_u.size, dtype=np.int8),  # awareness draw, exposure
        np.zeros(2),  # speech_rates: lawful posting of all residents, of removed accounts
        np.zeros(n_removable, dtype=np.bool_),  # account_removed
        np.zeros(n_lists, dtype=np.int64),  # list_count
        np.zeros(n_depts, dtype=np.int64),  # dept_active
        np.zeros((2, n_tier_cols), dtype=np.int64),  # tier_count
        gap_memo,
    )


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
    L = m.list_kind.size
    K = m.action_p.size
    E = n + nf

    # ---- population: residents, households, firms, employers
    codes = build_attributes(k0, k1, gid0, n, m.attr_ncat, m.attr_cum)
    household = build_households(k0, k1, unit, n, m.hh_sizes, m.hh_cum)
    hh_lo, hh_hi = household_ranges(household)
    is_child = mark_children(k0, k1, unit, household, hh_lo, hh_hi, m.child_share,
                             m.child_counts, m.child_cum)
    if m.child_attr >= 0:
        for i in range(n):
            if is_child[i]:
                codes[m.child_attr, i] = m.child_code
    share_household_attributes(k0, k1, gid0, codes, hh_lo, is_child, m.attr_rho, m.child_attr)
    gcodes = group_codes(codes, is_child, m.child_attr, m.child_slot)
    fcodes = build_firm_attributes(k0, k1, fgid0, nf, m.fattr_ncat, m.fattr_cum)
    if m.rep_on:
        rep, rep_ptr, rep_firms = weighted_representatives(
            k0, k1, fgid0, nf, representative_weights(m.rep_mult, codes, is_child))
    else:
        rep, rep_ptr, rep_firms = legal_representatives(k0, k1, fgid0, nf, n)
    employer = employers(k0, k1, gid0, n, nf, m.employed_share)
    p_res = resident_probabilities(m.act_p, m.act_mult, codes)
    p_firm = resident_probabilities(m.act_p, m.act_fmult, fcodes)
    p_att = resident_probabilities(m.action_p, m.action_mult, codes)
    children_rates(p_res, p_att, employer, is_child, m.action_for_child)
    S = new_state(codes, gcodes, is_child, fcodes, hh_lo, hh_hi, rep, rep_ptr, rep_firms, p_att,
                  extending_acts(m.act_list_mask, m.list_ext_p), cap_values(m.cap_index, m.cap),
                  n, nf, L, m.dept_delay.size, m.tier_floor.shape[1],
                  awareness_draws(k0, k1, gid0, n if m.awareness_on else 0),
                  n if m.removal_mask else 0, A + m.pair_act.size)
    if m.lawful_on:
        S.speech_rates[POSTING_ALL] = posting_sum(m.lawful_rate, m.lawful_mult, codes, n)

    # ---- tables: room for every first candidate (so scheduling them never grows the
    # store) and the attempt chains; run_days asks for more when it needs it
    first = m.pair_act.size * n
    for a in range(A):
        first += n if m.act_subject[a] == 0 else nf
    n_blk0 = first // BLOCK + N_PHASES * D + 1
    if not tight:
        n_blk0 += (2 * n * K) // BLOCK + 64
    top, evb, evp, blk = new_calendar(D, n_blk0)
    rec = np.empty((1 if tight else max(16, n // 4), N_RCOLS), dtype=RECORD_DTYPE)
    log = np.empty((1 if tight else 16 if not m.trace else max(16, n), 4), dtype=np.int64)
    T = Tables(top, evb, evp, blk, rec, np.empty(E + ROOM_DIRTY, dtype=np.int64), log)

    # ---- the days: run_days stops when a table may run out of room; grow it, resume
    n_blk, free_blk = schedule_first_acts(m, T, p_res, p_firm, n, nf, gid0, fgid0, is_child,
                                          S.gap_memo)
    max_pairs = 0
    for a in range(A):
        max_pairs = max(max_pairs, m.act_pair_ptr[a + 1] - m.act_pair_ptr[a])
    room_q = 8 + max_pairs + L + K  # blocks one step may take (one push each at most)
    if m.child_share > 0.0:  # a guardian's listing starts its children's chains
        room_q += K * m.child_counts.max()
    room_r = 1 + max_pairs  # records one act may file
    st = np.zeros(N_ST, dtype=np.int64)
    st[ST_NBLK] = n_blk
    st[ST_FREE] = free_blk
    while run_days(m, out, S, T, st, n, nf, gid0, fgid0, room_q, room_r) == NEED_ROOM:
        T = grown_tables(T, st, room_q, room_r, L)

    # ---- closing sums: open spells, groups, scores
    final_score = np.empty(E, dtype=np.int64)
    final_scores(m, S, final_score, n)
    add_closing_sums(m, out, S, final_score, n, nf)
    return (T.rec[: st[ST_NREC]].copy(), T.log[: st[ST_NLOG]].copy(), codes, household,
            final_score, S.listed_days, S.wrong_days, S.blocked_i, employer, fcodes, rep,
            S.green_channel_days_saved, S.shocked, S.listings_i, S.listings_during_shock,
            S.is_child)
