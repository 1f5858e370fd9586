"""First run after install: how long the engine takes to compile, and a warm run after it.

Every measurement runs in a fresh Python process whose numba cache is a new, empty
directory (NUMBA_CACHE_DIR, which numba prefers to any cache beside the sources), so
"cold" is what a user meets on the first run after ``pip install`` and "warm" what every
later run meets.  For each source tree the table shows:

* cli cold, (cpu), cli warm: wall and CPU seconds of ``python -m scslab run SCENARIO
  --out TMP -q`` on the empty cache, then wall seconds (best of ``--warm``) on the cache
  that run wrote;
* import, 1st run, (cpu), compile: in one process, ``import scslab``, then
  ``scslab.run(SCENARIO)``: its wall and CPU seconds and the CPU seconds numba spent
  compiling (from numba's compile events, so a loaded machine does not inflate them);
* also+: compile seconds that ``scslab.run(ALSO)`` adds in the same process; anything
  above zero is a scenario whose arrays have other numba types, i.e. a second compile of
  the engine in every fresh process; again: wall seconds of ``SCENARIO`` once more;
* warm run, warm comp: a new process on the cache the api run wrote: the run's wall
  seconds and compile seconds (zero when the cache is valid across processes);
* speed: CPU seconds of ``scslab.run`` of ``--speed NAME@SCALE`` in that warm process,
  to check that a change which compiles faster does not run slower;
* cache MB: size of the cache the cold run wrote (number of compiled-code files).

``--detail`` lists each compiled function's own compile seconds (callees excluded) and its
number of specialisations (type signatures).  ``--src`` may be given several times to
compare trees side by side (e.g. a branch and main); each tree's ``src`` directory goes
first on PYTHONPATH of its processes.

``--install TREE`` measures instead what a user meets after ``pip install TREE`` (a
project tree, not its src): in a new virtualenv for each case, the install's wall seconds,
then the first and a second ``scslab run SCENARIO`` (wall seconds, and whether the run
printed the compile notice).  The cases are the install as it is (the wheel ships the
engine compiled while it is built, build_backend/compiled_wheel.py) and, with
``--skip-compile-too``, the same tree with SCSLAB_BUILD_SKIP_COMPILE=1 (the install before
that backend: the first run compiles).  pip's own cache of downloaded packages is used as it
is, so a first install on a new machine adds its downloads.

    python bench/first_run.py
    python bench/first_run.py --src /work/main/src --src src --detail --speed tiny@1
    python bench/first_run.py --install . --skip-compile-too
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Runs in the child process: times one process's runs and numba's compiles.  Compile
# events nest (a caller compiles its callees while it is typed); exclusive time is a
# function's own share, the outermost events' sum is the compile time of the process.
CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from numba.core import event


class CpuClock(event.Listener):
    # compile events stamped with this thread's CPU time: the load of a shared machine
    # does not inflate them (numba compiles in the calling thread)

    def __init__(self):
        self.buffer = []

    def on_start(self, ev):
        self.buffer.append((time.thread_time(), ev))

    def on_end(self, ev):
        self.buffer.append((time.thread_time(), ev))


rec = CpuClock()
event.register("numba:compile", rec)
import scslab
t_import = time.perf_counter() - t0


def compiled(events):
    total, stack, own, sigs = 0.0, [], {}, {}
    for ts, ev in events:
        disp = ev.data["dispatcher"]
        name = disp.py_func.__module__ + "." + disp.py_func.__qualname__
        if ev.is_start:
            stack.append([name, ts, 0.0])
            continue
        name, start, inner = stack.pop()
        dur = ts - start
        own[name] = own.get(name, 0.0) + dur - inner
        sigs[name] = sigs.get(name, 0) + 1
        if stack:
            stack[-1][2] += dur
        else:
            total += dur
    ours = {k: [round(v, 2), sigs[k]] for k, v in own.items() if k.startswith("scslab.")}
    rest = sum(v for k, v in own.items() if not k.startswith("scslab."))
    return total, ours, rest


def timed(scenario):
    n0 = len(rec.buffer)
    t, c = time.perf_counter(), time.process_time()
    scslab.run(scenario)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    total, ours, rest = compiled(rec.buffer[n0:])
    return dict(wall=wall, cpu=cpu, compile=total, functions=ours, numba_internals=rest)


scenario, also, speed = sys.argv[1], sys.argv[2], sys.argv[3]
res = dict(file=scslab.__file__, import_=t_import, first=timed(scenario))
if also:
    res["also"] = timed(also)
    res["again"] = timed(scenario)
if speed:
    name, scale = speed.split("@")
    c = time.process_time()
    res["speed_wall"] = scslab.run(name, scale=float(scale)).summary["seconds"]
    res["speed_cpu"] = time.process_time() - c
print("RESULT " + json.dumps(res))
"""


