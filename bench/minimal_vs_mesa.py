"""scslab's ``minimal`` scenario against Mesa's minimal model, side by side in one run.

Speed: Mesa (``bench/mesa_minimal.py``) and scslab run the same model, residents and days;
scslab also runs at 1M+ residents, where its fixed per-run cost (scenario load, compile,
tables) no longer dominates.  Resident-days per second are medians over repeats; scslab's
time is end to end (``prepare`` + simulate + ``assemble``), numba's compile excluded (it is
cached on disk and reported separately as ``first call``).

Agreement: both implementations are compared with each other and with the exact
analytic expectation of the minimal model (MODEL.md section 6) on

* mean listed over the last 100 days, per 100k residents (steady state);
* blocked flights over the whole run, per 100k residents;
* wrongful share of listed resident-days over the whole run.

The expectations for the whole run follow the first year's transient exactly (on day t
a resident's live records are those of the last min(t + 1, 365) days).  Sampling sd's of
one run come from scslab replicates at Mesa's size (cheap: ~20 seeds in a second or two);
the last-100-day mean of the list has sd ~28 per 10k residents, not sd/sqrt(100), since
listings persist.  A check fails if a difference exceeds 4 sd; the script then exits 1.

    python bench/minimal_vs_mesa.py                      # 10k x 730 days, 3 Mesa repeats
    python bench/minimal_vs_mesa.py --mesa-repeats 5 --big 2000000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import binom

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mesa_minimal import run_mesa_minimal  # noqa: E402

from scslab import api  # noqa: E402

P_NEG = {True: 0.002, False: 0.001}  # deciles 0-2 vs 3-9
P_REC, P_FALSE, P_PRO, WINDOW = 0.9, 1 / 20000, 1 / 200, 365
TOL_SD = 4.0


# ---------------------------------------------------------------- analytic expectations
def listed_probs(w: int, p_neg: float) -> tuple[float, float]:
    """P(listed) and P(listed wrongfully) for a resident whose live records cover ``w``
    days: true negatives ~ Bin(w, 0.9 p), false ~ Bin(w, 1/20000), prosocial ~ Bin(w, 1/200)."""
    a = np.arange(40)
    b = np.arange(8)
    c = np.arange(80)
    nt, nf, m = binom.pmf(a, w, P_REC * p_neg), binom.pmf(b, w, P_FALSE), binom.pmf(c, w, P_PRO)
    A, B, C = np.meshgrid(a, b, c, indexing="ij")
    prob = nt[A] * nf[B] * m[C]
    listed = 1000 - 50 * (A + B) + 5 * C < 950
    wrong = listed & (1000 - 50 * A + 5 * C >= 950)
    return float(prob[listed].sum()), float(prob[wrong].sum())


def analytic(days: int) -> dict:
    """Expected outputs per resident (per 100k for counts) over ``days`` days."""
    cache: dict[tuple[int, bool], tuple[float, float]] = {}
    listed_t = np.zeros(days)
    wrong_t = np.zeros(days)
    blocked = 0.0
    for t in range(days):
        w = min(t + 1, WINDOW)
        for d in range(10):
            key = (w, d < 3)
            if key not in cache:
                cache[key] = listed_probs(w, P_NEG[d < 3])
            pl, pw = cache[key]
            listed_t[t] += pl / 10
            wrong_t[t] += pw / 10
            blocked += pl / 10 * (1 / 300) * (1 + d / 3)
    last = listed_t[-100:]
    return {
        "listed_last100_per100k": 1e5 * float(last.mean()),
        "blocked_flights_per100k": 1e5 * blocked,
        "wrongful_share": float(wrong_t.sum() / listed_t.sum()),
        "wrongful_share_last100": float(wrong_t[-100:].sum() / last.sum()),
    }


# ---------------------------------------------------------------- runs
def scslab_run(residents: int, days: int, seed: int, units: int, threads: int) -> dict:
    """One end-to-end scslab run (prepare, simulate, assemble) and its summary outputs."""
    c0 = time.process_time()
    t0 = time.perf_counter()
    cm = api.prepare("minimal", residents=residents, days=days, seed=seed,
                     sets=[f"population.units={units}"])
    t1 = time.perf_counter()
    res = api.simulate(cm, threads=threads)
    t2 = time.perf_counter()
    rr = api.assemble(cm, res, seconds=t2 - t1, shards=1, command="bench/minimal_vs_mesa.py")
    t3 = time.perf_counter()
    ts = rr.timeseries
    flights = [c for c in ts.columns if c.startswith("blocked_") and "wrongful" not in c]
    return {
        "residents": residents, "days": days, "seed": seed, "units": units,
        "threads": threads,
        "mean_listed_last100": float(ts["listed"].iloc[-100:].mean()),
        "blocked_flights": int(ts[flights].to_numpy().sum()),
        "wrongful_share": float(ts["listed_wrongful"].sum() / max(ts["listed"].sum(), 1)),
        "wrongful_share_last100": float(ts["listed_wrongful"].iloc[-100:].sum()
                                        / max(ts["listed"].iloc[-100:].sum(), 1)),
        "seconds": t3 - t0, "simulate_seconds": t2 - t1,
        "prepare_seconds": t1 - t0, "assemble_seconds": t3 - t2,
        "resident_days_per_second": residents * days / (t3 - t0),
        "cpu_seconds": time.process_time() - c0,
    }


def per100k(r: dict) -> dict:
    n = r["residents"]
    return {
        "listed_last100_per100k": r["mean_listed_last100"] * 1e5 / n,
        "blocked_flights_per100k": r["blocked_flights"] * 1e5 / n,
        "wrongful_share": r["wrongful_share"],
    }


MEASURES = ("listed_last100_per100k", "blocked_flights_per100k", "wrongful_share")


def machine() -> dict:
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "nproc": os.cpu_count(),
        "python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
        "loadavg_start": os.getloadavg(),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=int, default=10_000, help="Mesa's (and scslab's) size")
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--mesa-repeats", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5, help="scslab repeats at the big size")
    ap.add_argument("--replicates", type=int, default=20,
                    help="scslab seeds at Mesa's size (timing and sampling sd)")
    ap.add_argument("--big", type=int, default=1_000_000, help="scslab's large size (0: skip)")
    ap.add_argument("--unit-size", type=int, default=1_000,
                    help="residents per unit at the big size (cache-sized units)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write all numbers here")
    args = ap.parse_args()
    N, D = args.residents, args.days
    info = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}}
    print(f"# {info['machine']['date']}  nproc={info['machine']['nproc']}  "
          f"load={info['machine']['loadavg_start']}")

    # compile (or load numba's on-disk cache) once, outside every timing
    t0 = time.perf_counter()
    scslab_run(1000, 30, 0, 2, 1)
    first_call = time.perf_counter() - t0
    print(f"scslab first call (import excluded, numba cache load/compile): {first_call:.2f} s")

    # --- scslab replicates at Mesa's size: timing and sampling sd of one run
    small_units = max(1, N // 1000)
    reps = [scslab_run(N, D, 1000 + r, small_units, 1) for r in range(args.replicates)]
    # --- Mesa
    mesa = []
    for r in range(args.mesa_repeats):
        c0 = time.process_time()
        m = run_mesa_minimal(N, D, args.seed + r)
        m["cpu_seconds"] = time.process_time() - c0
        m.pop("listed_by_day")
        mesa.append(m)
        print(f"mesa repeat {r}: {m['seconds']:.2f} s", flush=True)
    # --- scslab at the big size, serial and on threads
    big: dict[int, list[dict]] = {}
    if args.big:
        units = max(args.threads, args.big // args.unit_size)
        for w in sorted({1, args.threads}):
            big[w] = [scslab_run(args.big, D, 2000 + r, units, w) for r in range(args.repeats)]

    # ------------------------------------------------------------ speed table
    mesa_rate = statistics.median(m["resident_days_per_second"] for m in mesa)
    def cpu_rate(runs: list[dict], n: int) -> float:
        return n * D / statistics.median(r["cpu_seconds"] for r in runs)

    mesa_cpu = cpu_rate(mesa, N)
    rows = [("mesa", N, len(mesa), statistics.median(m["seconds"] for m in mesa), mesa_rate,
             mesa_cpu)]
    rows.append(("scslab", N, len(reps), statistics.median(r["seconds"] for r in reps),
                 statistics.median(r["resident_days_per_second"] for r in reps),
                 cpu_rate(reps, N)))
    for w, runs in big.items():
        rows.append((f"scslab {w} thread{'s' if w > 1 else ''}", args.big, len(runs),
                     statistics.median(r["seconds"] for r in runs),
                     statistics.median(r["resident_days_per_second"] for r in runs),
                     cpu_rate(runs, args.big)))
    print(f"\nSpeed, {D} days (medians; scslab end to end incl. population build and tables)")
    print(f"{'engine':18s} {'residents':>10s} {'runs':>4s} {'seconds':>9s} "
          f"{'resident-days/s':>16s} {'x Mesa':>8s} {'per CPU-s':>10s} {'x Mesa':>7s}")
    for name, n, k, sec, rate, crate in rows:
        print(f"{name:18s} {n:>10,d} {k:>4d} {sec:>9.3f} {rate:>16.3g} {rate / mesa_rate:>8.0f}"
              f" {crate:>10.3g} {crate / mesa_cpu:>7.0f}")
    print("(wall-clock rates are the target's measure; per-CPU-second rates show what load "
          "from other processes hides: they count both threads' CPU)")
    for w, runs in big.items():
        ks = statistics.median(r["simulate_seconds"] for r in runs)
        print(f"  scslab {w} thread(s) at {args.big:,}: simulate only {ks:.3f} s = "
              f"{args.big * D / ks:.3g} resident-days/s ({args.big * D / ks / mesa_rate:.0f}x)")

    # ------------------------------------------------------------ agreement
    exp = analytic(D)
    rep_vals = {k: np.array([per100k(r)[k] for r in reps]) for k in MEASURES}
    sd1 = {k: float(rep_vals[k].std(ddof=1)) for k in MEASURES}  # one run at size N
    mesa_mean = {k: float(np.mean([per100k(m)[k] for m in mesa])) for k in MEASURES}
    scs_mean = {k: float(rep_vals[k].mean()) for k in MEASURES}
    groups = [("mesa", mesa_mean, len(mesa), N), ("scslab", scs_mean, len(reps), N)]
    for w, runs in big.items():
        if w == min(big):  # the big runs of different worker counts share seeds
            groups.append((f"scslab {args.big:,}",
                           {k: float(np.mean([per100k(r)[k] for r in runs])) for k in MEASURES},
                           len(runs), args.big))
    sd10k = sd1[MEASURES[0]] * N / 1e5 / np.sqrt(N / 1e4)
    print(f"\nAgreement (per 100k residents; sd of one run at {N:,} from {len(reps)} scslab "
          f"seeds; listed last-100 sd per 10k: {sd10k:.1f})")
    print(f"{'measure':26s} {'analytic':>10s} " + " ".join(f"{g[0]:>18s}" for g in groups))
    failures = []
    checks = []
    for k in MEASURES:
        print(f"{k:26s} {exp[k]:>10.4g} " + " ".join(f"{g[1][k]:>18.4g}" for g in groups))
        for name, vals, runs, n in groups:
            # a run's sd scales with 1/sqrt(residents); averaging over runs divides by sqrt(runs)
            sd = sd1[k] * np.sqrt(N / n) / np.sqrt(runs)
            z = (vals[k] - exp[k]) / sd
            checks.append((k, f"{name} vs analytic", z))
        sd = sd1[k] * np.sqrt(1 / len(mesa) + 1 / len(reps))
        checks.append((k, "mesa vs scslab", (mesa_mean[k] - scs_mean[k]) / sd))
    print(f"\nChecks (z = difference / sd; fail if |z| > {TOL_SD:.0f})")
    for k, what, z in checks:
        ok = abs(z) <= TOL_SD
        print(f"  {'ok  ' if ok else 'FAIL'} {k:26s} {what:26s} z = {z:+.2f}")
        if not ok:
            failures.append((k, what, z))
    ss = np.mean([r["wrongful_share_last100"] for r in reps])
    print(f"  steady-state wrongful share (last 100 days): analytic "
          f"{exp['wrongful_share_last100']:.4f}, scslab {ss:.4f}")

    info.update(mesa=mesa, scslab_replicates=reps, scslab_big={str(w): r for w, r in big.items()},
                analytic=exp, sd_one_run=sd1, first_call_seconds=first_call,
                speed=[dict(engine=r[0], residents=r[1], runs=r[2], seconds=r[3],
                            resident_days_per_second=r[4], ratio=r[4] / mesa_rate,
                            per_cpu_second=r[5], cpu_ratio=r[5] / mesa_cpu) for r in rows],
                checks=[dict(measure=k, what=w, z=z) for k, w, z in checks],
                loadavg_end=os.getloadavg())
    if args.json:
        args.json.write_text(json.dumps(info, indent=1, default=float))
    print(f"\nload average at end: {os.getloadavg()}")
    if failures:
        print(f"{len(failures)} agreement check(s) FAILED", file=sys.stderr)
        return 1
    print("all agreement checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
