"""What one run at a parameter point costs beyond its event loop.

Sensitivity analysis, calibration and draws run one scenario many times in one process
(``scslab.experiments.points``): the numba kernel is compiled once (and cached), and each
run pays validation of the scenario with its values, compilation to arrays, the tables,
the invariant checks and the measures.  This bench runs ``--runs`` points of a scenario
one after another on one thread and splits each run's wall and CPU time into the event
loop (``simulate``) and the rest, step by step.  ``--tables light`` builds what a design
run of ``scslab sensitivity`` builds (timeseries, summary, the groups table's whole-run
rows; no invariant checks) instead of every table.

    python bench/points_overhead.py --scenario described-beijing --scale 0.01 --runs 6
    python bench/points_overhead.py --scenario described-beijing --scale 0.01 --runs 6 \
        --tables light
    python bench/points_overhead.py --scenario minimal --residents 2000 --days 365 --runs 20
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from scslab.experiments.points import light_result, run_point
from scslab.metrics.measures import run_measures
from scslab.run.options import RunOptions
from scslab.run.pipeline import assemble, prepare, simulate
from scslab.scenario.loader import load_scenario
from scslab.scenario.uncertainty import sample, with_values


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="described-beijing")
    ap.add_argument("--scale", type=float, default=None)
    ap.add_argument("--residents", type=int, default=None)
    ap.add_argument("--days", type=int, default=None)
    ap.add_argument("--runs", type=int, default=6)
    ap.add_argument("--tables", choices=("full", "light"), default="full")
    args = ap.parse_args()
    base = load_scenario(args.scenario)
    options = RunOptions(scale=args.scale, residents=args.residents, days=args.days)
    rng = np.random.default_rng(1)
    points = (sample(base.uncertain, args.runs, rng) if base.uncertain
              else np.zeros((args.runs, 0)))
    paths = list(base.uncertain)
    print(f"{platform.node()}: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"{args.scenario}, {len(paths)} uncertain parameters, {args.tables} tables")
    # warm: the kernel's first call loads it from numba's cache
    run_point(base, dict(zip(paths, points[0], strict=True)), base.seed, options)
    steps = {"values": [], "prepare": [], "simulate": [], "tables": [], "measures": []}
    cpu = {k: [] for k in steps}
    for i in range(args.runs):
        values = dict(zip(paths, points[i], strict=True))
        marks = [(time.perf_counter(), time.process_time())]
        s = with_values(base, values) if values else base
        marks.append((time.perf_counter(), time.process_time()))
        cm = prepare(s, options.replace(seed=base.seed + i, trace=False))
        marks.append((time.perf_counter(), time.process_time()))
        result = simulate(cm, threads=1)
        marks.append((time.perf_counter(), time.process_time()))
        rr = (assemble(cm, result, seconds=1.0, shards=1) if args.tables == "full"
              else light_result(cm, result))
        marks.append((time.perf_counter(), time.process_time()))
        run_measures(rr)
        marks.append((time.perf_counter(), time.process_time()))
        for k, (a, b) in zip(steps, zip(marks, marks[1:], strict=False), strict=True):
            steps[k].append(b[0] - a[0])
            cpu[k].append(b[1] - a[1])
    print(f"residents {cm.residents:,}, days {cm.n_days:,}, units {cm.units}; "
          f"median of {args.runs} runs on one thread")
    print(f"{'step':<10} {'wall s':>8} {'CPU s':>8}")
    for k in steps:
        print(f"{k:<10} {np.median(steps[k]):8.3f} {np.median(cpu[k]):8.3f}")
    total = sum(np.median(v) for v in steps.values())
    over = total - np.median(steps["simulate"])
    print(f"{'total':<10} {total:8.3f}")
    print(f"overhead beyond the event loop: {over:.3f} s a run "
          f"({over / total:.0%} of the run); load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
