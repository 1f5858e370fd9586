"""A sandbox configuration: the scenario, the seed and the levers moved, as the page's URL
holds them, and the commands that reproduce it.

The URL is the configuration: ``?scenario=tiny&seed=2021&below.blacklist=950&appeal=on``.
Opening it gives the same scenario, levers and seed, so the same numbers.  Items left at
the scenario's own value are not in it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import yaml

from scslab.scenario.loader import parse_set

DEFAULT_SCENARIO = "tiny"
REPLICATES = 3  # replicates of the preview: the fewest that give each difference an interval
LEVEL = 0.95
BASELINE, VARIANT = "baseline", "variant"


@dataclass(frozen=True)
class Config:
    """What the page shows: ``scenario`` (a shipped name, a YAML path or a run directory),
    ``seed`` as typed (``None``: the scenario's own), and lever item values by URL key."""

    scenario: str = DEFAULT_SCENARIO
    seed: str | None = None
    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, search: str | None) -> Config:
        """The configuration in a URL's query string (with or without the ``?``)."""
        pairs = parse_qsl((search or "").lstrip("?"), keep_blank_values=True)
        scenario, seed, values = DEFAULT_SCENARIO, None, {}
        for k, v in pairs:
            if k == "scenario":
                scenario = v or DEFAULT_SCENARIO
            elif k == "seed":
                seed = v
            else:
                values[k] = v
        return cls(scenario, seed, values)

    def query(self) -> str:
        """The URL query string (no ``?``): scenario, seed, then the levers in order."""
        pairs = [("scenario", self.scenario)]
        if self.seed is not None:
            pairs.append(("seed", self.seed))
        pairs += list(self.values.items())
        return urlencode(pairs, safe=",/:")

    def with_value(self, key: str, value: str | None) -> Config:
        """A copy with one item set (``None``: back to the scenario's value)."""
        values = {k: v for k, v in self.values.items() if k != key}
        if value is not None:
            values[key] = value
        return Config(self.scenario, self.seed, values)

    def with_scenario(self, scenario: str) -> Config:
        """Another scenario, its own seed, no lever moved."""
        return Config(scenario, None, {})

    def with_seed(self, seed: str | None) -> Config:
        return Config(self.scenario, seed, dict(self.values))


def quoted(args: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in args)


def _scale_args(scale: float) -> list[str]:
    return [] if scale == 1.0 else ["--scale", f"{scale:g}"]


def compare_command(ref: str, sets: list[str], *, seed: int, scale: float,
                    replicates: int = REPLICATES) -> str:
    """The ``scslab compare`` command that computes the preview's numbers exactly."""
    args = ["scslab", "compare", f"{BASELINE}={ref}", f"{VARIANT}={ref}"]
    for a in sets:
        args += ["--set", f"{VARIANT}:{a}"]
    args += ["--seed", str(seed), "--replicates", str(replicates), *_scale_args(scale)]
    return quoted(args)


def compare_python(ref: str, sets: list[str], *, seed: int, scale: float,
                   replicates: int = REPLICATES) -> str:
    """The same comparison from Python (``scslab.compare``)."""
    lines = ["import scslab", "",
             f"comp = scslab.compare([{f'{BASELINE}={ref}'!r}, {f'{VARIANT}={ref}'!r}],"]
    if sets:
        lines.append("    sets=[")
        lines += [f"        {f'{VARIANT}:{a}'!r}," for a in sets]
        lines.append("    ],")
    scale_arg = "" if scale == 1.0 else f", scale={scale:g}"
    lines.append(f"    seed={seed}, replicates={replicates}{scale_arg})")
    lines.append("comp.table  # every measure: value, difference, lo, hi")
    return "\n".join(lines)


def run_command(ref: str, sets: list[str], *, seed: int, out: str) -> str:
    """``scslab run`` of one arm at full scale into ``out``."""
    args = ["scslab", "run", ref]
    for a in sets:
        args += ["--set", a]
    args += ["--seed", str(seed), "--out", out]
    return quoted(args)


def report_command(dirs: list[str], out: str) -> str:
    return quoted(["scslab", "report", *dirs, "-o", out])


def overrides_yaml(ref: str | None, sets: list[str], scenario_data: dict | None = None) -> str:
    """The variant as a scenario file: ``extends:`` the scenario plus the levers' values;
    for a run directory (which ``extends:`` cannot name), the whole resolved scenario."""
    if ref is None:
        return yaml.safe_dump(scenario_data, sort_keys=False, allow_unicode=True, width=100)
    head = (f"# the variant of {ref}: save as variant.yaml, then\n"
            "#   scslab run variant.yaml   or   scslab compare "
            f"{shlex.quote(ref)} variant.yaml\n")
    body = {"extends": ref, **parse_set(sets)}
    return head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)
