"""The floor: what a scenario must do, priced at this machine's cost of its cheapest parts.

Counts, from one run, the events the engine must process (acts, records on and off, list
entries and exits, attempts while listed) and the keyed random draws they need (one
Philox4x32 block, four uniforms, per act, false record and attempt; a few per resident
to build attributes and start chains), and prices them at the measured cost of
one Philox block plus one geometric gap (two logs), batched (a SIMD loop over independent
keys) and one at a time (scalar, as in the event loop).  Bytes: the per-resident state a unit must
hold, and whether a unit fits in cache.  Prints the floor next to the measured simulate time.

    python bench/floor.py --residents 1000000 --days 730
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from numba import njit

from scslab import api
from scslab.engine.runner import run_units
from scslab.rng import geometric_gap, stream, uniform4


@njit(cache=True)
def _batched(n, p):
    """n independent (Philox block + geometric gap) steps in a plain loop: the compiler
    vectorises it (SIMD), as a batched engine could for a unit's residents."""
    t = 0
    for i in range(n):
        t += geometric_gap(uniform4(1, 2, stream(3, 0), i, 7)[0], p)
    return t


@njit(cache=True)
def _one_at_a_time(n, p):
    """The same steps, each keyed by the previous result: scalar, as in an event loop."""
    t = 0
    for i in range(n):
        t += geometric_gap(uniform4(1, 2, stream(3, 0), i, t)[0], p)
    return t


def ns_per_draw(fn, n: int = 5_000_000) -> float:
    fn(10, 0.005)
    best = np.inf
    for _ in range(3):  # CPU time: the machine may be shared
        t0 = time.process_time()
        fn(n, 0.005)
        best = min(best, time.process_time() - t0)
    return 1e9 * best / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="minimal")
    ap.add_argument("--residents", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--unit-size", type=int, default=1_000)
    args = ap.parse_args()
    n, d = args.residents, args.days

    c = ns_per_draw(_batched)
    lat = ns_per_draw(_one_at_a_time)
    w = api.prepare(args.scenario, residents=1000, days=10, sets=["population.units=2"])
    run_units(w, range(w.units))
    cm = api.prepare(args.scenario, residents=n, days=d,
                     sets=[f"population.units={max(1, n // args.unit_size)}"])
    t0 = time.process_time()
    res = run_units(cm, range(cm.units))
    sim = time.process_time() - t0
    o = res.outputs
    acts, recs = int(o.acts.sum()), int(o.records_created.sum())
    changes = int(o.listed_new.sum() + o.delisted.sum())
    attempts = int(o.blocked.sum() + o.green_channel_uses.sum())
    a = cm.arrays
    n_act, n_pairs, n_attr = a.act_p.size, a.pair_act.size, a.attr_ncat.size
    false = int(o.records_by_prov[1].sum())
    # draws: per resident, its attributes and the first candidate of each act and
    # false-record chain; then one Philox block (four uniforms: accept, next gap,
    # recording, misattribution) per act, per false record and per attempt.
    draws = n * (n_attr + n_act + n_pairs) + acts + false + attempts
    events = acts + 2 * recs + changes + attempts
    floor = draws * c * 1e-9
    print(f"{args.scenario}: {n:,} residents x {d} days = {n * d:.3g} resident-days")
    print(f"events: acts {acts:,}  records {recs:,} (x2: on and off)  list changes "
          f"{changes:,}  attempts {attempts:,}  total {events:,} "
          f"({events / n:.1f} per resident, {events / (n * d):.4f} per resident-day)")
    print(f"keyed draws needed: {draws:,} ({draws / n:.1f} per resident)")
    print(f"one Philox block + geometric gap: {c:.1f} ns batched (SIMD), {lat:.1f} ns one "
          f"at a time (scalar)")
    floor1 = draws * lat * 1e-9
    print(f"compute floor, batched draws: {floor:.3f} s on one core = "
          f"{n * d / floor:.3g} resident-days/s; on 2 cores {n * d / floor * 2:.3g}")
    print(f"compute floor, one draw at a time: {floor1:.3f} s on one core = "
          f"{n * d / floor1:.3g} resident-days/s; on 2 cores {n * d / floor1 * 2:.3g}")
    print(f"measured simulate (1 thread, CPU time): {sim:.3f} s = "
          f"{n * d / sim:.3g} resident-days/s, "
          f"{1e9 * sim / events:.0f} ns per event, {sim / floor:.1f}x the batched floor, "
          f"{sim / floor1:.1f}x the one-at-a-time floor")
    state = 2 + 4 + 4 + 1  # score (int16) + true-score delta (int32) + chain counters + flags
    print(f"bytes: >= {state} B of state per resident ({state * n / 1e6:.0f} MB for all; "
          f"{state * args.unit_size / 1e3:.0f} kB per unit of {args.unit_size:,}, "
          f"cache-resident), plus ~{recs * 16 / n:.0f} B of live records per resident "
          f"(16 B each); outputs are per day, not per resident")


if __name__ == "__main__":
    main()
