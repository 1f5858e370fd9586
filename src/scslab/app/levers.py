"""The levers of the policy sandbox, as data: what each one means in plain words and which
scenario paths it sets.

A lever never edits a scenario in place.  Its value becomes ``--set`` assignments on the
chosen scenario (``policy.lists.blacklist.below=950``), exactly what ``scslab run --set``
and ``scslab compare --set`` take, so every preview is reproduced by a command and every
bad value gets the command line's message.  A lever applies to a scenario through its
*items*, one control each: the threshold of each score blacklist, the lists of each
sanction, one switch for notice and appeal.  An item's value is text, as it appears in
the page's URL (``below.blacklist=950``); an item left at the scenario's own value is not
in the URL and sets nothing.

``LEVERS`` is the catalogue; docs/app.md's table of levers is generated from it
(``python -m scslab.app.levers``) and the tests keep the two equal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from scslab.scenario.schema import HouseholdList, Scenario, ScoreList, list_subject

ON, OFF = "on", "off"
RETENTION_CHOICES = ("lifelong", "1825", "1095", "730", "365", "180", "90")
COVERAGE_FACTORS = ("0.25", "0.5", "0.75", "1", "1.25", "1.5")
ERROR_FACTORS = ("0", "0.1", "0.25", "0.5", "1", "2", "4", "10")


@dataclass(frozen=True)
class Item:
    """One control of a lever in one scenario.

    ``key`` is its name in the URL; ``baseline`` the scenario's own value as URL text
    (``""`` when the scenario's values differ between the paths the item sets, so no one
    value is "unchanged"); ``choices`` the values a switch, choice or list picker offers
    (empty for a free number); ``sets(value)`` the ``--set`` assignments for a value.
    """

    key: str
    label: str
    baseline: str
    sets: Callable[[str], list[str]] = field(repr=False, compare=False)
    choices: tuple[str, ...] = ()
    shown: str = ""  # the scenario's value in words, when the baseline alone does not say it
    slider: tuple[float, float, float] | None = None  # min, max, step of a number's slider


@dataclass(frozen=True)
class Lever:
    """One lever of the sandbox: a plain-words label and meaning, the kind of control, the
    scenario paths it sets (``<...>`` stands for each name the scenario has), when it
    applies, and ``items(scenario)``: its controls in that scenario (none: not applicable).
    """

    key: str
    group: str
    label: str
    meaning: str
    kind: str  # number | lists | choice | factor | switch
    paths: tuple[str, ...]
    values: str
    applies: str
    items: Callable[[Scenario], list[Item]] = field(repr=False, compare=False)


# ---------------------------------------------------------------- values as --set text


def yaml_number(x: float) -> str:
    """A number as short, exact-enough YAML (six significant digits)."""
    if float(x) == int(x) and abs(x) < 1e15:
        return str(int(x))
    text = f"{x:.6g}"
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:  # YAML reads 5e-05 as text; 5.0e-05 is a number
        text = f"{mantissa}.0e{exponent}"
    return text


def dated_text(value, fn: Callable[[float], float] = lambda v: v) -> str:
    """A plain or dated value with ``fn`` applied, as YAML for ``--set``: ``0.5``, or
    ``{2018-07-01: 0.3, 2021-01-01: 0.6}`` (a dated value keeps its dates)."""
    if isinstance(value, dict):
        inner = ", ".join(f"{d.isoformat() if isinstance(d, dt.date) else d}: "
                          f"{yaml_number(fn(v))}" for d, v in value.items())
        return "{" + inner + "}"
    return yaml_number(fn(value))


def dated_words(value) -> str:
    """A plain or dated value in words: ``0.95``, or ``0.3 from 2018-07-01, 0.6 from
    2021-01-01``."""
    if isinstance(value, dict):
        return ", ".join(f"{yaml_number(v) if isinstance(v, int | float) else v} from {d}"
                         for d, v in value.items())
    return yaml_number(value) if isinstance(value, int | float) else str(value)


def _values(value) -> list:
    return list(value.values()) if isinstance(value, dict) else [value]


def _same(values: list) -> bool:
    return all(v == values[0] for v in values) if values else True


# ---------------------------------------------------------------- the scenario's parts


def score_blacklists(s: Scenario) -> list[str]:
    """Resident score lists that list those *below* a threshold (black lists)."""
    return [n for n, r in s.policy.lists.items() if isinstance(r, ScoreList)
            and r.subject == "resident" and r.below is not None and r.color != "red"]


def resident_black_lists(s: Scenario) -> list[str]:
    """The black lists that hold residents: what a sanction may name."""
    return [n for n, r in s.policy.lists.items()
            if getattr(r, "color", None) != "red" and list_subject(s, n) == "resident"
            and not (isinstance(r, ScoreList) and r.below is None)]


def speech_acts_scored(s: Scenario) -> list[str]:
    pts = s.policy.score.points
    return [a for a, act in s.acts.items()
            if act.speech and a in pts and any(v != 0 for v in _values(pts[a]))]


def household_lists_in_force(s: Scenario) -> list[str]:
    end = s.start + dt.timedelta(days=s.n_days)
    return [n for n, r in s.policy.lists.items() if isinstance(r, HouseholdList)
            and (r.starts is None or r.starts < end)]


def end_date(s: Scenario) -> dt.date:
    return s.start + dt.timedelta(days=s.n_days)


# ---------------------------------------------------------------- items of each lever


def _threshold_items(s: Scenario) -> list[Item]:
    sc = s.policy.score
    out = []
    for name in score_blacklists(s):
        below = s.policy.lists[name].below
        plain = not isinstance(below, dict)
        lo = sc.base - 400 if sc.min is None else max(sc.min, sc.base - 400)
        out.append(Item(
            key=f"below.{name}", label=name, baseline=yaml_number(below) if plain else "",
            shown="" if plain else f"dated: {dated_words(below)}",
            slider=(float(lo), float(sc.base), 10.0),
            sets=lambda v, name=name: [f"policy.lists.{name}.below={v}"]))
    return out


def _sanction_items(s: Scenario) -> list[Item]:
    options = tuple(resident_black_lists(s))
    out = []
    for action, rule in s.policy.sanctions.items():
        out.append(Item(
            key=f"sanctions.{action}", label=action.replace("_", " "),
            baseline=",".join(rule.lists), choices=options,
            sets=lambda v, action=action: [
                f"policy.sanctions.{action}.lists=[{', '.join(x for x in v.split(',') if x)}]"]))
    return out


def _enforcement_items(s: Scenario) -> list[Item]:
    sanctions = s.policy.sanctions
    if not sanctions:
        return []
    values = [r.enforcement for r in sanctions.values()]
    same = _same(values) and not isinstance(values[0], dict)
    shown = "" if same else "; ".join(f"{a.replace('_', ' ')} {dated_words(r.enforcement)}"
                                      for a, r in sanctions.items())
    return [Item(key="enforcement", label="every sanction",
                 baseline=yaml_number(values[0]) if same else "", shown=shown,
                 slider=(0.0, 1.0, 0.05),
                 sets=lambda v: [f"policy.sanctions.{a}.enforcement={v}" for a in sanctions])]


def _retention_items(s: Scenario) -> list[Item]:
    sc = s.policy.score
    if not sc.points:
        return []
    own = dict(sc.retention_days)
    values = [sc.default_retention_days, *own.values()]
    same = _same(values) and not isinstance(values[0], dict)
    shown = "" if same else (f"{dated_words(sc.default_retention_days)} days by default; "
                             + "; ".join(f"{a.replace('_', ' ')} {dated_words(v)}"
                                         for a, v in own.items()))
    return [Item(key="retention", label="every record", choices=RETENTION_CHOICES,
                 baseline=str(values[0]) if same else "", shown=shown,
                 sets=lambda v: [f"policy.score.default_retention_days={v}",
                                 *(f"policy.score.retention_days.{a}={v}" for a in own)])]


def _appeal_items(s: Scenario) -> list[Item]:
    has = s.policy.remedies.appeals is not None
    return [Item(key="appeal", label="notice and appeal", choices=(ON, OFF),
                 baseline=ON if has else OFF,
                 sets=lambda v: (["policy.remedies.appeals.notified=1"] if v == ON
                                 else ["policy.remedies.appeals=null"]))]


def _factor_items(key: str, label: str, choices: tuple[str, ...],
                  values: Callable[[Scenario], list[tuple[str, object]]], cap: float | None
                  ) -> Callable[[Scenario], list[Item]]:
    """An item that multiplies every value at ``values(scenario)`` (path, value) by a
    factor (at most ``cap``); values that are 0 stay 0 and are not set."""

    def items(s: Scenario) -> list[Item]:
        found = [(p, v) for p, v in values(s) if any(x != 0 for x in _values(v))]
        if not found:
            return []

        def sets(v: str) -> list[str]:
            f = float(v)

            def scaled(x: float) -> float:
                y = x * f
                return min(cap, y) if cap is not None else y

            return [f"{p}={dated_text(val, scaled)}" for p, val in found]

        return [Item(key=key, label=label, baseline="1", choices=choices, sets=sets)]

    return items


def _coverage(s: Scenario) -> list[tuple[str, object]]:
    return [(f"departments.{d}.records.{a}.coverage", r.coverage)
            for d, dep in s.departments.items() for a, r in dep.records.items()]


def _false_records(s: Scenario) -> list[tuple[str, object]]:
    return [(f"departments.{d}.records.{a}.false_per_resident_year", r.false_per_resident_year)
            for d, dep in s.departments.items() for a, r in dep.records.items()]


def _misattribution(s: Scenario) -> list[tuple[str, object]]:
    return [(f"departments.{d}.misattribution", dep.misattribution)
            for d, dep in s.departments.items()]


def _speech_items(s: Scenario) -> list[Item]:
    acts = speech_acts_scored(s)
    if not acts:
        return []
    return [Item(key="speech", label="speech scored", choices=(ON, OFF), baseline=ON,
                 shown=", ".join(a.replace("_", " ") for a in acts),
                 sets=lambda v: [] if v == ON else [f"policy.score.points.{a}=0" for a in acts])]


def _association_items(s: Scenario) -> list[Item]:
    lists = household_lists_in_force(s)
    if not lists:
        return []
    end = end_date(s).isoformat()
    return [Item(key="association", label="association", choices=(ON, OFF), baseline=ON,
                 shown=", ".join(lists),
                 sets=lambda v: [] if v == ON else [f"policy.lists.{n}.starts={end}"
                                                    for n in lists])]


def _feedback_items(loop: str) -> Callable[[Scenario], list[Item]]:
    def items(s: Scenario) -> list[Item]:
        on = getattr(s.feedback, loop).enabled
        return [Item(key=loop, label=loop, choices=(ON, OFF), baseline=ON if on else OFF,
                     sets=lambda v: [f"feedback.{loop}.enabled={'true' if v == ON else 'false'}"])]

    return items


# ---------------------------------------------------------------- the catalogue

LEVERS: tuple[Lever, ...] = (
    Lever("below", "Lists", "Blacklist threshold",
          "A resident whose score falls below this number is put on the black list. A higher "
          "threshold lists more people.",
          "number", ("policy.lists.<score blacklist>.below",),
          "any number (a dated threshold is replaced by one value for the whole period)",
          "each resident score list with a `below` threshold", _threshold_items),
    Lever("sanctions", "Lists", "Which lists trigger which sanctions",
          "For each sanction (a flight, a train ticket, a loan...), the black lists whose "
          "members are blocked from it.",
          "lists", ("policy.sanctions.<sanction>.lists",),
          "the scenario's black lists that hold residents (at least one per sanction)",
          "each sanction", _sanction_items),
    Lever("enforcement", "Sanctions", "Enforcement",
          "The chance that an attempt by a listed resident is actually blocked, for every "
          "sanction at once (0 = never enforced, 1 = always).",
          "number", ("policy.sanctions.<every sanction>.enforcement",),
          "a probability from 0 to 1, for the whole period", "scenarios with sanctions",
          _enforcement_items),
    Lever("retention", "Records", "Record retention",
          "How long a record counts towards the score before it expires: for life, or a "
          "number of days. Applies to every kind of record.",
          "choice", ("policy.score.default_retention_days",
                     "policy.score.retention_days.<each act with its own retention>"),
          "lifelong, 1825, 1095, 730, 365, 180 or 90 days", "scenarios with a points score",
          _retention_items),
    Lever("appeal", "Records", "Notice and appeal",
          "On: every resident is told of a new record about them and can appeal it; a wrong "
          "record is removed if the appeal wins. Off: no notice and no appeal.",
          "switch", ("policy.remedies.appeals.notified (on: 1)",
                     "policy.remedies.appeals (off: null)"),
          "on or off; switched on, the other appeal settings are the scenario's or the "
          "schema's defaults (see the scenario reference)", "every scenario", _appeal_items),
    Lever("coverage", "Data quality", "Coverage",
          "The share of true acts that departments record, as a multiple of the scenario's "
          "(at most 1: every act recorded).",
          "factor", ("departments.<department>.records.<act>.coverage",),
          "x0.25 to x1.5 of each department's coverage, capped at 1",
          "scenarios with departments", _factor_items(
              "coverage", "coverage", COVERAGE_FACTORS, _coverage, 1.0)),
    Lever("false_records", "Data quality", "False records",
          "Records of acts that never happened, as a multiple of the scenario's rate "
          "(0 = no false records).",
          "factor", ("departments.<department>.records.<act>.false_per_resident_year",),
          "x0 to x10 of each department's rate", "scenarios whose departments make false "
          "records", _factor_items("false_records", "false records", ERROR_FACTORS,
                                   _false_records, None)),
    Lever("misattribution", "Data quality", "Misattribution",
          "Real acts put on the wrong resident (a same-name mix-up), as a multiple of the "
          "scenario's chance (0 = none).",
          "factor", ("departments.<department>.misattribution",),
          "x0 to x10 of each department's chance, capped at 1",
          "scenarios whose departments misattribute", _factor_items(
              "misattribution", "misattribution", ERROR_FACTORS, _misattribution, 1.0)),
    Lever("speech", "What counts", "Speech scored",
          "On: online posts flagged by censors cost points like any other record. Off: they "
          "cost nothing (they may still be recorded).",
          "switch", ("policy.score.points.<each speech act> (off: 0)",),
          "on (the scenario's points) or off (0 points)",
          "scenarios that score speech", _speech_items),
    Lever("association", "What counts", "Association",
          "On: household members of listed residents are flagged too (e.g. children barred "
          "from schools). Off: the household list is not in force during the run.",
          "switch", ("policy.lists.<household list>.starts (off: the end of the period)",),
          "on (the scenario's start) or off", "scenarios with a household list",
          _association_items),
    Lever("economic", "Feedback loops", "Economic loop",
          "A blocked job or loan is an income shock that makes defaults more likely: the "
          "poverty trap.",
          "switch", ("feedback.economic.enabled",), "on or off", "every scenario",
          _feedback_items("economic")),
    Lever("deterrence", "Feedback loops", "Deterrence",
          "The risk of sanctions that residents see lowers how often they commit negative "
          "acts.",
          "switch", ("feedback.deterrence.enabled",), "on or off", "every scenario",
          _feedback_items("deterrence")),
    Lever("chilling", "Feedback loops", "Chilling",
          "Surveillance of speech and the visibility of sanctions make residents post less.",
          "switch", ("feedback.chilling.enabled",), "on or off", "every scenario",
          _feedback_items("chilling")),
)


def items_of(s: Scenario) -> list[tuple[Lever, list[Item]]]:
    """Every lever with its items in scenario ``s`` (an empty list: not applicable)."""
    return [(lever, lever.items(s)) for lever in LEVERS]


def item_index(s: Scenario) -> dict[str, tuple[Lever, Item]]:
    """Items of scenario ``s`` by URL key."""
    return {it.key: (lv, it) for lv, its in items_of(s) for it in its}


def sets_for(s: Scenario, values: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The ``--set`` assignments for item values (URL key -> text) in scenario ``s``, in
    lever order, and for each assignment's path the key of the item that made it (to put a
    problem beside its field).  Values equal to the scenario's own set nothing; keys that
    name no item of this scenario are ignored.  Last comes one assignment that drops the
    uncertain parameters the levers fix (:func:`fixed_uncertain`)."""
    sets: list[str] = []
    owner: dict[str, str] = {}
    for key, (_lever, item) in item_index(s).items():
        if key not in values or values[key] == item.baseline:
            continue
        for a in item.sets(values[key]):
            sets.append(a)
            owner[a.split("=", 1)[0]] = key
    fixed = fixed_uncertain(s, list(owner))
    if fixed:
        sets.append(f"uncertain={{{', '.join(f'{u}: null' for u in fixed)}}}")
    return sets, owner


def fixed_uncertain(s: Scenario, paths: list[str]) -> list[str]:
    """The scenario's uncertain parameters at or under ``paths``.  A lever fixes the value
    there, so the variant no longer declares it uncertain (``uncertain: {PATH: null}``);
    otherwise a lever moving a value outside its declared range (coverage x1.5, no false
    records) would make a scenario that ``scslab run`` refuses."""
    return [u for u in s.uncertain
            if any(u == p or u.startswith(p + ".") for p in paths)]


# ---------------------------------------------------------------- documentation


def levers_markdown() -> str:
    """The table of levers for docs/app.md."""
    rows = ["| lever | what it means | scenario paths it sets | values | applies to |",
            "|---|---|---|---|---|"]
    for lv in LEVERS:
        paths = "<br>".join(f"`{p}`" for p in lv.paths)
        rows.append(f"| **{lv.label}** (`{lv.key}`) | {lv.meaning} | {paths} | {lv.values} "
                    f"| {lv.applies} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # python -m scslab.app.levers: the table docs/app.md holds
    print(levers_markdown(), end="")
