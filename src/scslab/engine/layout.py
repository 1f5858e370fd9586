"""How one unit's data is laid out for the day loop: entities, events, records, list
memberships, the saved scalars of the loop, the state arrays and the metric sums.

Every index of the engine is named here once, so the phases read ``rec[r, R_DAY_ON]``
or ``M_LISTED_DAYS``, never a bare number.

Entities: residents and firms of a unit share one record store, score code and list code.
Entity ``e < n`` is resident ``e``; entity ``n + f`` is firm ``f``.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from scslab.rng import FIRM_IDENT

# ---- entities
RESIDENT_KIND, FIRM_KIND = 0, 1  # row of score_base, tier_floor, tier_count ...


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def ident(e, n, gid0, fgid0):
    """Keyed identity of entity e: a resident's global id, or a firm's above FIRM_IDENT."""
    return np.int64(gid0 + e) if e < n else np.int64(FIRM_IDENT + fgid0 + e - n)


# ---- events: what an event of the calendar queue means (engine/calendar.py stores them)
EV_ACT, EV_FALSE, EV_REC_ON, EV_REC_OFF, EV_WAKE, EV_ATTEMPT = 0, 1, 2, 3, 4, 5
EV_PERFORM, EV_APPEAL, EV_REPAIR = 6, 7, 8
# fields of an event: its kind, its entity, its argument (act, false-record pair, record
# or action), its keyed counter and a carried Philox word (an attempt: the draws of its
# epoch up to it); its rate is stored beside
(F_KIND, F_ENTITY, F_ARG, F_COUNTER, F_WORD) = range(5)
N_EVF = 5
# the calendar's phases of a day: each (phase, day) is one bucket of events
PHASE_ACTS, PHASE_RECORDS, PHASE_ATTEMPTS = 0, 1, 2
N_PHASES = 3

# ---- records: one int32 row each (days, unit-local ids and points all fit; the keyed
# identity of a record's draws is its actor's, or for a false record its subject's, so it
# need not be stored)
(R_SUBJECT, R_ACTOR, R_ACT, R_DEPT, R_PROV, R_DAY_ACT, R_DAY_REC, R_DAY_ON, R_DAY_OFF,
 R_POINTS, R_NEXT, R_PERFORMED, R_REMOVED, R_EXT, R_KCTR, R_KSTREAM, R_ACTIVE,
 R_REMOVED_BY) = range(18)
N_RCOLS = 18
RECORD_DTYPE = np.int32
PROV_TRUE, PROV_FALSE, PROV_MISATTRIBUTED = 0, 1, 2
PROVENANCE = ("true", "false", "misattributed")
NOT_REMOVED, REMOVED_BY_APPEAL, REMOVED_BY_REPAIR = 0, 1, 2
REMOVED_BY = ("", "appeal", "repair")

# ---- list memberships: listed_mask[e] holds the lists e is on in its low 32 bits, and
# the lists e would be on from true records only (rightfully) in its high 32 bits


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def lists_of(listed_mask):
    """The lists an entity is on (one bit per list)."""
    return listed_mask & 0xFFFFFFFF


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def rightful_of(listed_mask):
    """The lists an entity would be on from its true records only."""
    return listed_mask >> 32


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def listed_mask_of(lists, rightful):
    return lists | (rightful << 32)


# the trace log of list changes: one row per change
LOG_DAY, LOG_ENTITY, LOG_LIST, LOG_CHANGE = range(4)
N_LOG_COLS = 4
LOG_OFF, LOG_ON_RIGHTFUL, LOG_ON_WRONGFUL = 0, 1, 2  # values of LOG_CHANGE

# ---- scalars of the day loop, saved in an int64 vector between phases and when it stops
# for room: day, step of the day, next dirty entry, dirty entries, event blocks used, free
# block list, records, trace rows, residents listed (own route), wrongfully listed, active
# records, listings and delistings today, residents listed only through association and
# wrongfully so, accounts removed
(ST_T, ST_STEP, ST_D, ST_NDIRTY, ST_NBLK, ST_FREE, ST_NREC, ST_NLOG, ST_NLISTED, ST_NWRONG,
 ST_RECACT, ST_NEW, ST_OFF, ST_NASSOC, ST_NASSOC_WRONG, ST_NREMOVED) = range(16)
N_ST = 16
# steps of a day, in order (engine/day_loop.py); the loop resumes at the saved step
STEP_ACTS, STEP_RECORDS, STEP_LISTING_START, STEP_LISTING, STEP_ATTEMPTS = range(5)

# the arrays of one unit that the day loop reads and writes in place
UnitState = namedtuple("UnitState", [
    # population (population/): attribute codes, the groups each resident counts in
    # (children apart), minors, household ranges, firms' attributes and legal
    # representatives (rep_ptr/rep_firms: each resident's firms), attempt rates
    "codes", "gcodes", "is_child", "fcodes", "hh_lo", "hh_hi", "rep", "rep_ptr", "rep_firms",
    "p_att",
    # acts whose records may extend a listing; the cap of each capped score column
    "ext_act", "cap_val",
    # points on all records and on true records only: column 0 uncapped, 1 + c capped
    "pts_all", "pts_true",
    # lists and spells
    "listed_mask", "wrongful", "listed_since", "wrong_since", "rec_head", "rec_lists",
    "neg_active", "tier", "src_since", "chain_active", "dirty", "shock_until",
    # per-resident summaries: own-route listings (records, score, firm), listings only
    # through association (household), income shocks
    "ever_listed", "ever_wrong", "shocked", "listings_during_shock", "listings_i",
    "listed_days", "wrong_days", "blocked_i", "blocked_wrong_i", "green_channel_days_saved",
    "records_i", "ever_association", "association_since", "association_days",
    # awareness of the system: a keyed uniform per resident (empty when everybody is aware)
    # and exposure (1: a household member was listed, 2: listed oneself)
    "aware_u", "exposure",
    # lawful speech: posting rate of all residents, and of those whose account is removed
    "speech_rates", "account_removed",
    # counters
    "list_count", "dept_active", "tier_count",
    # log1p(-p) of the rates of act chains (rows 0..A-1) and false-record chains (rows
    # A + pair) and the bound of a gap beyond the last day, memoised (rng.gap_within)
    "gap_memo",
])

# ---- metric sums a unit adds into
# per-group measures (residents)
GROUP_MEASURES = (
    "residents", "ever_listed", "listed_days", "ever_wrongful", "wrongful_days",
    "blocked", "blocked_wrongful", "final_score_sum", "records", "with_record",
    "green_channel_days_saved", "shocked", "listings_during_shock", "ever_blocked",
    "ever_listed_association", "listed_association_days",
)
N_MEASURES = len(GROUP_MEASURES)
(M_RESIDENTS, M_EVER_LISTED, M_LISTED_DAYS, M_EVER_WRONGFUL, M_WRONGFUL_DAYS, M_BLOCKED,
 M_BLOCKED_WRONGFUL, M_FINAL_SCORE_SUM, M_RECORDS, M_WITH_RECORD, M_GREEN_CHANNEL_DAYS_SAVED,
 M_SHOCKED, M_LISTINGS_DURING_SHOCK, M_EVER_BLOCKED, M_EVER_LISTED_ASSOCIATION,
 M_LISTED_ASSOCIATION_DAYS) = range(N_MEASURES)
# per-period (calendar year) group measures
PERIOD_MEASURES = ("listed_days", "wrongful_days", "blocked", "blocked_wrongful",
                   "green_channel_days_saved", "new_listings")
N_PMEASURES = len(PERIOD_MEASURES)
(P_LISTED_DAYS, P_WRONGFUL_DAYS, P_BLOCKED, P_BLOCKED_WRONGFUL, P_GREEN_CHANNEL_DAYS_SAVED,
 P_NEW_LISTINGS) = range(N_PMEASURES)
SCORE_BIN = 10
SCORE_BINS = 201  # base - 1000 ... base + 1000 in steps of 10, clipped at both ends

UnitOutputs = namedtuple(
    "UnitOutputs",
    [
        "listed", "listed_wrongful", "listed_new", "delisted", "records_active",
        "records_created", "records_by_prov", "acts", "blocked", "blocked_wrongful",
        "list_size", "group", "score_hist",
        "dept_active", "dept_created", "green_channel_days_saved", "green_channel_uses",
        "tiers", "firm_tiers",
        "performed", "appeals_filed", "appeals_won", "repairs", "shocks",
        "spell_hist", "wrong_spell_hist", "fix_hist", "firms", "totals", "list_new",
        "group_period", "blocked_retry", "listed_association", "listed_association_wrongful",
        "lawful_posts", "lawful_speech_lost", "accounts_removed", "lawful_posts_removed",
        "speech_acts_removed",
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
        green_channel_days_saved=np.zeros((n_actions, n_days)),
        green_channel_uses=z(n_actions, n_days),
        tiers=z(n_tiers, n_days), firm_tiers=z(n_tiers, n_days),
        performed=z(2, n_days), appeals_filed=z(n_days), appeals_won=z(n_days),
        repairs=z(n_days), shocks=z(n_days),
        spell_hist=z(n_days + 1), wrong_spell_hist=z(n_days + 1), fix_hist=z(n_days + 1),
        firms=z(1), totals=np.zeros(N_MEASURES), list_new=z(n_lists, n_days),
        group_period=np.zeros((n_periods, n_attr + 1, width, N_PMEASURES)),
        blocked_retry=z(n_actions, n_days),
        listed_association=z(n_days), listed_association_wrongful=z(n_days),
        lawful_posts=z(n_days), lawful_speech_lost=z(n_days),  # millionths of a post
        accounts_removed=z(n_days), lawful_posts_removed=z(n_days),
        speech_acts_removed=z(n_days),
    )
