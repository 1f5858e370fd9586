"""Explain one synthetic resident's life in a run: records, score, tier and list changes,
each with the rule behind it (a tracer in the spirit of OpenFisca's).

    scslab explain runs/tiny --resident 42

Needs a run written with tracing (``outputs.records``/``--trace``), which keeps
``records``, ``list_events`` and ``residents`` tables.  Residents are synthetic: the id is
an index into the run's synthetic population, nothing else.
"""

from __future__ import annotations

import datetime as dt

from scslab.errors import RunDirError
from scslab.metrics.replay import score_of
from scslab.report.words import list_rule
from scslab.scenario.dated import resolve_daily
from scslab.scenario.schema import RecordList, Scenario, ScoreList


def _value_on(value, start: dt.date, day: int, off=0.0):
    return resolve_daily(value, start, day + 1, off=off)[day]


def _score(active: dict[int, tuple[str, int]], s: Scenario) -> int:
    by_act: dict[str, int] = {}
    for act, pts in active.values():
        by_act[act] = by_act.get(act, 0) + pts
    return score_of(by_act, s.policy.score)


def _tier(score: int, s: Scenario) -> str:
    for name, floor in s.policy.score.tiers.items():
        if floor is None or score >= floor:
            return name
    return ""


def explain_resident(run, resident: int) -> list[str]:
    """Lines that tell resident ``resident``'s story in ``run`` (a RunResult)."""
    s = run.scenario
    for need in ("records", "list_events", "residents"):
        if run.extra.get(need) is None:
            raise RunDirError(f"{run.path}: has no {need} table; re-run with --trace "
                              "(or outputs.records: true) to explain residents")
    res = run.residents
    row = res[res["resident"] == resident]
    if row.empty:
        raise RunDirError(f"{run.path}: no resident {resident}; ids run from 0 to "
                          f"{int(res['resident'].max())}")
    row = row.iloc[0]
    start = s.start
    attrs = ", ".join(f"{a} {row[a]}" for a in s.population.attributes)
    emp = int(row["employer"]) if "employer" in row else -1
    lines = [
        f"Resident {resident} (synthetic; unit {row['unit']}, household {row['household']}"
        f"{f', employed by firm {emp}' if emp >= 0 else ''}): {attrs}.",
        f"Score starts at {s.policy.score.base} (policy.score.base).",
    ]
    rec = run.records
    mine = rec[(rec["subject"] == resident) & (rec["subject_kind"] == "resident")]
    theirs = rec[(rec["actor"] == resident) & (rec["subject_kind"] == "resident")
                 & (rec["subject"] != resident)]
    events = []  # (day, order, kind, record index)
    for idx, r in mine.iterrows():
        if r["day_on"] >= 0:
            events.append((int(r["day_on"]), 1, "on", idx))
        off = r["day_removed"] if r["day_removed"] >= 0 else r["day_off"]
        if r["day_on"] >= 0 and 0 <= off < s.n_days:
            events.append((int(off), 0, "off", idx))
        if r["day_performed"] >= 0:
            events.append((int(r["day_performed"]), 2, "performed", idx))
        if r["day_on"] < 0:
            events.append((int(r["day_recorded"]), 1, "unseen", idx))
    lst = run.list_events
    lst = lst[(lst["subject"] == resident) & (lst["subject_kind"] == "resident")]
    for idx, e in lst.iterrows():
        events.append((int(e["day"]), 3, "list", idx))
    events.sort(key=lambda x: (x[0], x[1], x[3]))

    active: dict[int, tuple[str, int]] = {}
    score = s.policy.score.base
    for day, _, kind, idx in events:
        when = f"day {day} ({start + dt.timedelta(days=day)})"
        if kind == "list":
            e = lst.loc[idx]
            lines.append(f"{when}: {'listed on' if e['listed'] else 'removed from'} "
                         f"{e['list']}: {_list_reason(s, e, score, active, day)}"
                         + (" [wrongful: not supported by true records]"
                            if e["listed"] and e["wrongful"] else ""))
            continue
        r = mine.loc[idx]
        what = (f"{r['act']} record from {r['department']} [{r['provenance']}] "
                f"(act on day {r['day_act']})")
        if kind == "unseen":
            lines.append(f"{when}: {what} recorded, never reached the platform "
                         f"(departments.{r['department']}.shares_from or retention)")
        elif kind == "performed":
            lines.append(f"{when}: obligation of the {what} performed; its listing ends "
                         f"within policy.remedies.perform.{r['act']}.removal_days")
        elif kind == "on":
            active[idx] = (r["act"], int(r["points"]))
            score = _score(active, s)
            keep = ("until the end" if r["day_off"] < 0 else f"until day {r['day_off']}")
            lines.append(f"{when}: {what} on the platform, {int(r['points']):+d} points "
                         f"(policy.score.points.{r['act']}), kept {keep} -> score {score}"
                         f"{', tier ' + _tier(score, s) if s.policy.score.tiers else ''}")
        else:
            active.pop(idx, None)
            score = _score(active, s)
            why = {"appeal": "removed on appeal (policy.remedies.appeals)",
                   "repair": "removed by credit repair (policy.remedies.repair)"}.get(
                str(r["removed_by"]), "expired (policy.score.retention_days)")
            lines.append(f"{when}: {what} {why} -> score {score}"
                         f"{', tier ' + _tier(score, s) if s.policy.score.tiers else ''}")
    for _, r in theirs.iterrows():
        lines.append(f"day {r['day_act']}: this resident's {r['act']} act was recorded "
                     f"against resident {r['subject']} [misattributed]")
    lines.append(f"Final score {int(row['final_score'])}; {int(row['listed_days'])} days "
                 f"listed ({int(row['wrongful_days'])} wrongfully); {int(row['blocked'])} "
                 f"attempts blocked; {float(row.get('green_days', 0)):.0f} green-channel "
                 "days saved.")
    return lines


def _list_reason(s: Scenario, e, score: int, active: dict, day: int) -> str:
    rule = s.policy.lists[e["list"]]
    path = f"policy.lists.{e['list']}"
    if isinstance(rule, ScoreList):
        if rule.below is not None:
            thr = _value_on(rule.below, s.start, day, off=float("-inf"))
            op = "<" if e["listed"] else ">="
            return f"score {score} {op} {thr:g} ({path}.below)"
        thr = _value_on(rule.at_least, s.start, day, off=float("inf"))
        op = ">=" if e["listed"] else "<"
        return f"score {score} {op} {thr:g} ({path}.at_least)"
    if isinstance(rule, RecordList) and not e["listed"]:
        return (f"the listing ran out, the obligation was performed or the record was "
                f"removed ({path}.duration_days, policy.remedies)")
    return f"{list_rule(rule)} ({path})"


__all__ = ["explain_resident"]
