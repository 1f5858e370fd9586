"""The scenario schema (pydantic v2).  Unknown keys are rejected everywhere.

The sections follow scslab's data flow: population -> acts -> departments -> policy
(score, lists, sanctions) -> actions (exposure) -> outputs.  Field docs here are the
reference for the YAML format.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from scslab.scenario.dated import check_dated

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
Name = Annotated[str, Field(pattern=NAME_PATTERN)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


def _number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError("expected a number")
    if not math.isfinite(v):
        raise ValueError("expected a finite number")
    return v


def _probability(v: Any) -> float:
    v = _number(v)
    if not 0.0 <= v <= 1.0:
        raise ValueError("expected a probability between 0 and 1")
    return float(v)


def _rate(v: Any) -> float:
    v = _number(v)
    if v < 0:
        raise ValueError("expected a rate >= 0")
    return float(v)


def _points(v: Any) -> int:
    v = _number(v)
    if v != int(v) or abs(v) > 100_000:
        raise ValueError("expected whole points between -100000 and 100000")
    return int(v)


def _days(v: Any) -> int:
    v = _number(v)
    if v != int(v) or not 0 <= v <= 36_500:
        raise ValueError("expected a whole number of days between 0 and 36500")
    return int(v)


def _retention(v: Any) -> int | str:
    if v == "lifelong":
        return v
    try:
        return _days(v)
    except ValueError:
        raise ValueError("expected a whole number of days (0-36500) or 'lifelong'") from None


def _threshold(v: Any) -> float:
    return float(_number(v))


DatedProbability = Annotated[Any, AfterValidator(lambda v: check_dated(v, _probability))]
DatedRate = Annotated[Any, AfterValidator(lambda v: check_dated(v, _rate))]
DatedPoints = Annotated[Any, AfterValidator(lambda v: check_dated(v, _points))]
DatedDays = Annotated[Any, AfterValidator(lambda v: check_dated(v, _days))]
DatedRetention = Annotated[Any, AfterValidator(lambda v: check_dated(v, _retention))]
DatedThreshold = Annotated[Any, AfterValidator(lambda v: check_dated(v, _threshold))]


def _str_keys(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): val for k, val in v.items()}
    return v


Multipliers = Annotated[
    dict[Name, Annotated[dict[str, Annotated[float, Field(ge=0)]], BeforeValidator(_str_keys)]],
    Field(default_factory=dict),
]


class Rate(Strict):
    """How often something happens to one resident: give exactly one of the two."""

    per_day: Annotated[float, Field(ge=0, le=1)] | None = Field(
        None, description="probability per day (at most one event a day)"
    )
    per_year: Annotated[float, Field(ge=0, le=365)] | None = Field(
        None, description="expected events per year; converted to 1 - exp(-per_year/365) a day"
    )

    @model_validator(mode="after")
    def _one(self):
        if (self.per_day is None) == (self.per_year is None):
            raise ValueError("give exactly one of per_day or per_year")
        return self

    def daily_probability(self) -> float:
        if self.per_day is not None:
            return self.per_day
        return 1.0 - math.exp(-self.per_year / 365.0)


class Attribute(Strict):
    """A categorical resident attribute; any attribute can be an audit group."""

    categories: list[Annotated[str, BeforeValidator(str)]] = Field(min_length=1, max_length=250)
    weights: list[Annotated[float, Field(ge=0)]] | None = Field(
        None, description="relative weights, one per category; omitted means uniform"
    )

    @model_validator(mode="after")
    def _shape(self):
        if len(set(self.categories)) != len(self.categories):
            raise ValueError("categories must be distinct")
        if self.weights is not None:
            if len(self.weights) != len(self.categories):
                raise ValueError(
                    f"weights has {len(self.weights)} entries but there are "
                    f"{len(self.categories)} categories; give one weight per category"
                )
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self


class Population(Strict):
    residents: Annotated[int, Field(ge=1, le=2_000_000_000)]
    units: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        description="subdistricts/townships; every interaction stays inside a unit"
    )
    household_sizes: Annotated[dict[int, Annotated[float, Field(ge=0)]], Field(min_length=1)] = (
        Field(default_factory=lambda: {1: 1.0}, description="relative weight of each size")
    )
    attributes: dict[Name, Attribute] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self):
        if self.units > self.residents:
            raise ValueError(
                f"units ({self.units}) cannot exceed residents ({self.residents})"
            )
        if any(k < 1 or k > 50 for k in self.household_sizes):
            raise ValueError("household sizes must be between 1 and 50")
        return self


class Act(Strict):
    """A kind of act (ground truth): what residents really do."""

    rate: Rate
    multipliers: Multipliers
    valence: Literal["negative", "positive"] = "negative"
    description: str = ""


class Recording(Strict):
    """How one department records one act type."""

    coverage: DatedProbability = Field(1.0, description="chance a true act is recorded")
    false_per_resident_year: DatedRate = Field(
        0.0, description="false records of this type per resident-year"
    )


class Department(Strict):
    records: dict[Name, Recording] = Field(min_length=1, description="act type -> recording")
    misattribution: DatedProbability = Field(
        0.0, description="chance a record lands on another resident of the unit"
    )
    delay_days: Annotated[int, Field(ge=0, le=3650)] = 0
    shares_from: dt.date | None = Field(
        None, description="date from which records reach the pooled platform; null = never"
    )


class Score(Strict):
    base: Annotated[int, Field(ge=-100_000, le=100_000)] = 1000
    min: int | None = None
    max: int | None = None
    points: dict[Name, DatedPoints] = Field(default_factory=dict)
    caps: dict[Name, Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict, description="most points one act type can move the score"
    )
    retention_days: dict[Name, DatedRetention] = Field(default_factory=dict)
    default_retention_days: DatedRetention = "lifelong"

    @model_validator(mode="after")
    def _bounds(self):
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class ScoreList(Strict):
    """Listed while the score is below (black) or at least (red) a dated threshold."""

    kind: Literal["score"]
    below: DatedThreshold | None = None
    at_least: DatedThreshold | None = None
    color: Literal["black", "red"] | None = None
    starts: dt.date | None = None
    description: str = ""

    @model_validator(mode="after")
    def _one(self):
        if (self.below is None) == (self.at_least is None):
            raise ValueError("a score list needs exactly one of 'below' or 'at_least'")
        if self.color is None:
            self.color = "black" if self.below is not None else "red"
        return self


class RecordList(Strict):
    """A record of one of ``acts`` lists its subject for ``duration_days``."""

    kind: Literal["record"]
    acts: list[Name] = Field(min_length=1)
    duration_days: DatedDays = 730
    color: Literal["black", "red"] = "black"
    starts: dt.date | None = None
    description: str = ""


ListRule = Annotated[ScoreList | RecordList, Field(discriminator="kind")]


class Sanction(Strict):
    """Listed status on any of ``lists`` blocks attempts at the action."""

    lists: list[Name] = Field(min_length=1)
    enforcement: DatedProbability = 1.0
    starts: dt.date | None = None


class Policy(Strict):
    score: Score = Field(default_factory=Score)
    lists: dict[Name, ListRule] = Field(default_factory=dict)
    sanctions: dict[Name, Sanction] = Field(
        default_factory=dict, description="action -> which lists block it"
    )


class Action(Strict):
    """Something residents attempt (exposure): flights, trains, loans, ..."""

    rate: Rate
    multipliers: Multipliers
    description: str = ""


class Outputs(Strict):
    records: bool = Field(False, description="write records.parquet (small runs)")
    lists: bool = Field(False, description="write list_events.parquet (small runs)")


class Scenario(Strict):
    name: Name
    description: str = Field(min_length=1)
    sources: list[str] = Field(default_factory=list)
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    start: dt.date
    days: Annotated[int, Field(ge=1, le=36_500)] | None = None
    end: dt.date | None = None
    population: Population
    acts: dict[Name, Act] = Field(min_length=1)
    departments: dict[Name, Department] = Field(default_factory=dict)
    policy: Policy = Field(default_factory=Policy)
    actions: dict[Name, Action] = Field(default_factory=dict)
    outputs: Outputs = Field(default_factory=Outputs)

    @model_validator(mode="after")
    def _period(self):
        if self.days is None and self.end is None:
            raise ValueError("give the period: 'days' or 'end'")
        if self.days is not None and self.end is not None:
            raise ValueError("give only one of 'days' or 'end'")
        if self.end is not None:
            if self.end <= self.start:
                raise ValueError(f"end ({self.end}) must be after start ({self.start})")
            self.days = (self.end - self.start).days
            self.end = None
        return self

    @property
    def n_days(self) -> int:
        return int(self.days)


def reference_problems(s: Scenario) -> list[dict]:
    """Cross-references the schema alone cannot check: every name used must be defined.

    Returns problems as dicts with ``path``, ``value`` and ``message``.
    """
    problems: list[dict] = []
    acts = set(s.acts)
    lists = set(s.policy.lists)
    actions = set(s.actions)
    attrs = s.population.attributes

    def need(name, known, path, what):
        if name not in known:
            allowed = ", ".join(sorted(known)) or "none defined"
            problems.append(
                {"path": path, "value": name, "message": f"unknown {what}; defined: {allowed}"}
            )

    def check_multipliers(mults, path):
        for attr, table in mults.items():
            if attr not in attrs:
                need(attr, attrs, f"{path}.{attr}", "attribute")
                continue
            for cat in table:
                need(cat, attrs[attr].categories, f"{path}.{attr}.{cat}", f"category of {attr}")

    for a, act in s.acts.items():
        check_multipliers(act.multipliers, f"acts.{a}.multipliers")
    for k, action in s.actions.items():
        check_multipliers(action.multipliers, f"actions.{k}.multipliers")
    for d, dep in s.departments.items():
        for a in dep.records:
            need(a, acts, f"departments.{d}.records.{a}", "act")
    for a in s.policy.score.points:
        need(a, acts, f"policy.score.points.{a}", "act")
    for a in s.policy.score.caps:
        need(a, acts, f"policy.score.caps.{a}", "act")
    for a in s.policy.score.retention_days:
        need(a, acts, f"policy.score.retention_days.{a}", "act")
    for name, rule in s.policy.lists.items():
        if isinstance(rule, RecordList):
            for i, a in enumerate(rule.acts):
                need(a, acts, f"policy.lists.{name}.acts[{i}]", "act")
    for k, sanction in s.policy.sanctions.items():
        need(k, actions, f"policy.sanctions.{k}", "action")
        for i, lst in enumerate(sanction.lists):
            need(lst, lists, f"policy.sanctions.{k}.lists[{i}]", "list")
    if len(s.policy.lists) > 16:
        problems.append(
            {"path": "policy.lists", "value": len(s.policy.lists),
             "message": "at most 16 lists are supported"}
        )
    return problems
