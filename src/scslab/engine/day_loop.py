"""The day loop of one unit: the order of one simulated day, written once.

Work follows events, not residents x days.  Each day runs these steps, each a phase of
engine/phases/, and each reads its events from its own bucket of the calendar queue
(engine/calendar.py):

1. acts (phases/acts.py): act candidates due today, thinned by the feedback loops
   (economic shock, chilling, deterrence); departments record the acts that happen, with
   misattribution, and file false records.  New records are scheduled to turn on when
   their department shares them.
2. records (phases/records.py): records turn on (points, retention, listing extension,
   and the remedies decided: performance, appeal, credit repair) and off; remedies take
   effect (phases/remedies.py); wake-ups.  Each change marks its entity.
3. listing (phases/listing.py): every marked entity (everybody on a policy change day)
   is re-evaluated: score lists, record lists, firm-linked lists, household association,
   escalation, tier, list counts and trace rows, listing spells, and attempt chains for
   the actions its lists restrict or reward.  Linked entities it changes are marked and
   evaluated today too.
4. exposure (phases/exposure.py): attempts at actions a list restricts or rewards:
   sanctions (blocked, wrongfully or not; income shocks) and the green channel.
5. metrics (phases/metrics.py): the day's stocks and flows.

Scalars of the loop (the day, the step, table fills, counts) live in the int64 vector
``st`` (engine/layout.py) between steps, so the loop can stop before any step that may
outgrow a table and resume there after ``simulate_unit`` grows it (engine/room.py).

Only the phase functions, each inlined once into ``run_days``, take the unit's tuples
(``m``, ``out``, ``S``, ``T``); every function they call takes arrays and scalars.  numba
copies a tuple passed to an inlined function whole at each call site: with the model's
arrays passed to some forty mechanism functions, the day loop took twice as long to
compile.
"""

from __future__ import annotations

from numba import njit

from scslab.engine.layout import (
    ST_STEP,
    ST_T,
    STEP_ACTS,
    STEP_ATTEMPTS,
    STEP_LISTING,
    STEP_LISTING_START,
    STEP_RECORDS,
)
from scslab.engine.phases.acts import acts_phase
from scslab.engine.phases.exposure import attempts_phase
from scslab.engine.phases.listing import listing_phase, listing_start
from scslab.engine.phases.metrics import add_day_sums
from scslab.engine.phases.records import records_phase
from scslab.engine.room import DONE, NEED_ROOM


@njit(cache=True, nogil=True, _nrt=False)
def run_days(m, out, S, T, st, n, nf, gid0, fgid0, room_q, room_r):
    """The days of one unit, from the step saved in ``st`` to the end of the last day.

    Returns DONE, or NEED_ROOM at the first step that might outgrow a table of ``T``;
    the caller grows it and calls again.  Nothing here allocates or rebinds an array, so
    it compiles without reference counting (engine/room.py says why)."""
    D = m.n_days
    while st[ST_T] < D:
        t = st[ST_T]
        if st[ST_STEP] == STEP_ACTS:
            if acts_phase(m, out, S, T, st, t, n, nf, gid0, fgid0, room_q, room_r) == NEED_ROOM:
                return NEED_ROOM
            st[ST_STEP] = STEP_RECORDS
        if st[ST_STEP] == STEP_RECORDS:
            if records_phase(m, out, S, T, st, t, n, gid0, fgid0, room_q, room_r) == NEED_ROOM:
                return NEED_ROOM
            st[ST_STEP] = STEP_LISTING_START
        if st[ST_STEP] == STEP_LISTING_START:
            listing_start(m, S, T, st, t, n + nf)
            st[ST_STEP] = STEP_LISTING
        if st[ST_STEP] == STEP_LISTING:
            if listing_phase(m, out, S, T, st, t, n, gid0, room_q, room_r) == NEED_ROOM:
                return NEED_ROOM
            st[ST_STEP] = STEP_ATTEMPTS
        if st[ST_STEP] == STEP_ATTEMPTS:
            if attempts_phase(m, out, S, T, st, t, gid0, room_q, room_r) == NEED_ROOM:
                return NEED_ROOM
        add_day_sums(m, out, S, st, t, n)
        st[ST_STEP] = STEP_ACTS
        st[ST_T] = t + 1
    return DONE
