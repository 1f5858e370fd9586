"""``scslab warmup``: compile the engine now rather than on the first run."""

from __future__ import annotations

from scslab.cli.common import out
from scslab.run.warmup import warmup


def warmup_command() -> None:
    """Compile the engine into numba's cache (first time on a machine: minutes; later: a
    second), so that the first real run starts at once."""
    done = warmup()
    if done.compiled:
        out.print(f"engine compiled in {done.seconds:.0f} s; later runs start at once")
    else:
        out.print(f"engine already compiled on this machine (loaded in {done.seconds:.1f} s)")
