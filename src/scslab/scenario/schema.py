"""The scenario schema (pydantic v2).  Unknown keys are rejected everywhere.

The sections follow scslab's data flow: population -> acts -> departments -> policy
(score, lists, sanctions) -> actions (exposure) -> outputs.  Field docs here are the
reference for the YAML format.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    model_validator,
)

from scslab.scenario.dated import check_dated
from scslab.scenario.uncertainty import Uncertain

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
# a scenario's name is also its run directory and what the command line types:
# hyphenated (described-beijing); names with underscores from older files still read
SCENARIO_NAME_PATTERN = r"^[a-z][a-z0-9_-]*$"
MAX_RESIDENTS = 2_000_000_000
MAX_UNITS = 1_000_000
Name = Annotated[str, Field(pattern=NAME_PATTERN)]
ScenarioName = Annotated[str, Field(pattern=SCENARIO_NAME_PATTERN, max_length=100)]


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
    household_correlation: Annotated[float, Field(ge=0, le=1)] = Field(
        0.0, description="chance that a household member after the first takes the first "
                         "member's category instead of drawing their own (0 = independent)")

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


CHILD_CATEGORY = "0-17"  # children's age category and their group in every attribute


class Children(Strict):
    """Minors: the last members of some households of two or more are children.  Children
    commit no acts and attempt only actions taken for a child (``for_child``)."""

    share_of_households: Annotated[float, Field(ge=0, le=1)] = Field(
        description="share of households of two or more members that have children")
    per_household: Annotated[dict[int, Annotated[float, Field(ge=0)]], Field(min_length=1)] = (
        Field(default_factory=lambda: {1: 1.0},
              description="relative weight of each number of children (at least one adult "
                          "stays: a household of s members has at most s - 1 children)"))
    attribute: Name | None = Field(
        None, description="the age attribute, which must have the category '0-17': "
                          "children get it (null = none)")

    @model_validator(mode="after")
    def _counts(self):
        if any(k < 1 or k > 49 for k in self.per_household):
            raise ValueError("children per household must be between 1 and 49")
        if sum(self.per_household.values()) <= 0:
            raise ValueError("per_household weights must not all be zero")
        return self


class Population(Strict):
    """Residents, their units, households and attributes."""

    residents: Annotated[int, Field(ge=1, le=MAX_RESIDENTS)]
    units: Annotated[int, Field(ge=1, le=MAX_UNITS)] = Field(
        description="subdistricts/townships; every interaction stays inside a unit"
    )
    household_sizes: Annotated[dict[int, Annotated[float, Field(ge=0)]], Field(min_length=1)] = (
        Field(default_factory=lambda: {1: 1.0}, description="relative weight of each size")
    )
    attributes: dict[Name, Attribute] = Field(default_factory=dict)
    children: Children | None = Field(
        None, description="minors in households (null = every resident is an adult)")
    firms: Firms | None = None

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
    """A kind of act (ground truth): what residents (or firms) really do."""

    rate: Rate
    multipliers: Multipliers
    subject: Literal["resident", "firm"] = "resident"
    valence: Literal["negative", "positive"] = "negative"
    speech: StrictBool = Field(
        False, description="an act of speech (chilling applies, not deterrence)")
    shock_multiplier: Annotated[float, Field(ge=1, le=100)] = Field(
        1.0, description="rate multiplier while the resident suffers an income shock"
    )
    description: str = ""


class Firms(Strict):
    """Firms of each unit: attributes, a legal representative and employees."""

    per_1000_residents: Annotated[float, Field(ge=0, le=1000)] = 30.0
    attributes: dict[Name, Attribute] = Field(default_factory=dict)
    employed_share: Annotated[float, Field(ge=0, le=1)] = Field(
        0.6, description="share of residents employed by a firm of their unit"
    )
    representatives: Representatives | None = Field(
        None, description="who legal representatives are (null = any adult resident, "
                          "uniformly)")


class Representatives(Strict):
    """Legal representatives are drawn with weights: the product of their attribute
    multipliers (e.g. 0 for the retired, more for higher income deciles); never children."""

    multipliers: Multipliers


class Recording(Strict):
    """How one department records one act type."""

    coverage: DatedProbability = Field(1.0, description="chance a true act is recorded")
    observed_by_cameras: StrictBool = Field(
        False, description="the department's cameras also observe the act: coverage becomes "
                           "1 - (1 - coverage)(1 - cameras)")
    false_per_resident_year: DatedRate = Field(
        0.0, description="false records of this type per resident-year"
    )


class Department(Strict):
    records: dict[Name, Recording] = Field(min_length=1, description="act type -> recording")
    misattribution: DatedProbability = Field(
        0.0, description="chance a record lands on another resident of the unit"
    )
    delay_days: Annotated[int, Field(ge=0, le=3650)] = 0
    cameras: DatedProbability = Field(
        0.0, description="chance the department's cameras (and facial recognition) capture an "
                         "act they observe, over and above its coverage; dated")
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
    tiers: dict[Annotated[str, BeforeValidator(str)], float | None] = Field(
        default_factory=dict,
        description="grade -> lowest score of the grade, highest grade first; null = the rest",
    )

    @model_validator(mode="after")
    def _bounds(self):
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        floors = [v for v in self.tiers.values() if v is not None]
        if floors != sorted(floors, reverse=True):
            raise ValueError("tiers must run from the highest grade down")
        if None in list(self.tiers.values())[:-1]:
            raise ValueError("only the last tier may have no floor (null = the rest)")
        if len(self.tiers) > 16:
            raise ValueError("at most 16 tiers")
        return self


class ScoreList(Strict):
    """Listed while the score is below (black) or at least (red) a dated threshold."""

    kind: Literal["score"]
    subject: Literal["resident", "firm"] = "resident"
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


class Extension(Strict):
    """At the end of a listing whose obligation is unperformed, extend it."""

    probability: Annotated[float, Field(ge=0, le=1)] = 0.0
    days: Annotated[int, Field(ge=0, le=3650)] = 365


class RecordList(Strict):
    """A record of one of ``acts`` lists its subject for ``duration_days`` (until the
    obligation is performed, the record is removed, or the time runs out)."""

    kind: Literal["record"]
    acts: list[Name] = Field(min_length=1)
    duration_days: DatedDays = 730
    extension: Extension | None = None
    color: Literal["black", "red"] = "black"
    starts: dt.date | None = None
    description: str = ""


class FirmLinkedList(Strict):
    """A resident is listed while a firm they legally represent is on one of ``lists``."""

    kind: Literal["firm_linked"]
    lists: list[Name] = Field(min_length=1)
    color: Literal["black", "red"] = "black"
    starts: dt.date | None = None
    description: str = ""


class HouseholdList(Strict):
    """Association: a resident is flagged while another member of the household is on
    one of ``lists``."""

    kind: Literal["household"]
    lists: list[Name] = Field(min_length=1)
    color: Literal["black", "red"] = "black"
    starts: dt.date | None = None
    description: str = ""


class EscalationList(Strict):
    """A firm moves onto this list after ``after_days`` uncorrected on list ``source``."""

    kind: Literal["escalation"]
    source: Name
    after_days: Annotated[int, Field(ge=0, le=36500)] = 1095
    color: Literal["black", "red"] = "black"
    starts: dt.date | None = None
    description: str = ""


ListRule = Annotated[
    ScoreList | RecordList | FirmLinkedList | HouseholdList | EscalationList,
    Field(discriminator="kind"),
]


class Retry(Strict):
    """A blocked resident tries again: each blocked attempt is retried ``days`` later with
    ``probability`` (a retry that is blocked may be retried in turn)."""

    probability: Annotated[float, Field(ge=0, lt=1)] = Field(
        description="chance a blocked attempt is tried again")
    days: Annotated[int, Field(ge=1, le=365)] = Field(
        1, description="days from a blocked attempt to its retry")


class Sanction(Strict):
    """Listed status on any of ``lists`` blocks attempts at the action."""

    lists: list[Name] = Field(min_length=1)
    enforcement: DatedProbability = 1.0
    starts: dt.date | None = None
    retry: Retry | None = Field(
        None, description="blocked residents try again (null = never); the blocks counted "
                          "are attempts, not people")
    income_shock_days: Annotated[int, Field(ge=0, le=3650)] = Field(
        0, description="a block causes an income shock this long (economic feedback loop)"
    )


class Reward(Strict):
    """Green channel: status on any of ``lists`` fast-tracks the action."""

    lists: list[Name] = Field(min_length=1)
    days_saved: Annotated[float, Field(ge=0, le=3650)] = 10.0
    starts: dt.date | None = None


class Performance(Strict):
    """The subject of a true record of this act performs the obligation at this rate
    (multiplied by attribute multipliers, e.g. by income decile); a listing it triggered
    ends ``removal_days`` later."""

    rate: Rate
    multipliers: Multipliers
    removal_days: Annotated[int, Field(ge=0, le=3650)] = 3
    listed_multiplier: Annotated[float, Field(ge=1, le=1000)] = Field(
        1.0, description="factor on the rate while the subject is on a black list")


class Appeals(Strict):
    """Notice and appeal against records."""

    notified: DatedProbability = Field(0.0, description="chance the subject is notified")
    notice_if_notified: Annotated[float, Field(ge=0, le=1)] = 0.9
    notice_otherwise: Annotated[float, Field(ge=0, le=1)] = 0.1
    appeal_true_records: Annotated[float, Field(ge=0, le=1)] = Field(
        0.05, description="chance a subject who notices a true record appeals it anyway"
    )
    filing_days: Annotated[int, Field(ge=0, le=3650)] = 30
    review_days: Annotated[int, Field(ge=0, le=3650)] = 15
    success_wrong: Annotated[float, Field(ge=0, le=1)] = 0.8
    success_true: Annotated[float, Field(ge=0, le=1)] = 0.05


class Repair(Strict):
    """Credit repair: after ``after_days`` a negative record can be removed at ``rate``."""

    after_days: Annotated[int, Field(ge=0, le=36500)] = 365
    rate: Rate
    acts: list[Name] | None = Field(None, description="acts it applies to; null = all negative")


class AccountRemoval(Strict):
    """A speech sanction: residents on any of ``lists`` lose their account (no posts,
    lawful or not) while they are on it."""

    lists: list[Name] = Field(min_length=1)
    starts: dt.date | None = None


class LawfulSpeech(Strict):
    """Lawful posting, counted in aggregate (no event per post): expected posts per
    resident and day, times attribute multipliers; chilled like speech acts."""

    posts_per_day: Annotated[float, Field(ge=0, le=1000)]
    multipliers: Multipliers


class Remedies(Strict):
    perform: dict[Name, Performance] = Field(default_factory=dict)
    appeals: Appeals | None = None
    repair: Repair | None = None


Label = Annotated[str, BeforeValidator(str)]  # a category or grade; numbers read as text


class FixedGrade(Strict):
    """Grades set by a firm attribute, not the score: e.g. new firms are graded M."""

    attribute: Name = Field(description="the firm attribute")
    grades: Annotated[dict[Label, Label], Field(min_length=1)] = Field(
        description="category -> grade")


class FirmScore(Strict):
    """Firms' own score (e.g. tax credit out of 100) with points for firm acts."""

    base: Annotated[int, Field(ge=-100_000, le=100_000)] = 100
    min: int | None = None
    max: int | None = None
    tiers: dict[Annotated[str, BeforeValidator(str)], float | None] = Field(default_factory=dict)
    fixed_grade: FixedGrade | None = Field(
        None, description="firms of some categories get a grade whatever their score")


