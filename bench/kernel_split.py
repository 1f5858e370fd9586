"""Two versions of the engine side by side: simulate time and first-run compile time.

Runs the code under ``--base`` (a ``src`` folder, e.g. a worktree at the commit before a
change) and under ``--new`` (default: this checkout's ``src``) alternately, each in its own
subprocess with its own ``PYTHONPATH``, so both meet the same load.  Every workload runs
``--reps`` times per side, alternating which side goes first; the report gives per-run
CPU seconds of ``run_units`` (one thread, numba cache warm), their medians and the ratio
new / base.

With ``--compile N`` it first measures, N times per side, the first run in a fresh process
after clearing that side's numba cache (``*.nbi``/``*.nbc`` under its src): the wall time
and the CPU seconds of a small run, which is then almost all compilation (CPU time is
the fairer figure on a loaded machine).  Each side's cache is warm again after that.

    git worktree add /tmp/base <base-commit>
    python bench/kernel_split.py --base /tmp/base/src --compile 2 --reps 7
    python bench/kernel_split.py --base /tmp/base/src --workload minimal:2000000:730
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKLOADS = ("minimal:2000000:730", "described-beijing:0.05:0")


def child(workload: str, warm_only: bool) -> dict:
    """In the subprocess: a small warm-up run (compiles or loads the cache), then one
    timed simulate of ``workload`` (scenario:residents-or-scale:days, days 0 = own)."""
    t0 = time.perf_counter()
    from scslab import api
    from scslab.engine.runner import run_units

    w = api.prepare("tiny", residents=1000, days=10, sets=["population.units=2"])
    run_units(w, range(w.units))
    first = time.perf_counter() - t0
    first_cpu = time.process_time()  # CPU seconds of this process so far: imports + run
    if warm_only:
        return {"first_run": first, "first_run_cpu": first_cpu}
    scenario, size, days = workload.split(":")
    days = int(days) or None
    if "." in size:  # a scale: keep the scenario's units
        cm = api.prepare(scenario, days=days, scale=float(size))
    else:
        n = int(size)
        cm = api.prepare(scenario, residents=n, days=days,
                         sets=[f"population.units={max(1, n // 1000)}"])
    small = api.prepare(scenario, residents=2000, days=days, sets=["population.units=2"])
    run_units(small, range(small.units))  # this scenario's types compiled or loaded
    c0 = time.process_time()
    w0 = time.perf_counter()
    res = run_units(cm, range(cm.units))
    return {"first_run": first, "cpu": time.process_time() - c0,
            "wall": time.perf_counter() - w0, "residents": cm.residents,
            "acts": int(res.outputs.acts.sum())}


def run_child(src: Path, workload: str, warm_only: bool = False) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src))
    cmd = [sys.executable, __file__, "--child", workload]
    if warm_only:
        cmd.append("--warm-only")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=HERE)
    if proc.returncode != 0:
        raise SystemExit(f"{src}: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def clear_cache(src: Path) -> int:
    files = [p for p in src.rglob("*") if p.suffix in (".nbi", ".nbc")]
    for p in files:
        p.unlink()
    return len(files)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, help="src folder of the version to compare with")
    ap.add_argument("--new", type=Path, default=HERE.parent / "src")
    ap.add_argument("--workload", action="append",
                    help=f"scenario:residents-or-scale:days (default {', '.join(WORKLOADS)})")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--compile", type=int, default=0, metavar="N",
                    help="first-run compile time, N times per side")
    ap.add_argument("--child", metavar="WORKLOAD", help=argparse.SUPPRESS)
    ap.add_argument("--warm-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.warm_only)))
        return 0
    if args.base is None:
        ap.error("--base is required")
    sides = {"base": args.base.resolve(), "new": args.new.resolve()}
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')} nproc={os.cpu_count()} "
          f"load={os.getloadavg()[0]:.2f} base={sides['base']} new={sides['new']}")

    if args.compile:
        first: dict[str, list[float]] = {"base": [], "new": []}
        first_cpu: dict[str, list[float]] = {"base": [], "new": []}
        for rep in range(args.compile):
            for side in (("base", "new") if rep % 2 == 0 else ("new", "base")):
                n = clear_cache(sides[side])
                r = run_child(sides[side], "tiny:1000:10", warm_only=True)
                first[side].append(r["first_run"])
                first_cpu[side].append(r["first_run_cpu"])
                print(f"compile {side}: cleared {n} cache files, first run "
                      f"{r['first_run']:.1f} s wall, {r['first_run_cpu']:.1f} s CPU "
                      f"(load {os.getloadavg()[0]:.2f})", flush=True)
        warm = {s: run_child(sides[s], "tiny:1000:10", warm_only=True) for s in sides}
        for s in sides:
            print(f"first run, cold cache, {s}: median {statistics.median(first[s]):.1f} s "
                  f"wall ({', '.join(f'{x:.1f}' for x in first[s])}), "
                  f"{statistics.median(first_cpu[s]):.1f} s CPU "
                  f"({', '.join(f'{x:.1f}' for x in first_cpu[s])}); warm cache "
                  f"{warm[s]['first_run']:.2f} s wall, {warm[s]['first_run_cpu']:.2f} s CPU")
        mc = {s: statistics.median(first_cpu[s]) for s in sides}
        print(f"compile CPU ratio new / base: {mc['new'] / mc['base']:.3f}")

    for workload in (args.workload or WORKLOADS) if args.reps > 0 else ():
        for s in sides:  # the workload's own types compiled (or loaded) before timing
            run_child(sides[s], workload, warm_only=True)
        cpu: dict[str, list[float]] = {"base": [], "new": []}
        for rep in range(args.reps):
            for side in (("base", "new") if rep % 2 == 0 else ("new", "base")):
                r = run_child(sides[side], workload)
                cpu[side].append(r["cpu"])
                print(f"{workload} {side}: cpu {r['cpu']:.3f} s, wall {r['wall']:.3f} s, "
                      f"{r['residents']:,} residents, {r['acts']:,} acts "
                      f"(load {os.getloadavg()[0]:.2f})", flush=True)
        mb, mn = statistics.median(cpu["base"]), statistics.median(cpu["new"])
        print(f"{workload}: median cpu base {mb:.3f} s, new {mn:.3f} s, "
              f"ratio new / base {mn / mb:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
