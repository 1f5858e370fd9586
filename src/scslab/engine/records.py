"""The record store of a unit: a record's row, the key of its own draws, and how long its
records keep an entity on a record list.

Records are int32 rows of ``Tables.rec`` (columns in engine/layout.py); each entity's
records form a linked list from ``rec_head[e]`` through ``R_NEXT``, newest first.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scslab.engine.compile import NEVER
from scslab.engine.layout import (
    NOT_REMOVED,
    PROV_FALSE,
    PROV_TRUE,
    R_ACT,
    R_ACTIVE,
    R_ACTOR,
    R_DAY_ACT,
    R_DAY_OFF,
    R_DAY_ON,
    R_DAY_REC,
    R_DEPT,
    R_EXT,
    R_KCTR,
    R_KSTREAM,
    R_NEXT,
    R_PERFORMED,
    R_POINTS,
    R_PROV,
    R_REMOVED,
    R_REMOVED_BY,
    R_SUBJECT,
    ident,
)

FALSE_CTR = 1 << 40  # false records' keyed counters live above acts' counters


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def new_record(rec, n_rec, rec_head, subject, actor, a, dept, prov, t, day_rec, day_on, kctr,
               kstream):
    """Fill record number n_rec (the caller has made room) and link it to its subject's
    records.  Returns the new record count."""
    rec[n_rec, R_SUBJECT] = subject
    rec[n_rec, R_ACTOR] = actor
    rec[n_rec, R_ACT] = a
    rec[n_rec, R_DEPT] = dept
    rec[n_rec, R_PROV] = prov
    rec[n_rec, R_DAY_ACT] = t
    rec[n_rec, R_DAY_REC] = day_rec
    rec[n_rec, R_DAY_ON] = day_on
    rec[n_rec, R_DAY_OFF] = NEVER
    rec[n_rec, R_POINTS] = 0
    rec[n_rec, R_NEXT] = rec_head[subject]
    rec_head[subject] = n_rec
    rec[n_rec, R_PERFORMED] = NEVER
    rec[n_rec, R_REMOVED] = NEVER
    rec[n_rec, R_EXT] = 0
    rec[n_rec, R_KCTR] = kctr
    rec[n_rec, R_KSTREAM] = kstream
    rec[n_rec, R_ACTIVE] = 0
    rec[n_rec, R_REMOVED_BY] = NOT_REMOVED
    return n_rec + 1


@njit(cache=True, nogil=True, _nrt=False)
def record_key(rec, r, n, gid0, fgid0):
    """(identity, counter, stream index) that key a record's own draws (remedies, appeal,
    repair): the actor's act counter, or the subject's false-record counter."""
    if rec[r, R_PROV] == PROV_FALSE:
        return (ident(rec[r, R_SUBJECT], n, gid0, fgid0), FALSE_CTR + rec[r, R_KCTR],
                rec[r, R_KSTREAM])
    return (ident(rec[r, R_ACTOR], n, gid0, fgid0), np.int64(rec[r, R_KCTR]),
            rec[r, R_KSTREAM])


@njit(cache=True, nogil=True, _nrt=False)
def record_listing(rec, rec_head, e, j, t, act_list_mask, list_start, list_dur, ext_days,
                   perform_removal):
    """Until when (exclusive) entity e is on record list j, on all records and on true
    records only: the latest end over its records of the list's acts (a listing lasts
    ``list_dur[j, day on]``, plus ``ext_days`` if the record extends it; it ends
    ``perform_removal`` days after the obligation is performed, or when the record is
    removed)."""
    best_all = 0
    best_true = 0
    bit = 1 << j
    r = rec_head[e]
    while r >= 0:
        a = rec[r, R_ACT]
        on = rec[r, R_DAY_ON]
        if (act_list_mask[a] & bit) and on <= t and on >= list_start:
            end = on + list_dur[j, on]
            if (rec[r, R_EXT] >> j) & 1:
                end += ext_days
            if rec[r, R_PERFORMED] < NEVER:
                end = min(end, rec[r, R_PERFORMED] + perform_removal[a])
            end = min(end, rec[r, R_REMOVED])
            best_all = max(best_all, end)
            if rec[r, R_PROV] == PROV_TRUE:
                best_true = max(best_true, end)
        r = rec[r, R_NEXT]
    return best_all, best_true
