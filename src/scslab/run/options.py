"""What a run changes in its scenario before it starts.

One object for every entry point (``run``, ``compare``, ``calibrate``, ``sensitivity``,
batches), so the overrides are declared, checked and applied in one place.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

from scslab.errors import ScenarioError

MAX_SCALE = 1000.0


def _problem(path: str, value, message: str) -> ScenarioError:
    return ScenarioError([{"file": "options", "path": path, "value": value,
                           "message": message}])


@dataclass(frozen=True)
class RunOptions:
    """Overrides applied to a scenario before it is compiled.

    ``seed``, ``residents``, ``days`` replace the scenario's own; ``scale`` multiplies its
    residents and units (counts are then also reported scaled back up); ``sets`` are
    ``a.b.c=VALUE`` assignments applied after ``extends:``; ``trace`` keeps every record,
    list event and resident (default: the scenario's ``outputs``).

    >>> RunOptions(seed=3).replace(days=10)
    RunOptions(seed=3, residents=None, scale=None, days=10, sets=(), trace=None)
    """

    seed: int | None = None
    residents: int | None = None
    scale: float | None = None
    days: int | None = None
    sets: tuple[str, ...] = ()
    trace: bool | None = None

    def __post_init__(self):
        for name in ("seed", "residents", "days"):
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int):
                raise _problem(name, v, "expected a whole number")
            low = 0 if name == "seed" else 1
            if v < low:
                raise _problem(name, v, f"expected a whole number of at least {low}")
        if self.seed is not None and self.seed > 2**63 - 1:
            raise _problem("seed", self.seed, "expected a seed below 2**63")
        if self.scale is not None:
            s = self.scale
            if isinstance(s, bool) or not isinstance(s, int | float) or not math.isfinite(s):
                raise _problem("scale", s, "expected a finite number")
            if not 0 < s <= MAX_SCALE:
                raise _problem("scale", s, f"expected a factor above 0 and at most {MAX_SCALE:g}")
        sets = self.sets
        if sets is None:
            sets = ()
        if isinstance(sets, str):
            sets = (sets,)
        if not all(isinstance(x, str) for x in sets):
            raise _problem("sets", list(sets), "expected a.b.c=VALUE strings")
        object.__setattr__(self, "sets", tuple(sets))
        if self.trace is not None and not isinstance(self.trace, bool):
            raise _problem("trace", self.trace, "expected true or false")

    def replace(self, **changes) -> RunOptions:
        """A copy with some options changed."""
        return dataclasses.replace(self, **changes)

    def with_sets(self, *more: str) -> RunOptions:
        """A copy with further ``a.b.c=VALUE`` assignments after these."""
        return self.replace(sets=(*self.sets, *more))


class Overrides(TypedDict, total=False):
    """The fields of :class:`RunOptions` as keyword arguments (for the Python API)."""

    seed: int
    residents: int
    scale: float
    days: int
    sets: Sequence[str]
    trace: bool


def options_of(options: RunOptions | None = None, **overrides) -> RunOptions:
    """``options`` (or the defaults) with keyword ``overrides``; an unknown keyword is a
    ScenarioError naming the allowed ones.

    >>> options_of(seed=4, sets=["days=5"]).sets
    ('days=5',)
    """
    fields = [f.name for f in dataclasses.fields(RunOptions)]
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise _problem(unknown[0], overrides[unknown[0]],
                       "unknown option; allowed: " + ", ".join(fields))
    given = {k: v for k, v in overrides.items() if v is not None}
    if "sets" in given and not isinstance(given["sets"], str):
        given["sets"] = tuple(given["sets"])
    return (options or RunOptions()).replace(**given)
