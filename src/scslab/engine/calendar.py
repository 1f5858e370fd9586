"""The calendar queue: the events of a unit, one bucket per (phase, day).

A bucket is a stack of blocks of ``BLOCK`` events: only its top block is partly full, and
its fill lives beside the top in ``top[phase, day]``, so a push touches no cold memory but
the slot it writes, and a day's events are read block by block, not by chasing a pointer
per event.  Last in, first out, as a linked list would be: a phase pops its bucket until
it is empty, so events pushed to today's bucket while it runs are seen too.

An event is ``N_EVF`` int32 fields (engine/layout.py: kind, entity, argument, counter,
carried word) in ``evb[block, slot]`` and a float64 rate in ``evp[block, slot]`` (stored
only when not 0: only act events read theirs, and theirs is positive, so the events of
other kinds, pushed with a literal 0, leave ``evp``'s cache lines alone);
``blk[block]`` links a block to the one below it, or to the next free block.  The arrays
live in ``Tables`` (engine/room.py) and grow between calls of the day loop; ``push`` and
``pop`` take them one by one (see engine/day_loop.py on why helpers take arrays).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scslab.engine.layout import F_ARG, F_COUNTER, F_ENTITY, F_KIND, F_WORD, N_EVF, N_PHASES

BLOCK = 16  # events per block


@njit(cache=True, nogil=True)
def new_calendar(n_days, n_blocks):
    """Empty bucket tops and an event store of ``n_blocks`` blocks."""
    top = np.empty((N_PHASES, n_days, 2), dtype=np.int32)
    top[:, :, 0] = -1  # no block
    top[:, :, 1] = BLOCK  # a full (absent) top block: the next push takes a new one
    evb = np.empty((n_blocks, BLOCK, N_EVF), dtype=np.int32)
    evp = np.empty((n_blocks, BLOCK))
    blk = np.empty(n_blocks, dtype=np.int32)
    return top, evb, evp, blk


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def push(top, evb, evp, blk, n_blk, free_blk, phase, day, kind, e, b, c, w, p):
    """Put an event on the stack of bucket (phase, day); the caller has made room (see
    engine/room.py).  Returns the blocks used and the free-block list."""
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
    evb[bk, k, F_KIND] = kind
    evb[bk, k, F_ENTITY] = e
    evb[bk, k, F_ARG] = b
    evb[bk, k, F_COUNTER] = c
    evb[bk, k, F_WORD] = w
    if p != 0.0:
        evp[bk, k] = p
    top[phase, day, 1] = k + 1
    return n_blk, free_blk


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def has_events(top, phase, day):
    return top[phase, day, 0] >= 0


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def pop(top, blk, free_blk, phase, day):
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
def word(x):
    """A Philox word (0 .. 2^32 - 1) as int32, to carry in an event (exactly invertible)."""
    return np.int32(np.int64(x) - 2147483648)


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def unword(w):
    return np.int64(w) + 2147483648
