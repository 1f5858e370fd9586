"""Remedies: performing the obligation, appeals against records, credit repair.

Each is decided when a record turns on (phases/records.py), from draws keyed to the record
(its actor's act counter, or its subject's false-record counter), and takes effect as an
event of the records phase on its day:

* performance (true records of acts with a ``perform`` rate): the obligation is performed
  after a geometric wait, at a rate that depends on means (attribute multipliers) and,
  with a ``listed_multiplier``, rises while the subject is on a black list (candidates at
  the listed rate, thinned to the rate of the day by their own keyed draws); the record's
  listings end ``removal_days`` later;
* appeal (residents' negative or black-listing records): noticed (more often when
  notified), filed (always against a wrong record, sometimes against a true one), decided
  after filing and review; success removes the record;
* credit repair: after ``after_days``, at a daily rate, removes the record.
"""

from __future__ import annotations

from numba import njit

from scslab.rng import geometric_gap


@njit(cache=True, nogil=True, _nrt=False)
def multiplied(base, mult, codes, i):
    """``base`` times the multipliers of subject i's attribute categories, at most 1."""
    v = base
    for k in range(codes.shape[0]):
        v *= mult[k, codes[k, i]]
    return min(v, 1.0)


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def performance_rate(base, mult, fmult, codes, fcodes, e, n):
    """Entity e's daily rate of performing an obligation while not listed (residents' and
    firms' attribute multipliers)."""
    if e < n:
        return multiplied(base, mult, codes, e)
    return multiplied(base, fmult, fcodes, e - n)


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def performance_day(t, u, p):
    """The day the obligation of a record that turned on at day t is performed (it may be
    before t: then it is performed today), from the record's remedy draw ``u``."""
    return t - 1 + geometric_gap(u, p)


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def appeal_filed(v, notified_share, notice_if, notice_else, is_true, appeal_true):
    """Whether the subject notices a record and appeals against it, from the record's
    appeal draw ``v`` (words 0-2)."""
    notified = v[0] < notified_share
    if v[1] < (notice_if if notified else notice_else):
        if not is_true or v[2] < appeal_true:
            return True
    return False


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def appeal_won(v, is_true, success_true, success_wrong):
    """Whether the appeal succeeds, from word 3 of the record's appeal draw ``v``."""
    return not (v[3] >= (success_true if is_true else success_wrong))


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def repair_day(t, after, w, p):
    """The day credit repair removes a record that turned on at day t: not before
    ``after`` days, then at the daily rate ``p`` (from the record's repair draw ``w``)."""
    return t + after - 1 + geometric_gap(w, p)