class Policy(Strict):
    score: Score = Field(default_factory=Score)
    firm_score: FirmScore = Field(default_factory=FirmScore)
    lists: dict[Name, ListRule] = Field(default_factory=dict)
    sanctions: dict[Name, Sanction] = Field(
        default_factory=dict, description="action -> which lists block it"
    )
    rewards: dict[Name, Reward] = Field(
        default_factory=dict, description="action -> which lists fast-track it"
    )
    remedies: Remedies = Field(default_factory=Remedies)
    account_removal: AccountRemoval | None = Field(
        None, description="lists whose members lose their account (null = none)")


class Awareness(Strict):
    """Who knows the system: deterrence reaches only aware residents."""

    base: DatedProbability = Field(description="share of residents aware of the system")
    household_listed: Annotated[float, Field(ge=0, le=1)] = Field(
        0.5, description="awareness once a household member has been listed")
    listed: Annotated[float, Field(ge=0, le=1)] = Field(
        1.0, description="awareness once listed oneself")


class Deterrence(Strict):
    """Perceived sanction risk lowers the rates of negative, non-speech acts."""

    enabled: StrictBool = False
    general: Annotated[float, Field(ge=0, le=1)] = Field(
        0.2, description="reduction while the act is scored by the platform"
    )
    personal: Annotated[float, Field(ge=0, le=1)] = Field(
        0.3, description="further reduction while the resident has an active negative record"
    )
    sanctions: Annotated[float, Field(ge=0, le=1)] = Field(
        0.0, description="further reduction while the act's records can bring a sanction in "
        "force that day")
    awareness: Awareness | None = Field(
        None, description="who is aware of the system (null = everybody)")