def child_env(src: Path, cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [env.get("PYTHONPATH")])])
    env["NUMBA_CACHE_DIR"] = str(cache)
    return env


def cpu_of_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cli_seconds(src: Path, cache: Path, scenario: str) -> tuple[float, float]:
    """Wall and CPU seconds of one ``scslab run`` in a fresh process (CPU time: on a
    shared machine, wall time also counts other people's work)."""
    with tempfile.TemporaryDirectory(prefix="scslab-first-run-") as tmp:
        t, c = time.perf_counter(), cpu_of_children()
        subprocess.run([sys.executable, "-m", "scslab", "run", scenario, "--out",
                        str(Path(tmp) / "run"), "-q"], env=child_env(src, cache), check=True,
                       stdout=subprocess.DEVNULL)
        return time.perf_counter() - t, cpu_of_children() - c


def api_run(src: Path, cache: Path, scenario: str, also: str = "", speed: str = "") -> dict:
    """The child's measurements: import, runs and compile seconds in one fresh process."""
    done = subprocess.run([sys.executable, "-c", CHILD, scenario, also, speed],
                          env=child_env(src, cache), check=True, capture_output=True, text=True)
    line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")][-1]
    res = json.loads(line[len("RESULT "):])
    if not Path(res["file"]).resolve().is_relative_to(src.resolve()):
        raise SystemExit(f"{src}: the child imported scslab from {res['file']}, not this tree")
    return res


