"""The "life of one resident" panel: one synthetic resident's records, score and lists.

Needs the tracing tables (``records``, ``list_events``, ``residents``); runs without them
get no panel.  The resident is picked by a fixed rule, so the same run always shows the
same resident: the one wrongly listed for longest among those holding a false or
misattributed record; failing that, the one wrongly listed for longest (a household
listing, say); then the one listed for longest; then the one with most records (lowest id
on ties).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scslab.metrics.replay import score_path
from scslab.report.data import RunView

TRACE = ("records", "list_events", "residents")


@dataclass
class ResidentLife:
    resident: int
    why: str
    attributes: dict[str, str]
    outcome: dict[str, int]
    records: pd.DataFrame  # dated rows for display
    list_changes: pd.DataFrame
    path: pd.DataFrame  # run, date, score, listed (one line per run with traces)
    final_score_matches: bool


def has_traces(run: RunView) -> bool:
    return all(run.table(t) is not None for t in TRACE)


def residents_only(df: pd.DataFrame) -> pd.DataFrame:
    """Rows about residents (not firms), with the subject's id in ``resident``.

    Works with both table layouts: ``resident`` columns, or ``subject`` + ``subject_kind``.
    """
    if "subject_kind" in df:
        df = df[df["subject_kind"].astype(str) == "resident"]
    if "resident" not in df and "subject" in df:
        df = df.rename(columns={"subject": "resident"})
    return df


def pick_resident(run: RunView) -> tuple[int, str] | None:
    res = run.table("residents")
    if res is None or "resident" not in res:
        return None
    rec = run.table("records")
    if rec is not None and "wrongful_days" in res and "provenance" in rec:
        rec = residents_only(rec)
        bad = rec.loc[rec["provenance"].astype(str) != "true", "resident"].unique()
        hit = res[res["resident"].isin(bad) & (res["wrongful_days"] > 0)]
        if len(hit):
            best = hit.sort_values(["wrongful_days", "resident"], ascending=[False, True])
            return int(best.iloc[0]["resident"]), (
                "the resident wrongly listed for longest because of a false or "
                "misattributed record")
    for col, why in (("wrongful_days", "the resident wrongly listed for longest"),
                     ("listed_days", "the resident listed for longest")):
        if col in res and (res[col] > 0).any():
            best = res.sort_values([col, "resident"], ascending=[False, True]).iloc[0]
            return int(best["resident"]), why
    if rec is not None and len(residents_only(rec)):
        counts = residents_only(rec).groupby("resident").size()
        top = counts[counts == counts.max()].index.min()
        return int(top), "the resident with most records"
    return int(res["resident"].min()), "the first resident"


def score_series(run: RunView, resident: int) -> np.ndarray | None:
    """The resident's platform score on each day, rebuilt from the records table.

    A record counts from ``day_on`` (shared into the platform) until ``day_off`` (expired),
    or until it is removed (appeal, credit repair) if that comes first; per-act caps and
    the score's min and max apply, as in the engine.
    """
    rec = run.table("records")
    if rec is None:
        return None
    s = run.scenario
    rec = residents_only(rec)
    # one resident's rows by a mask: splitting the table by resident costs seconds per run
    mine = rec[rec["resident"].to_numpy() == int(resident)]
    return score_path(mine, s.policy.score, s.n_days)


def _date(start: dt.date, day: int) -> str:
    return "" if day is None or day < 0 else (start + dt.timedelta(days=int(day))).isoformat()


def life(runs: list[RunView]) -> ResidentLife | None:
    """The panel's data from the first run that has traces; the same resident's score
    path in every other traced run (residents keep their identity across scenarios)."""
    first = next((r for r in runs if has_traces(r)), None)
    if first is None:
        return None
    picked = pick_resident(first)
    if picked is None:
        return None
    rid, why = picked
    start = first.scenario.start
    res = first.table("residents")
    row = res[res["resident"] == rid].iloc[0]
    outcome_cols = ("final_score", "listed_days", "wrongful_days", "blocked", "green_days",
                    "listings", "shocked", "listings_during_shock")
    attrs = {k: str(row[k]) for k in res.columns
             if k not in ("resident", *outcome_cols)}
    if attrs.get("employer") in ("-1", "None", "nan"):
        attrs["employer"] = "none"
    outcome = {k: int(row[k]) for k in outcome_cols if k in res.columns}

    rec = residents_only(first.table("records"))
    mine = rec[rec["resident"] == rid].sort_values(["day_act", "day_recorded"], kind="stable")
    shown = pd.DataFrame({
        "act": mine["act"].astype(str).values,
        "done by": [("nobody (false record)" if p == "false" else
                     "this resident" if a == rid else f"resident {a}")
                    for p, a in zip(mine["provenance"].astype(str), mine["actor"], strict=True)],
        "department": mine["department"].astype(str).values,
        "provenance": mine["provenance"].astype(str).values,
        "act date": [_date(start, d) for d in mine["day_act"]],
        "recorded": [_date(start, d) for d in mine["day_recorded"]],
        "on platform": [_date(start, d) or "never" for d in mine["day_on"]],
        "expires": [_date(start, d) or "never" for d in mine["day_off"]],
        "points": mine["points"].astype(int).values,
    })
    if "day_removed" in mine and (mine["day_removed"] >= 0).any():
        shown.insert(len(shown.columns) - 1, "removed", [
            (f"{_date(start, d)} ({how})" if d >= 0 else "")
            for d, how in zip(mine["day_removed"], mine["removed_by"].astype(str)
                              if "removed_by" in mine else [""] * len(mine), strict=True)])
    ev = residents_only(first.table("list_events"))
    ev = ev[ev["resident"] == rid].sort_values(["day", "list"], kind="stable")
    changes = pd.DataFrame({
        "date": [_date(start, d) for d in ev["day"]],
        "list": ev["list"].astype(str).values,
        "change": np.where(ev["listed"], "listed", "removed"),
        "wrongful": np.where(ev["listed"] & ev["wrongful"], "yes (wrongly listed)",
                             np.where(ev["listed"], "no", "")),
    })

    paths = []
    matches = True
    for r in runs:
        if not has_traces(r):
            continue
        other = r.table("residents")
        if not (other["resident"] == rid).any():
            continue
        series = score_series(r, rid)
        if series is None:
            continue
        if r is first and "final_score" in outcome:
            matches = int(series[-1]) == outcome["final_score"]
        listed = _listed_days(r, rid)
        D = len(series)
        # keep only the days where something changes (plus the last), for a small chart
        change = np.ones(D, dtype=bool)
        change[1:] = (series[1:] != series[:-1]) | (listed[1:] != listed[:-1])
        change[-1] = True
        days = np.flatnonzero(change)
        s0 = r.scenario.start
        paths.append(pd.DataFrame({
            "run": r.label,
            "date": [_date(s0, d) for d in days],
            "score": series[days],
            "listed": np.where(listed[days], "yes", "no"),  # on a black list
        }))
    path = pd.concat(paths, ignore_index=True) if paths else pd.DataFrame()
    return ResidentLife(resident=rid, why=why, attributes=attrs, outcome=outcome,
                        records=shown, list_changes=changes, path=path,
                        final_score_matches=matches)


def _listed_days(run: RunView, rid: int) -> np.ndarray:
    """Whether the resident is on any black list each day, from the list events."""
    D = run.scenario.n_days
    lists = run.scenario.policy.lists
    black = [n for n, rule in lists.items() if rule.color == "black"]
    ev = residents_only(run.table("list_events"))
    ev = ev[(ev["resident"] == rid) & ev["list"].astype(str).isin(black)]
    ev = ev.sort_values("day", kind="stable")
    on: dict[str, bool] = {}
    state = np.zeros(D, dtype=bool)
    last = 0
    current = False
    for day, lst, listed in zip(ev["day"], ev["list"].astype(str), ev["listed"], strict=True):
        day = int(min(max(day, 0), D))
        state[last:day] = current
        on[lst] = bool(listed)
        current = any(on.values())
        last = day
    state[last:] = current
    return state