class Chilling(Strict):
    """Surveillance of speech and the salience of sanctions lower speech acts."""

    enabled: StrictBool = False
    surveillance: Annotated[float, Field(ge=0, le=1)] = Field(
        0.3, description="reduction while speech is scored"
    )
    salience: Annotated[float, Field(ge=0, le=1)] = Field(
        0.3, description="reduction when the unit's listed share reaches salience_share"
    )
    salience_share: Annotated[float, Field(gt=0, le=1)] = 0.05


class Economic(Strict):
    """A blocked job or loan causes an income shock that raises acts' rates by their
    ``shock_multiplier``."""

    enabled: StrictBool = False


class Feedback(Strict):
    economic: Economic = Field(default_factory=Economic)
    deterrence: Deterrence = Field(default_factory=Deterrence)
    chilling: Chilling = Field(default_factory=Chilling)


class Action(Strict):
    """Something residents attempt (exposure): flights, trains, loans, ..."""

    rate: Rate
    multipliers: Multipliers
    growth: DatedRate = Field(
        1.0, description="dated multiplier on the rate (e.g. travel volumes relative to a "
                         "base year); 1 before its first date")
    for_child: StrictBool = Field(
        False, description="taken for a child (e.g. school enrolment): children attempt it "
                           "and adults do not; an adult of the child's household on a list "
                           "of its sanction blocks it")
    description: str = ""


