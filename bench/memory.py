"""Peak memory of a run against the budget's estimate (docs/robustness.md, calibration).

Each row runs in its own subprocess: it warms up (imports, numba cache) on a 2,000
resident run, then runs the row and reports peak RSS above the warmed-up process next to
``engine.budget.estimate``.

    python bench/memory.py
"""

from __future__ import annotations

import json
import subprocess
import sys

ROWS = [
    dict(scenario="minimal", residents=1_000_000, sets=["population.units=1"]),
    dict(scenario="minimal", residents=1_000_000, sets=["population.units=10"]),
    dict(scenario="tiny", residents=300_000, sets=[], trace=True),
    dict(scenario="tiny", residents=1_000_000, sets=["population.units=1"]),
]

CELL = r"""
import json, resource, sys
from scslab import api
from scslab.engine.budget import estimate

row = json.loads(sys.argv[1])
trace = row.get("trace", False)


def run(cm):
    return api.assemble(cm, api.simulate(cm), seconds=0.0, shards=1)


run(api.prepare(row["scenario"], residents=2000, sets=["population.units=1"], trace=trace))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
cm = api.prepare(row["scenario"], residents=row["residents"], sets=row["sets"], trace=trace)
result = run(cm)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(row=row, records=int(result.summary["records_created"]),
                      measured_mb=round(peak - base),
                      estimated_mb=round(estimate(cm).memory / 2**20))))
"""


def main() -> None:
    print(f"{'run':<62} {'records':>10} {'measured MB':>12} {'estimated MB':>13}")
    for row in ROWS:
        done = subprocess.run([sys.executable, "-c", CELL, json.dumps(row)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            sys.exit(1)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        label = f"{row['scenario']} --residents {row['residents']} " + " ".join(
            f"--set {s}" for s in row["sets"]) + (" --trace" if row.get("trace") else "")
        print(f"{label:<62} {r['records']:>10,} {r['measured_mb']:>12,} "
              f"{r['estimated_mb']:>13,}")


if __name__ == "__main__":
    main()
