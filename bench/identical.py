"""Identical outputs: run a scenario and save all its tables, or compare them with a save.

A refactor of the engine must not change one bit of any table.  Save the tables with the
code before the change, then compare with the code after it.  Every table of a traced run
is kept (timeseries, groups, scores, records, list_events, residents, firms) and the
summary without its timings (``seconds``, ``resident_days_per_second``).  Both sides go
through the same Parquet round trip and are compared with pandas
``assert_frame_equal(check_exact=True)``; the summary must be equal key by key.

Before the change (here from a second worktree at the base commit)::

    git worktree add /tmp/base <base-commit>
    PYTHONPATH=/tmp/base/src python bench/identical.py save /tmp/ident/beijing \\
        --scenario described-beijing --scale 0.01
    PYTHONPATH=/tmp/base/src python bench/identical.py save /tmp/ident/minimal \\
        --scenario minimal --residents 200000

After it::

    PYTHONPATH=src python bench/identical.py compare /tmp/ident/beijing
    PYTHONPATH=src python bench/identical.py compare /tmp/ident/minimal

``compare`` reruns the scenario with the options stored by ``save`` and exits 1, naming
the table and the first difference, if anything differs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

OPTIONS = "options.json"
SUMMARY = "summary.json"
TIMING_KEYS = ("seconds", "resident_days_per_second")


def run_tables(options: dict) -> tuple[dict[str, pd.DataFrame], dict]:
    """All tables of a traced run of ``options`` and its summary without timings."""
    from scslab import api

    rr = api.run(options["scenario"], residents=options.get("residents"),
                 scale=options.get("scale"), days=options.get("days"),
                 sets=options.get("sets") or None, trace=True, workers=options["threads"])
    summary = {k: v for k, v in rr.summary.items() if k not in TIMING_KEYS}
    return rr.tables(), summary


def save_tables(folder: Path, tables: dict[str, pd.DataFrame], summary: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_parquet(folder / f"{name}.parquet")
    (folder / SUMMARY).write_text(json.dumps(summary, indent=1, sort_keys=True, default=str))


def read_tables(folder: Path) -> tuple[dict[str, pd.DataFrame], dict]:
    tables = {p.stem: pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}
    return tables, json.loads((folder / SUMMARY).read_text())


def differences(saved: Path, fresh: Path) -> list[str]:
    """What differs between two folders written by ``save_tables`` (empty: identical)."""
    a, sa = read_tables(saved)
    b, sb = read_tables(fresh)
    problems = []
    if sorted(a) != sorted(b):
        problems.append(f"tables differ: saved {sorted(a)}, now {sorted(b)}")
    for name in sorted(set(a) & set(b)):
        try:
            pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)
        except AssertionError as e:
            problems.append(f"{name}: {e}")
    for key in sorted(set(sa) | set(sb)):
        if sa.get(key) != sb.get(key):
            problems.append(f"summary[{key!r}]: saved {sa.get(key)!r}, now {sb.get(key)!r}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["save", "compare"])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--scenario", default="tiny")
    ap.add_argument("--residents", type=int)
    ap.add_argument("--scale", type=float)
    ap.add_argument("--days", type=int)
    ap.add_argument("--set", dest="sets", action="append", default=[])
    ap.add_argument("--threads", type=int, default=2,
                    help="threads over units (the tables do not depend on it)")
    args = ap.parse_args()
    if args.mode == "save":
        options = {"scenario": args.scenario, "residents": args.residents,
                   "scale": args.scale, "days": args.days, "sets": args.sets,
                   "threads": args.threads}
        tables, summary = run_tables(options)
        save_tables(args.folder, tables, summary)
        (args.folder / OPTIONS).write_text(json.dumps(options, indent=1))
        sizes = ", ".join(f"{k} {len(v):,}" for k, v in tables.items())
        print(f"saved {args.folder}: {sizes}")
        return 0
    options = json.loads((args.folder / OPTIONS).read_text())
    tables, summary = run_tables(options)
    with tempfile.TemporaryDirectory() as tmp:
        save_tables(Path(tmp), tables, summary)
        problems = differences(args.folder, Path(tmp))
    sizes = ", ".join(f"{k} {len(v):,} rows" for k, v in tables.items())
    if problems:
        print(f"DIFFERENT from {args.folder} ({options}):")
        for p in problems:
            print("  " + p[:2000])
        return 1
    print(f"identical to {args.folder} ({options}): {sizes}; summary "
          f"{len(summary)} keys")
    return 0


if __name__ == "__main__":
    sys.exit(main())
