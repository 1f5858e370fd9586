"""The preview behind the sandbox: the chosen scenario against its variant, at a reduced
scale, on common random numbers, fast enough to follow a lever.

Each configuration runs the baseline and the variant at the same seeds (``seed``,
``seed + 1``, ``seed + 2``), as ``scslab compare`` does, and the comparison table comes
from the same machinery (:func:`scslab.experiments.compare.comparison_table`), so
``scslab compare baseline=REF variant=REF --set variant:... --seed S --replicates 3
[--scale F]`` prints the same numbers.

What makes a lever's move cheap:

* the scenario is read once (its ``extends:`` chain merged into one mapping); a move
  merges the levers' ``--set`` values into that mapping and validates it, and only a
  configuration that fails goes through :func:`load_scenario` again, for the command
  line's exact message;
* the baseline runs once per scenario and seed, and recent variants are kept;
* the replicates run in worker processes that loaded the engine at start: replicate 0
  (traced, for the life of one resident) and the charts that need it in one, the other
  replicates in the other, while the first waits for nothing;
* a preview's run computes what the page reads and no more: the invariants are not
  checked (``scslab compare`` checks them for the same numbers) and of the group figures
  only the listing rate's disparate impact is computed.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from scslab.app.config import BASELINE, LEVEL, REPLICATES, VARIANT, Config
from scslab.app.levers import sets_for
from scslab.app.views import RunViews, run_views, shown_measures
from scslab.errors import ScenarioError, ScslabError
from scslab.experiments.compare import Comparison, build_specs, comparison_table, scenario_of
from scslab.metrics.measures import run_measures
from scslab.run.options import RunOptions
from scslab.run.pipeline import run
from scslab.run.result import RunResult
from scslab.scenario.checks import semantic_problems
from scslab.scenario.loader import deep_merge, load_scenario, parse_set, resolve_scenario_dict
from scslab.scenario.schema import Scenario, reference_problems
from scslab.scenario.uncertainty import uncertain_problems

PREVIEW_RESIDENTS = 10_000  # the preview's population: large enough for stable lists
KEPT_VARIANTS = 32
# the group figures the page shows (views.shown_measures: di_listing_rate[...])
PREVIEW_DI_METRICS = ("listing_rate",)


class FieldProblems(ScslabError):
    """A configuration the sandbox cannot run: messages by the field they belong to
    (a lever item's URL key, ``scenario``, ``seed``, or ``""`` for the page)."""

    def __init__(self, by_field: dict[str, list[str]]):
        self.by_field = by_field
        super().__init__("\n".join(m for ms in by_field.values() for m in ms))


@dataclass(frozen=True)
class Base:
    """A scenario opened in the sandbox: ``ref`` as given, its merged data before any
    ``--set`` (``raw``), the validated scenario and its seed; for a run directory, its
    directory and manifest."""

    ref: str
    raw: dict
    scenario: Scenario
    seed: int
    run_dir: Path | None = None
    manifest: dict | None = field(default=None, repr=False, compare=False)

    @property
    def scale(self) -> float:
        """The preview's scale: the scenario's own size up to ``PREVIEW_RESIDENTS``."""
        return preview_scale(self.scenario.population.residents)

    @property
    def command_scale(self) -> float:
        """``--scale`` for the preview's command: a run directory's scenario is already
        at its run's scale, and ``scslab compare`` scales relative to the full one."""
        own = float(self.manifest.get("scale", 1.0)) if self.manifest else 1.0
        return float(f"{self.scale * own:.6g}")


def preview_scale(residents: int) -> float:
    """1, or ``PREVIEW_RESIDENTS / residents`` to three significant digits."""
    if residents <= PREVIEW_RESIDENTS:
        return 1.0
    return float(f"{PREVIEW_RESIDENTS / residents:.3g}")


def open_base(ref: str) -> Base:
    """Read a shipped scenario, a YAML file or a run directory (a ScenarioError or
    RunDirError with the command line's message when it cannot be read)."""
    spec = build_specs([ref])[0]
    if spec.run_dir is not None:
        scenario, manifest = scenario_of(spec)
        return Base(ref, dict(manifest["scenario"]), scenario, int(manifest["seed"]),
                    spec.run_dir, manifest)
    raw, _chain = resolve_scenario_dict(ref)
    try:
        scenario = Scenario.model_validate(raw)
        clean = not (reference_problems(scenario) or semantic_problems(scenario)
                     or uncertain_problems(scenario))
    except ValidationError:
        clean = False
    if not clean:
        scenario = load_scenario(ref)  # raises with the file, line, path and value
    return Base(ref, raw, scenario, int(scenario.seed))


def variant_of(base: Base, sets: list[str]) -> Scenario:
    """The base scenario with ``sets`` applied, validated as ``scslab run --set`` would;
    a ScenarioError carries the command line's messages."""
    if not sets:
        return base.scenario
    data = deep_merge(base.raw, parse_set(sets))
    try:
        s = Scenario.model_validate(data)
        problems = (reference_problems(s) or semantic_problems(s)
                    or uncertain_problems(s))
    except ValidationError:
        s, problems = None, [{}]
    if not problems:
        return s
    if base.run_dir is not None:  # as scslab compare reads a run directory with --set
        spec = build_specs([str(base.run_dir)], sets)[0]
        s, _ = scenario_of(spec)
        problems = (reference_problems(s) or semantic_problems(s)
                    or uncertain_problems(s))
        if problems:
            raise ScenarioError(problems)
        return s
    load_scenario(base.ref, sets=sets)  # raises: the same text as the command line
    raise ScenarioError(problems)  # pragma: no cover - load_scenario found what we found


def seed_of(base: Base, text: str | None) -> int:
    """The seed typed in the page (``None``: the scenario's), as ``--seed`` checks it."""
    if text is None or text == "":
        return base.seed
    try:
        value = int(text.strip())
    except ValueError:
        value = text
    return RunOptions(seed=value).seed  # a ScenarioError names the bad value


def problems_by_field(err: ScslabError, owner: dict[str, str]) -> dict[str, list[str]]:
    """Each problem of ``err`` as the command line prints it, under the lever item whose
    ``--set`` path it concerns (``""`` when none does)."""
    if not isinstance(err, ScenarioError):
        return {"": [str(err)]}
    out: dict[str, list[str]] = {}
    for p in err.problems:
        path = str(p.get("path") or "")
        key = next((k for a, k in owner.items()
                    if path == a or path.startswith(a + ".") or path.startswith(a + "[")
                    or a.startswith(path + ".")), "") if path else ""
        out.setdefault(key, []).append(ScenarioError([p]).render())
    return out


# ---------------------------------------------------------------- work in the workers


def run_replicate(scenario: Scenario, seed: int, scale: float, trace: bool
                  ) -> tuple[dict[str, float], RunResult | None]:
    """One replicate: the measures the page shows (the listing rate of the group
    figures), and the run itself when traced (replicate 0).  The invariants are not
    checked: ``scslab compare``, which gives the same numbers, checks them."""
    rr = run(scenario, RunOptions(seed=seed, scale=None if scale == 1.0 else scale,
                                  trace=trace), threads=1,
             command=f"scslab app preview (seed {seed})", check_invariants=False)
    return run_measures(rr, di_metrics=PREVIEW_DI_METRICS), (rr if trace else None)


def run_first_replicate(scenario: Scenario, seed: int, scale: float, baseline: RunResult | None
                        ) -> tuple[dict[str, float], RunResult | None, RunViews]:
    """Replicate 0 of the variant, traced, and the charts that set it beside the
    baseline's replicate 0 (``None``: the variant is the baseline).  The run itself comes
    back for the baseline only (the next variants' charts need it); a variant's stays in
    the worker, which spares the app unpickling megabytes on every move."""
    measures, rr = run_replicate(scenario, seed, scale, True)
    views = run_views(baseline if baseline is not None else rr, rr)
    return measures, rr if baseline is None else None, views


def warm_worker() -> None:
    """Load the engine's compiled kernel and the chart builders in a worker, which ends
    itself when the app that started it is gone (killed, say, while warming up)."""
    threading.Thread(target=_end_with_parent, args=(os.getppid(),), daemon=True,
                     name="scslab preview worker: parent watch").start()
    run_replicate(load_scenario("minimal"), 1, 1.0, False)


def _end_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


# ---------------------------------------------------------------- the previewer


@dataclass
class Arm:
    """One side of the comparison: replicate 0's run and every replicate's measures."""

    first: RunResult | None  # the baseline's only (run_first_replicate)
    measures: list[dict[str, float]]


@dataclass
class Preview:
    """What the page shows for one configuration."""

    config: Config
    base: Base
    seed: int
    sets: list[str]
    variant: Scenario
    comparison: Comparison
    baseline: RunResult
    views: RunViews  # the charts of replicate 0 of each arm
    seconds: float


class Previewer:
    """Runs previews; one per app, shared by every page it serves.

    ``workers`` processes (default: the cores this process may use, at most 2) run the
    replicates; ``workers=0`` runs them in the calling thread (slower, no processes).
    """

    def __init__(self, workers: int | None = None):
        if workers is None:
            workers = min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                          else (os.cpu_count() or 1))
        self.workers = workers
        self._pool: Executor | None = None
        self._lock = threading.Lock()
        self._bases: dict[str, Base] = {}
        self._baselines: dict[tuple, Arm] = {}
        self._variants: OrderedDict[tuple, tuple[Arm, RunViews]] = OrderedDict()
        self._inflight: dict[str, list[Future]] = {}
        self._baseline_locks: dict[tuple, threading.Lock] = {}

    # -- processes
    def pool(self) -> Executor | None:
        if self.workers == 0:
            return None
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=warm_worker)
            return self._pool

    def _submit(self, fn, *args) -> Future:
        pool = self.pool()
        if pool is None:
            f: Future = Future()
            f.set_result(fn(*args))
            return f
        return pool.submit(fn, *args)

    def _supersede(self, channel: str | None, futures: list[Future]) -> None:
        """Cancel the work a page asked for before its latest move (what has not started
        yet), so a dragged slider does not queue a run for every value it passed."""
        if channel is None:
            return
        with self._lock:
            for f in self._inflight.get(channel, []):
                f.cancel()
            self._inflight[channel] = futures

    def warm(self, ref: str = "tiny") -> None:
        """Start the workers and run the baseline of ``ref`` (at app start)."""
        self.preview(Config(ref))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    # -- scenarios
    def base(self, ref: str) -> Base:
        with self._lock:
            hit = self._bases.get(ref)
        if hit is None:
            hit = open_base(ref)
            with self._lock:
                self._bases[ref] = hit
        return hit

    # -- arms
    def _arm(self, scenario: Scenario, seed: int, scale: float, baseline: RunResult | None,
             channel: str | None = None) -> tuple[Arm, RunViews]:
        first = self._submit(run_first_replicate, scenario, seed, scale, baseline)
        rest = [self._submit(run_replicate, scenario, seed + r, scale, False)
                for r in range(1, REPLICATES)]
        self._supersede(channel, [first, *rest])
        try:
            m0, rr0, views = first.result()
            measures = [m0] + [f.result()[0] for f in rest]
        except BaseException:
            for f in (first, *rest):
                f.cancel()
            raise
        return Arm(rr0, measures), views

    def baseline(self, base: Base, seed: int) -> tuple[Arm, RunViews]:
        """The baseline's runs, computed once per scenario and seed (pages asking at the
        same time wait for the one computation)."""
        key = (base.ref, seed)
        with self._lock:
            lock = self._baseline_locks.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                hit = self._baselines.get(key)
            if hit is None:
                hit = self._arm(base.scenario, seed, base.scale, None)
                with self._lock:
                    self._baselines[key] = hit
        return hit

    def preview(self, config: Config, *, channel: str | None = None) -> Preview:
        """The preview of ``config``, or FieldProblems saying which field is wrong;
        ``channel`` names the page asking (its older unstarted work is dropped)."""
        t0 = time.perf_counter()
        try:
            base = self.base(config.scenario)
        except ScslabError as e:
            raise FieldProblems({"scenario": [str(e)]}) from None
        try:
            seed = seed_of(base, config.seed)
        except ScslabError as e:
            raise FieldProblems({"seed": [str(e)]}) from None
        sets, owner = sets_for(base.scenario, config.values)
        try:
            variant = variant_of(base, sets)
        except ScslabError as e:
            raise FieldProblems(problems_by_field(e, owner)) from None
        base_arm, base_views = self.baseline(base, seed)
        if not sets:
            arm, views = base_arm, base_views
        else:
            key = (base.ref, seed, tuple(sets))
            with self._lock:
                hit = self._variants.get(key)
            if hit is None:
                hit = self._arm(variant, seed, base.scale, base_arm.first, channel)
                with self._lock:
                    self._variants[key] = hit
                    while len(self._variants) > KEPT_VARIANTS:
                        self._variants.popitem(last=False)
            arm, views = hit
        shown = shown_measures(base.scenario, list(base_arm.measures[0]))
        per = {label: [{m: d[m] for m in shown if m in d} for d in a.measures]
               for label, a in ((BASELINE, base_arm), (VARIANT, arm))}
        table = comparison_table(per, [BASELINE, VARIANT], level=LEVEL, interval="t")
        table["seed"] = seed
        comparison = Comparison(table=table, labels=[BASELINE, VARIANT], runs={}, seed=seed,
                                replicates=REPLICATES, level=LEVEL)
        return Preview(config=config, base=base, seed=seed, sets=sets, variant=variant,
                       comparison=comparison, baseline=base_arm.first,
                       views=views, seconds=time.perf_counter() - t0)
