"""Compile the engine ahead of a first real run (``scslab warmup``, ``scslab.warmup()``)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from scslab.engine.first_run import is_compiled
from scslab.run.options import RunOptions
from scslab.run.pipeline import run

# A few residents of the smallest shipped scenario for a month: every phase of the day
# loop is compiled whatever the population, so the run itself takes well under a second.
WARMUP_SCENARIO = "tiny"
WARMUP_OPTIONS = RunOptions(residents=200, days=30)


@dataclass(frozen=True)
class Warmup:
    """What ``warmup`` did: ``compiled`` is False when numba's cache already held the
    engine (it was only loaded); ``seconds`` is the wall time it took."""

    compiled: bool
    seconds: float


def warmup() -> Warmup:
    """Compile the engine into numba's on-disk cache, so later runs (in any process on
    this machine) start at once.  Idempotent: a warm cache makes it take about a second."""
    was_compiled = is_compiled()
    t0 = time.perf_counter()
    run(WARMUP_SCENARIO, WARMUP_OPTIONS, threads=1)
    return Warmup(compiled=not was_compiled, seconds=time.perf_counter() - t0)