class Outputs(Strict):
    records: StrictBool = Field(False, description="write records.parquet (small runs)")
    lists: StrictBool = Field(False, description="write list_events.parquet (small runs)")


class Scenario(Strict):
    name: ScenarioName
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
    feedback: Feedback = Field(default_factory=Feedback)
    lawful_speech: LawfulSpeech | None = Field(
        None, description="lawful posting counted in aggregate (null = not modelled)")
    outputs: Outputs = Field(default_factory=Outputs)
    uncertain: Uncertain = Field(
        default_factory=dict,
        description="parameter path -> distribution of its unknown value, with why "
                    "(scslab.scenario.uncertainty); `path: null` drops an inherited one")

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


def list_subject(s: Scenario, name: str) -> str:
    """'resident' or 'firm': whom list ``name`` holds."""
    rule = s.policy.lists[name]
    if isinstance(rule, ScoreList):
        return rule.subject
    if isinstance(rule, RecordList):
        act = s.acts.get(rule.acts[0])
        return act.subject if act is not None else "resident"
    if isinstance(rule, EscalationList):
        return "firm"
    return "resident"


def reference_problems(s: Scenario) -> list[dict]:
    """Cross-references the schema alone cannot check: every name used must be defined,
    and lists, acts and actions must concern the right kind of subject.

    Returns problems as dicts with ``path``, ``value`` and ``message``.
    """
    problems: list[dict] = []
    acts = set(s.acts)
    lists = set(s.policy.lists)
    actions = set(s.actions)
    attrs = s.population.attributes
    firms = s.population.firms
    firm_attrs = firms.attributes if firms is not None else {}

    def add(path, value, message):
        problems.append({"path": path, "value": value, "message": message})

    def need(name, known, path, what):
        if name not in known:
            allowed = ", ".join(sorted(known)) or "none defined"
            add(path, name, f"unknown {what}; defined: {allowed}")
            return False
        return True

    def check_multipliers(mults, path, table):
        for attr, by_cat in mults.items():
            if not need(attr, table, f"{path}.{attr}", "attribute"):
                continue
            for cat in by_cat:
                need(cat, table[attr].categories, f"{path}.{attr}.{cat}", f"category of {attr}")

    for a, act in s.acts.items():
        table = attrs if act.subject == "resident" else firm_attrs
        check_multipliers(act.multipliers, f"acts.{a}.multipliers", table)
        if act.subject == "firm" and firms is None:
            add(f"acts.{a}.subject", "firm", "firm acts need population.firms")
    for k, action in s.actions.items():
        check_multipliers(action.multipliers, f"actions.{k}.multipliers", attrs)
        if action.for_child and s.population.children is None:
            add(f"actions.{k}.for_child", True, "actions taken for a child need "
                "population.children")
    ch = s.population.children
    if ch is not None and ch.attribute is not None and need(
            ch.attribute, attrs, "population.children.attribute", "attribute"):
        if CHILD_CATEGORY not in attrs[ch.attribute].categories:
            add("population.children.attribute", ch.attribute,
                f"the age attribute needs the category '{CHILD_CATEGORY}' for children")
    if firms is not None and firms.representatives is not None:
        check_multipliers(firms.representatives.multipliers,
                          "population.firms.representatives.multipliers", attrs)
    for d, dep in s.departments.items():
        for a in dep.records:
            need(a, acts, f"departments.{d}.records.{a}", "act")
    sc = s.policy.score
    for field in ("points", "caps", "retention_days"):
        for a in getattr(sc, field):
            need(a, acts, f"policy.score.{field}.{a}", "act")
    for name, rule in s.policy.lists.items():
        path = f"policy.lists.{name}"
        if isinstance(rule, RecordList):
            subjects = set()
            for i, a in enumerate(rule.acts):
                if need(a, acts, f"{path}.acts[{i}]", "act"):
                    subjects.add(s.acts[a].subject)
            if len(subjects) > 1:
                add(f"{path}.acts", rule.acts, "acts of one record list must share a subject")
        elif isinstance(rule, ScoreList) and rule.subject == "firm" and firms is None:
            add(f"{path}.subject", "firm", "firm lists need population.firms")
        elif isinstance(rule, FirmLinkedList | HouseholdList):
            want = "firm" if isinstance(rule, FirmLinkedList) else "resident"
            for i, src in enumerate(rule.lists):
                if not need(src, lists, f"{path}.lists[{i}]", "list"):
                    continue
                src_rule = s.policy.lists[src]
                if list_subject(s, src) != want:
                    add(f"{path}.lists[{i}]", src, f"must name a {want} list")
                elif isinstance(src_rule, HouseholdList):
                    add(f"{path}.lists[{i}]", src, "a household list cannot feed another")
        elif isinstance(rule, EscalationList):
            if need(rule.source, lists, f"{path}.source", "list"):
                if list_subject(s, rule.source) != "firm" or isinstance(
                    s.policy.lists[rule.source], EscalationList
                ):
                    add(f"{path}.source", rule.source, "must name a firm list (not escalation)")
    for section in ("sanctions", "rewards"):
        for k, rule in getattr(s.policy, section).items():
            need(k, actions, f"policy.{section}.{k}", "action")
            for i, lst in enumerate(rule.lists):
                if need(lst, lists, f"policy.{section}.{k}.lists[{i}]", "list"):
                    if list_subject(s, lst) != "resident":
                        add(f"policy.{section}.{k}.lists[{i}]", lst,
                            "actions are residents'; name a resident list")
    rem = s.policy.remedies
    for a, perf in rem.perform.items():
        if need(a, acts, f"policy.remedies.perform.{a}", "act"):
            table = attrs if s.acts[a].subject == "resident" else firm_attrs
            check_multipliers(perf.multipliers, f"policy.remedies.perform.{a}.multipliers",
                              table)
    ar = s.policy.account_removal
    if ar is not None:
        for i, lst in enumerate(ar.lists):
            if need(lst, lists, f"policy.account_removal.lists[{i}]", "list"):
                if list_subject(s, lst) != "resident":
                    add(f"policy.account_removal.lists[{i}]", lst,
                        "accounts are residents'; name a resident list")
    if s.lawful_speech is not None:
        check_multipliers(s.lawful_speech.multipliers, "lawful_speech.multipliers", attrs)
    if rem.repair is not None and rem.repair.acts:
        for i, a in enumerate(rem.repair.acts):
            need(a, acts, f"policy.remedies.repair.acts[{i}]", "act")
    fg = s.policy.firm_score.fixed_grade
    if fg is not None and need(fg.attribute, firm_attrs, "policy.firm_score.fixed_grade.attribute",
                               "firm attribute"):
        for cat in fg.grades:
            need(cat, firm_attrs[fg.attribute].categories,
                 f"policy.firm_score.fixed_grade.grades.{cat}", f"category of {fg.attribute}")
    if len(s.policy.lists) > 30:
        add("policy.lists", len(s.policy.lists), "at most 30 lists are supported")
    return problems


