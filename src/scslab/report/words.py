"""A scenario in plain words: the sentences the report and the scenario pages share.

Functions here return plain text; whoever writes HTML or Markdown escapes it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from scslab.scenario.schema import Scenario


def dated(v: Any, fmt=str) -> str:
    """``{2021-01-01: 0.8, 2022-01-01: 0.95}`` -> ``0.8 from 2021-01-01, 0.95 from 2022-01-01``."""
    if isinstance(v, dict):
        items = sorted(v.items(), key=lambda kv: str(kv[0]))
        return ", ".join(f"{fmt(val)} from {_d(k)}" for k, val in items)
    return fmt(v)


def _d(k: Any) -> str:
    return k.isoformat() if isinstance(k, dt.date) else str(k)


def pct(v: Any) -> str:
    return f"{float(v):.4g}" if float(v) < 0.001 and float(v) > 0 else f"{float(v):.1%}"


def num(v: Any) -> str:
    return f"{v:g}" if isinstance(v, int | float) else str(v)


def retention(v: Any) -> str:
    return "lifelong" if v == "lifelong" else f"{v} days"


def list_rule(rule: Any) -> str:
    """One list rule in words; kinds this module does not know are described generically."""
    kind = getattr(rule, "kind", "?")
    if kind == "score":
        if rule.below is not None:
            text = f"score below {dated(rule.below, num)}"
        else:
            text = f"score at least {dated(rule.at_least, num)}"
    elif kind == "record":
        text = (f"a record of {', '.join(rule.acts)} lists the subject for "
                f"{dated(rule.duration_days)} days")
    elif kind == "firm_linked":
        text = f"legal representative of a firm on {', '.join(rule.lists)}"
    elif kind == "household":
        text = f"member of a household with someone on {', '.join(rule.lists)}"
    elif kind == "escalation":
        text = f"on {rule.source} for {rule.after_days} days"
    else:
        fields = {k: v for k, v in rule.model_dump().items()
                  if k not in ("kind", "color", "starts", "description") and v is not None}
        text = f"{kind}: " + ", ".join(f"{k} {v}" for k, v in fields.items())
    subject = getattr(rule, "subject", "firm" if kind == "escalation" else "resident")
    if subject and subject != "resident":
        text += f" (lists {subject}s)"
    text += f" ({rule.color} list)"
    if getattr(rule, "starts", None) is not None:
        text += f", from {rule.starts.isoformat()}"
    return text


def key_parameters(s: Scenario) -> list[tuple[str, str]]:
    """(what, value) rows describing a scenario's main settings."""
    rows: list[tuple[str, str]] = []
    p = s.population
    end = s.start + dt.timedelta(days=s.n_days - 1)
    rows.append(("population", f"{p.residents:,} synthetic residents in {p.units:,} "
                 f"unit{'s' if p.units != 1 else ''}"))
    rows.append(("period", f"{s.n_days:,} days, {s.start.isoformat()} to {end.isoformat()}"))
    rows.append(("seed", str(s.seed)))
    firms = getattr(p, "firms", None)
    if firms is not None:
        rows.append(("firms", f"{firms.per_1000_residents:g} per 1,000 residents"
                     + ("; " + "; ".join(f"{k} ({', '.join(a.categories)})"
                                         for k, a in firms.attributes.items())
                        if firms.attributes else "")))
    if p.attributes:
        rows.append(("group attributes", "; ".join(
            f"{k} ({', '.join(a.categories)})" for k, a in p.attributes.items())))
    rows.append(("acts", "; ".join(
        f"{k} ({'+' if a.valence == 'positive' else '-'}, {_rate(a.rate)})"
        for k, a in s.acts.items())))
    for name, d in s.departments.items():
        recs = ", ".join(
            f"{a} (coverage {dated(r.coverage, pct)}"
            + (f", false {dated(r.false_per_resident_year)}/resident-year"
               if r.false_per_resident_year else "") + ")"
            for a, r in d.records.items())
        extra = []
        if d.misattribution:
            extra.append(f"misattribution {dated(d.misattribution, pct)}")
        if d.delay_days:
            extra.append(f"delay {d.delay_days} day{'s' if d.delay_days != 1 else ''}")
        extra.append(f"shares from {d.shares_from.isoformat()}" if d.shares_from
                     else "never shares")
        rows.append((f"department {name}", f"records {recs}; {'; '.join(extra)}"))
    sc = s.policy.score
    bounds = ""
    if sc.min is not None or sc.max is not None:
        bounds = f", kept between {sc.min if sc.min is not None else '-inf'} and " \
                 f"{sc.max if sc.max is not None else 'inf'}"
    rows.append(("score", f"base {sc.base}{bounds}"))
    tiers = getattr(sc, "tiers", None)
    if tiers:
        rows.append(("grades", "; ".join(
            f"{g} from {v:g}" if v is not None else f"{g} below" for g, v in tiers.items())))
    if sc.points:
        rows.append(("points", "; ".join(f"{a} {dated(v)}" for a, v in sc.points.items())))
    if sc.caps:
        rows.append(("caps", "; ".join(f"{a} at most {c} points" for a, c in sc.caps.items())))
    ret = [f"{a} {dated(v, retention)}" for a, v in sc.retention_days.items()]
    ret.append(f"others {dated(sc.default_retention_days, retention)}")
    rows.append(("records kept", "; ".join(ret)))
    for name, rule in s.policy.lists.items():
        text = list_rule(rule)
        if rule.description:
            text = f"{rule.description} Rule: {text}"
        rows.append((f"list {name}", text))
    for action, sanction in s.policy.sanctions.items():
        text = (f"blocked for those on {', '.join(sanction.lists)}; enforcement "
                f"{dated(sanction.enforcement, pct)}")
        if sanction.starts is not None:
            text += f", from {sanction.starts.isoformat()}"
        rows.append((f"sanction on {action}", text))
    pol = s.policy
    for action, reward in (getattr(pol, "rewards", None) or {}).items():
        rows.append((f"green channel on {action}",
                     f"for those on {', '.join(reward.lists)}: {reward.days_saved:g} days saved"
                     + (f", from {reward.starts.isoformat()}" if reward.starts else "")))
    rem = getattr(pol, "remedies", None)
    if rem is not None:
        for act, perf in rem.perform.items():
            rows.append((f"performing {act}", f"{_rate(perf.rate)}; the record and its "
                         f"listing are removed {perf.removal_days} days later"))
        if rem.appeals is not None:
            a = rem.appeals
            rows.append(("appeals", f"notified {dated(a.notified, pct)}; review in "
                         f"{a.review_days} days; succeeds for {a.success_wrong:.0%} of wrong "
                         f"records and {a.success_true:.0%} of true ones"))
        if rem.repair is not None:
            rows.append(("credit repair", f"after {rem.repair.after_days} days, "
                         f"{_rate(rem.repair.rate)}"))
    fb = getattr(s, "feedback", None)
    if fb is not None:
        on = [k for k in ("economic", "deterrence", "chilling")
              if getattr(getattr(fb, k, None), "enabled", False)]
        rows.append(("feedback loops", ", ".join(on) if on else "none"))
    if s.actions:
        rows.append(("actions attempted", "; ".join(
            f"{k} ({_rate(a.rate)})" for k, a in s.actions.items())))
    return rows


def _rate(r) -> str:
    if r.per_year is not None:
        return f"{r.per_year:g} per year"
    return f"{r.per_day:g} per day"
