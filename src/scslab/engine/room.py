"""The tables of a unit that grow, and the rule that keeps the day loop from outgrowing them.

The day loop is compiled without reference counting: it never allocates or rebinds an
array, because an array that a loop may rebind costs two atomic operations per use per
iteration, which was most of the event loop's time.  So before each step it checks that
every table can hold what one step may add (``short_of_room``); if not, it saves its
scalars and stops, ``simulate_unit`` grows the short tables (``grown_tables``) and the
loop resumes at the same step.  Results do not depend on table sizes (a test checks it).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from scslab.engine.layout import ST_NBLK, ST_NDIRTY, ST_NLOG, ST_NREC

# the growable tables of one unit: the calendar queue (bucket tops, event blocks, their
# rates and links; engine/calendar.py), the record table, the dirty list of entities to
# re-evaluate and the trace log of list changes
Tables = namedtuple("Tables", ["top", "evb", "evp", "blk", "rec", "dirty_list", "log"])

DONE, NEED_ROOM = 0, 1  # what the day loop and each of its phases return
ROOM_DIRTY = 64  # dirty-list entries one evaluation may add (households have at most 50)


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def short_of_room(blk, n_blk, rec, n_rec, dirty_list, n_dirty, log, n_log, room_q, room_r,
                  room_log):
    """Whether a table may not hold what one step of the day loop can add: event blocks
    (``room_q``, one push each), records (``room_r``, one act's), dirty-list entries (one
    evaluation's re-marks) and trace rows (``room_log``, one evaluation's list changes).
    ``grown_tables`` grows exactly the tables short here, so the same test guards every
    step."""
    return (blk.size - n_blk < room_q or rec.shape[0] - n_rec < room_r
            or dirty_list.size - n_dirty < ROOM_DIRTY or log.shape[0] - n_log < room_log)


@njit(cache=True, nogil=True)
def grown(table):
    """The same table with twice the rows (only between calls of the day loop)."""
    out = np.empty((table.shape[0] * 2,) + table.shape[1:], dtype=table.dtype)
    out[: table.shape[0]] = table
    return out


@njit(cache=True, nogil=True)
def grown_tables(T, st, room_q, room_r, room_log):
    """The tables with every table that ``short_of_room`` finds short doubled."""
    evb, evp, blk, rec, dirty_list, log = T.evb, T.evp, T.blk, T.rec, T.dirty_list, T.log
    if blk.size - st[ST_NBLK] < room_q:
        evb, evp, blk = grown(evb), grown(evp), grown(blk)
    if rec.shape[0] - st[ST_NREC] < room_r:
        rec = grown(rec)
    if dirty_list.size - st[ST_NDIRTY] < ROOM_DIRTY:
        dirty_list = grown(dirty_list)
    if log.shape[0] - st[ST_NLOG] < room_log:
        log = grown(log)
    return Tables(T.top, evb, evp, blk, rec, dirty_list, log)