# Meanings of the fields above that carry no description= of their own; they feed the
# generated reference (docs/scenario-reference.md).  Kept here, in one place, so the
# classes stay readable.
_LIST_COMMON = {
    "kind": "which kind of list rule this is",
    "color": "black (restricts; counts as listed) or red (rewards)",
    "starts": "date from which the list holds anybody; null = from the start",
    "description": "what the list is, in plain words (shown in reports)",
}
FIELD_DOCS: dict[type[BaseModel], dict[str, str]] = {
    Scenario: {"population": "the synthetic residents, units, households and firms",
               "acts": "act types by name: what residents and firms really do",
               "departments": "departments by name: what they record and share",
               "policy": "score, lists, sanctions, rewards and remedies",
               "actions": "actions residents attempt (flights, trains, loans, ...)",
               "feedback": "feedback loops, each switchable",
               "outputs": "which per-record tables a run writes"},
    Act: {"rate": "how often one subject commits the act",
          "multipliers": "attribute -> category -> factor on the rate",
          "subject": "who commits it: residents or firms",
          "valence": "negative acts are misconduct; positive ones are prosocial",
          "description": "what the act is, in plain words"},
    Action: {"rate": "how often one resident attempts the action",
             "multipliers": "attribute -> category -> factor on the rate",
             "description": "what the action is, in plain words"},
    Appeals: {"notice_if_notified": "chance a notified subject notices the record",
              "notice_otherwise": "chance an unnotified subject notices the record",
              "filing_days": "days from the record to the appeal",
              "review_days": "days the review takes",
              "success_wrong": "chance an appeal against a false or misattributed record wins",
              "success_true": "chance an appeal against a true record wins"},
    Attribute: {"categories": "the attribute's values (names or numbers)"},
    Chilling: {"enabled": "switch the chilling loop on",
               "salience_share": "listed share of the unit at which salience is full"},
    Department: {"delay_days": "days from the act to the record"},
    Deterrence: {"enabled": "switch the deterrence loop on"},
    Economic: {"enabled": "switch the economic loop on"},
    EscalationList: {**_LIST_COMMON, "source": "the firm list a firm escalates from",
                     "after_days": "days on the source list without correction"},
    Extension: {"probability": "chance an unperformed listing is extended",
                "days": "length of the extension"},
    Feedback: {"economic": "blocked jobs and loans -> income shock -> more defaults",
               "deterrence": "perceived sanction risk lowers negative acts",
               "chilling": "surveillance and salience lower speech"},
    FirmLinkedList: {**_LIST_COMMON, "lists": "firm lists whose firms' representatives it holds"},
    FirmScore: {"base": "every firm's starting score", "min": "lowest score (null = none)",
                "max": "highest score (null = none)",
                "tiers": "grade -> lowest score of the grade, highest first; null = the rest"},
    Firms: {"per_1000_residents": "firms per 1,000 residents of a unit",
            "attributes": "firm attributes (e.g. sector, size) usable in firm acts' multipliers"},
    HouseholdList: {**_LIST_COMMON, "lists": "resident lists whose members' households it flags"},
    Performance: {"rate": "how fast the subject performs the obligation",
                  "multipliers": "attribute -> category -> factor (e.g. means)",
                  "removal_days": "days from performing to the end of the listing"},
    Policy: {"score": "the residents' points score",
             "firm_score": "the firms' score (e.g. tax credit)",
             "lists": "list rules by name",
             "remedies": "performing obligations, appeals, credit repair"},
    Population: {"residents": "number of synthetic residents",
                 "attributes": "resident attributes; any can be an audit group",
                 "firms": "firms of each unit (null = no firms)"},
    RecordList: {**_LIST_COMMON, "acts": "acts whose records list their subject",
                 "duration_days": "days a record keeps its subject listed",
                 "extension": "extension of unperformed listings (null = none)"},
    Remedies: {"perform": "act -> how subjects perform the obligation of its records",
               "appeals": "notice and appeal (null = none)",
               "repair": "credit repair (null = none)"},
    Repair: {"after_days": "minimum days before a record can be repaired",
             "rate": "how fast records are repaired after that"},
    Reward: {"lists": "lists whose members are fast-tracked",
             "days_saved": "days of waiting saved per fast-tracked attempt",
             "starts": "date from which the reward applies; null = from the start"},
    Sanction: {"lists": "lists whose members are blocked",
               "enforcement": "chance an attempt by a listed resident is blocked",
               "starts": "date from which the sanction applies; null = from the start"},
    Score: {"base": "every resident's starting score", "min": "lowest score (null = none)",
            "max": "highest score (null = none)",
            "points": "act -> points a record adds (negative deducts)",
            "retention_days": "act -> days a record counts, or lifelong",
            "default_retention_days": "retention of acts not listed in retention_days"},
    ScoreList: {**_LIST_COMMON, "subject": "residents or firms",
                "below": "listed while the score is below this threshold",
                "at_least": "listed while the score is at least this threshold"},
}
for _model, _docs in FIELD_DOCS.items():
    for _field, _text in _docs.items():
        if not _model.model_fields[_field].description:
            _model.model_fields[_field].description = _text