def cache_size(cache: Path) -> tuple[float, int]:
    """Megabytes and number of compiled-code files in a numba cache directory."""
    files = [p for p in cache.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6, sum(p.suffix == ".nbc" for p in files)


def new_cache(keep: Path | None, name: str):
    """An empty numba cache directory: temporary, or ``keep/name`` kept for later use."""
    if keep is None:
        return tempfile.TemporaryDirectory(prefix="numba-cache-")
    path = keep / name
    if path.exists():
        raise SystemExit(f"{path}: exists; --keep-caches needs a new directory")
    path.mkdir(parents=True)
    return contextlib.nullcontext(str(path))


def measure(k: int, src: Path, args) -> dict:
    row: dict = {"src": str(src)}
    if not args.no_cli:
        with new_cache(args.keep_caches, f"{k}-cli") as cache:
            row["cli_cold"] = cli_seconds(src, Path(cache), args.scenario)
            row["cli_warm"] = min(cli_seconds(src, Path(cache), args.scenario)
                                  for _ in range(args.warm))
    with new_cache(args.keep_caches, f"{k}-api") as cache:
        cold = api_run(src, Path(cache), args.scenario, args.also)
        row["api"] = cold
        row["cache_mb"], row["cache_files"] = cache_size(Path(cache))
        warm = min((api_run(src, Path(cache), args.scenario, speed=args.speed)
                    for _ in range(args.warm)), key=lambda r: r["first"]["wall"])
        row["api_warm"] = warm
    return row


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def install_and_run(tree: Path, scenario: str, label: str, extra_env: dict) -> dict:
    """A new virtualenv, ``pip install TREE`` in it, then two ``scslab run SCENARIO``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "NUMBA_CACHE_DIR", "VIRTUAL_ENV")} | extra_env
    row: dict = {"case": label, "load_before": load()}
    with tempfile.TemporaryDirectory(prefix="scslab-install-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        t = time.perf_counter()
        done = subprocess.run([str(venv / "bin" / "pip"), "install", "-v", str(tree)],
                              env=env, capture_output=True, text=True)
        row["install"] = time.perf_counter() - t
        if done.returncode != 0:
            raise SystemExit(f"pip install {tree} failed:\n{done.stdout[-3000:]}"
                             f"{done.stderr[-3000:]}")
        row["build_says"] = [x.strip() for x in (done.stdout + done.stderr).splitlines()
                             if "scslab build:" in x]
        for k in ("first", "second"):
            t = time.perf_counter()
            run = subprocess.run([str(venv / "bin" / "scslab"), "run", scenario, "--out",
                                  str(Path(tmp) / f"run-{k}"), "-q"], env=env, cwd=tmp,
                                 capture_output=True, text=True, check=True)
            row[k] = time.perf_counter() - t
            row[f"{k}_notice"] = "compiling the engine" in run.stderr + run.stdout
    row["load_after"] = load()
    return row


def print_install_table(rows: list[dict], scenario: str) -> None:
    print(f"pip install, then `scslab run {scenario}` twice, in a new virtualenv; wall "
          "seconds; notice: the run said it was compiling; load: 1/5/15-minute averages")
    head = ["case", "install", "1st run", "notice", "2nd run", "install + 1st",
            "load before", "load after"]
    lines = [head] + [[
        r["case"], fmt(r["install"]), fmt(r["first"]), "yes" if r["first_notice"] else "no",
        fmt(r["second"]), fmt(r["install"] + r["first"]), r["load_before"], r["load_after"],
    ] for r in rows]
    widths = [max(len(x[i]) for x in lines) for i in range(len(head))]
    for x in lines:
        print("  ".join(c.rjust(wd) if i else c.ljust(wd) for i, (c, wd) in
                        enumerate(zip(x, widths, strict=True))))
    for r in rows:
        for said in r["build_says"]:
            print(f"{r['case']}: {said}")


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def pair(wall_cpu: tuple[float, float] | None) -> list[str]:
    return ["-", "-"] if wall_cpu is None else [fmt(wall_cpu[0]), fmt(wall_cpu[1])]


def print_table(rows: list[dict], args) -> None:
    head = ["tree", "cli cold", "(cpu)", "cli warm", "import", "1st run", "(cpu)", "compile",
            "also+", "again", "warm run", "warm comp", "speed", "cache MB"]
    lines = [head]
    for r in rows:
        a, w = r["api"], r["api_warm"]
        lines.append([
            r["src"], *pair(r.get("cli_cold")), pair(r.get("cli_warm"))[0], fmt(a["import_"]),
            fmt(a["first"]["wall"]), fmt(a["first"]["cpu"]), fmt(a["first"]["compile"]),
            fmt(a["also"]["compile"]) if "also" in a else "-",
            fmt(a["again"]["wall"]) if "again" in a else "-",
            fmt(w["first"]["wall"]), fmt(w["first"]["compile"]), fmt(w.get("speed_cpu")),
            f"{r['cache_mb']:.1f} ({r['cache_files']})",
        ])
    widths = [max(len(x[i]) for x in lines) for i in range(len(head))]
    print(f"scenario {args.scenario}, also {args.also or '-'}, speed {args.speed or '-'}; "
          "seconds (compile and speed: CPU seconds); see the docstring for each column")
    for x in lines:
        print("  ".join(c.rjust(wd) if i else c.ljust(wd) for i, (c, wd) in
                        enumerate(zip(x, widths, strict=True))))
    if args.detail:
        for r in rows:
            fns = r["api"]["first"]["functions"]
            print(f"\n{r['src']}: own compile seconds (specialisations) of the cold run; "
                  f"numba internals {r['api']['first']['numba_internals']:.1f} s")
            for name, (sec, n) in sorted(fns.items(), key=lambda kv: -kv[1][0]):
                print(f"  {sec:7.2f}  ({n})  {name}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, action="append",
                    help="a tree's src directory (repeat to compare; default: this tree's)")
    ap.add_argument("--scenario", default="tiny")
    ap.add_argument("--also", default="minimal",
                    help="second scenario run in the same process ('' for none)")
    ap.add_argument("--speed", default="",
                    help="NAME@SCALE: also time this run in the warm process (kernel speed; "
                         "e.g. described-beijing@0.05)")
    ap.add_argument("--warm", type=int, default=1, help="warm runs per tree (best is kept)")
    ap.add_argument("--no-cli", action="store_true", help="skip the command-line runs")
    ap.add_argument("--detail", action="store_true",
                    help="compile seconds per function of each cold run")
    ap.add_argument("--json", type=Path, help="also write the measurements here")
    ap.add_argument("--keep-caches", type=Path,
                    help="keep each tree's numba caches in DIR/K-cli and DIR/K-api (a new DIR)")
    ap.add_argument("--install", type=Path,
                    help="a project tree: time pip install of it in a new virtualenv, then "
                         "the first runs")
    ap.add_argument("--skip-compile-too", action="store_true",
                    help="with --install: also the install with SCSLAB_BUILD_SKIP_COMPILE=1")
    args = ap.parse_args()
    if args.install:
        cases = [("compiled in the wheel", {})]
        if args.skip_compile_too:
            cases.append(("SCSLAB_BUILD_SKIP_COMPILE=1", {"SCSLAB_BUILD_SKIP_COMPILE": "1"}))
        rows = [install_and_run(args.install, args.scenario, label, env)
                for label, env in cases]
        print_install_table(rows, args.scenario)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
        return
    srcs = args.src or [Path(__file__).resolve().parents[1] / "src"]
    rows = [measure(k, s, args) for k, s in enumerate(srcs)]
    print_table(rows, args)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
