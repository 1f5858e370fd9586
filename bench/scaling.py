"""Scaling table: time, peak memory and events for residents x years.

Each cell runs in its own subprocess, so its peak RSS (``resource.getrusage``) is its own:
``prepare`` + simulate (units streamed one after another, or on ``--threads`` threads) +
``assemble``; with ``--write`` also the run directory (parquet) in a temporary folder.
Units hold ``--unit-size`` residents (cache-sized; the minimal model has no interaction
between residents, so its outputs do not depend on the unit size); ``--unit-size 0`` keeps
the scenario's residents per unit (``--scale``), for scenarios where units mean something.
``--years 0`` runs the scenario's own period.

Events are what the engine must process: acts, records created (each also turns on and
off), list entries and exits, and attempts at restricted actions (blocked or fast-tracked
ones; in ``minimal`` every attempt by a listed resident is blocked).  Cost per event is the
simulate time divided by that count.

    python bench/scaling.py                                   # 1e5..1e7 x 1,2,5,10 years
    python bench/scaling.py --residents 1e5 1e6 1e7 1e8 --years 1 10 --budget 900
    python bench/scaling.py --scenario tiny --residents 1e5 1e6 --years 1 3
    python bench/scaling.py --cell minimal 1000000 365       # one cell, prints JSON
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_cell(scenario: str, residents: int, days: int | None, unit_size: int, threads: int,
             write: bool) -> dict:
    """One cell in this process (called in the subprocess)."""
    from scslab import api
    from scslab.engine.runner import run_units

    # numba: load the on-disk cache (or compile) outside the timing
    w = api.prepare(scenario, residents=1000, days=10, sets=["population.units=2"])
    run_units(w, range(w.units))
    rss_warm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    c0 = time.process_time()
    t0 = time.perf_counter()
    if unit_size > 0:
        cm = api.prepare(scenario, residents=residents, days=days, trace=False,
                         sets=[f"population.units={max(1, residents // unit_size)}"])
    else:  # keep the scenario's residents per unit: scale residents, units and firms
        full = api.prepare(scenario, trace=False).residents
        cm = api.prepare(scenario, days=days, trace=False, scale=residents / full)
    t1 = time.perf_counter()
    res = api.simulate(cm, threads=threads)
    t2 = time.perf_counter()
    rr = api.assemble(cm, res, seconds=t2 - t1, shards=1, command="bench/scaling.py")
    t3 = time.perf_counter()
    if write:
        from scslab.outputs.rundir import write_run

        with tempfile.TemporaryDirectory() as tmp:
            write_run(Path(tmp) / "run", manifest=rr.manifest, summary=rr.summary,
                      tables=rr.tables())
    t4 = time.perf_counter()
    o = res.outputs
    events = {
        "acts": int(o.acts.sum()),
        "records": int(o.records_created.sum()),
        "list_changes": int(o.listed_new.sum() + o.delisted.sum()),
        "attempts": int(o.blocked.sum() + o.green_channel_uses.sum()),
    }
    n_events = events["acts"] + 2 * events["records"] + events["list_changes"] \
        + events["attempts"]
    return {
        "scenario": scenario, "residents": cm.residents, "days": cm.n_days, "units": cm.units,
        "threads": threads, "seconds": t4 - t0, "cpu_seconds": time.process_time() - c0,
        "prepare": t1 - t0, "simulate": t2 - t1,
        "assemble": t3 - t2, "write": t4 - t3,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_after_warmup_mb": rss_warm, "events": events, "n_events": n_events,
        "ns_per_event": 1e9 * (t2 - t1) / max(n_events, 1),
        "resident_days_per_second": cm.residents * cm.n_days / (t4 - t0),
        "loadavg": os.getloadavg(),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", nargs=3, metavar=("SCENARIO", "RESIDENTS", "DAYS"))
    ap.add_argument("--scenario", default="minimal")
    ap.add_argument("--residents", nargs="+", type=float, default=[1e5, 1e6, 1e7])
    ap.add_argument("--years", nargs="+", type=float, default=[1, 2, 5, 10])
    ap.add_argument("--unit-size", type=int, default=1_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--write", action="store_true", help="also write the run directory")
    ap.add_argument("--budget", type=float, default=600,
                    help="skip cells predicted (from the cost per resident-day so far) "
                         "to take longer than this many seconds")
    ap.add_argument("--json", type=Path, help="append each cell's JSON line here")
    args = ap.parse_args()

    if args.cell:
        scen, n, d = args.cell
        print(json.dumps(run_cell(scen, int(float(n)), int(float(d)) or None,
                                  args.unit_size, args.threads, args.write)))
        return 0

    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')} nproc={os.cpu_count()} "
          f"scenario={args.scenario} unit_size={args.unit_size} threads={args.threads}")
    hdr = (f"{'residents':>12s} {'years':>5s} {'seconds':>8s} {'simulate':>8s} {'cpu s':>8s} "
           f"{'peak MB':>8s} {'events':>12s} {'ns/event':>8s} {'res-days/s':>10s} "
           f"{'load':>5s}")
    print(hdr)
    rate = None  # seconds per resident-day, from the cells run so far
    for n in sorted(int(x) for x in args.residents):
        for y in sorted(args.years):
            days = int(round(365 * y)) if y > 0 else 0
            if rate is not None and days and rate * n * days > args.budget:
                print(f"{n:>12,d} {y:>5g}  skipped: predicted {rate * n * days:.0f} s "
                      f"> budget {args.budget:.0f} s", flush=True)
                continue
            cmd = [sys.executable, __file__, "--cell", args.scenario, str(n), str(days),
                   "--unit-size", str(args.unit_size), "--threads", str(args.threads)]
            if args.write:
                cmd.append("--write")
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{n:>12,d} {y:>5g}  FAILED: {proc.stderr.strip()[-400:]}", flush=True)
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            rate = max(rate or 0.0, r["seconds"] / (n * r["days"]))
            print(f"{n:>12,d} {r['days'] / 365:>5.3g} {r['seconds']:>8.2f} {r['simulate']:>8.2f} "
                  f"{r['cpu_seconds']:>8.2f} "
                  f"{r['peak_rss_mb']:>8.0f} {r['n_events']:>12,d} {r['ns_per_event']:>8.0f} "
                  f"{r['resident_days_per_second']:>10.3g} {r['loadavg'][0]:>5.1f}",
                  flush=True)
            if args.json:
                with args.json.open("a") as f:
                    f.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
