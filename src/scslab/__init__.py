"""scslab: a laboratory for studying social credit systems over synthetic populations.

Every agent is synthetic.  scslab has no schema for a real person's identity, no look-up
or enforcement interface, and no connectors to real data feeds.
"""

from scslab import jit_cache  # noqa: F401, I001  (first: stamps compiled code's cache)
from scslab.api import (
    Comparison,
    RunOptions,
    RunResult,
    Sweep,
    compare,
    load_comparison,
    load_run,
    run,
    sweep,
    warmup,
)
from scslab.errors import InvariantError, RunDirError, ScenarioError, ScslabError
from scslab.scenario import Scenario, load_scenario

__version__ = "0.1.0"
__all__ = [
    "Comparison", "compare", "load_comparison",
    "InvariantError", "RunDirError", "RunOptions", "RunResult", "Scenario", "ScenarioError",
    "ScslabError",
    "Sweep", "load_run", "load_scenario", "run", "sweep", "warmup",
]
