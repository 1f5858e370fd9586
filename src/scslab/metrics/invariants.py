"""Invariants every run's tables must satisfy, checked before anything is written.

A broken invariant is a bug in scslab, not a user error: the run stops with an
:class:`~scslab.errors.InvariantError` that names each broken rule and where it first
breaks, and no run directory is written.  The rules:

* ``no-nan``: no table has a NaN or infinite number;
* ``non-negative-counts``: counts (timeseries counts, group counts, histogram
  residents) are never negative;
* ``listed-le-residents``: the listed, each list's size and the wrongfully listed never
  exceed the residents;
* ``wrongful-le-listed``: wrongfully listed <= listed; wrongful blocks <= blocks;
* ``listing-flow``: listed on day t = new listings - delistings up to day t;
* ``records-by-provenance``: records created = true + false + misattributed;
* ``record-provenance``: every record (traced runs) has a provenance from
  true/false/misattributed and a subject;
* ``group-residents``: each attribute's groups add up to the residents;
* ``score-in-range``: a final score lies within the score's ``min``/``max`` (when set)
  and within base +- the sum of |points| of the records that could count for it: per
  resident in traced runs (its own records), on average otherwise (every record of the
  run at the largest |points|).  An overflowed points sum breaks it.

Columns and measures added later are checked by kind (integer timeseries columns and
group measures are counts unless their name says score/net/change), so new metrics are
covered without editing this file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scslab.errors import InvariantError

PROVENANCE = {"true", "false", "misattributed"}
SIGNED_WORDS = ("score", "net", "change", "delta", "balance")


def _signed(name: str) -> bool:
    return any(w in name for w in SIGNED_WORDS)


def _first(ts: pd.DataFrame, bad: np.ndarray) -> str:
    idx = np.flatnonzero(np.asarray(bad))
    if not len(idx):
        return ""
    i = int(idx[0])
    day = int(ts["day"].iloc[i]) if "day" in ts else i
    return f"first on day {day}, {len(idx)} day(s) in all"


def score_bounds(scenario) -> dict:
    """What ``score-in-range`` needs from a scenario: the residents' score base, min, max
    and the largest |points| any act can give (over all its dated values)."""
    sc = scenario.policy.score
    largest = 0
    for v in sc.points.values():
        values = v.values() if isinstance(v, dict) else [v]
        largest = max([largest, *(abs(int(x)) for x in values)])
    return {"base": int(sc.base), "min": sc.min, "max": sc.max, "max_points": largest}


def table_problems(tables: dict[str, pd.DataFrame], residents: int,
                   attributes: list[str] | None = None,
                   score: dict | None = None) -> list[str]:
    """Every broken rule as 'rule: detail' (empty when all hold).  ``attributes`` are the
    resident attributes whose groups must add up to ``residents`` (default: all);
    ``score`` (``score_bounds``) enables ``score-in-range``."""
    out: list[str] = []

    def add(rule: str, detail: str) -> None:
        out.append(f"{rule}: {detail}")

    for name, df in tables.items():
        if df is None or df.empty:
            continue
        num = df.select_dtypes(include="number")
        if num.empty:
            continue
        bad = ~np.isfinite(num.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            cols = [c for c, b in zip(num.columns, bad.any(axis=0), strict=True) if b]
            add("no-nan", f"table {name} has NaN or infinite values in {', '.join(cols)}")

    ts = tables.get("timeseries")
    if ts is not None and len(ts):
        for c in ts.columns:
            if pd.api.types.is_integer_dtype(ts[c]) and not _signed(c):
                neg = (ts[c] < 0).to_numpy()
                if neg.any():
                    add("non-negative-counts", f"timeseries.{c} is negative ({_first(ts, neg)})")
        for c in ["listed", "listed_wrongful"] + [c for c in ts if c.startswith("list_")]:
            if c in ts:
                over = (ts[c] > residents).to_numpy()
                if over.any():
                    add("listed-le-residents",
                        f"timeseries.{c} exceeds the {residents:,} residents ({_first(ts, over)})")
        for total, wrong in (("listed", "listed_wrongful"),
                             ("listed_association", "listed_association_wrongful")):
            if {total, wrong} <= set(ts):
                over = (ts[wrong] > ts[total]).to_numpy()
                if over.any():
                    add("wrongful-le-listed", f"{wrong} exceeds {total} ({_first(ts, over)})")
        if {"listed", "listed_association"} <= set(ts):
            over = (ts["listed"] + ts["listed_association"] > residents).to_numpy()
            if over.any():
                add("listed-le-residents", "listed and listed_association together exceed "
                    f"the {residents:,} residents ({_first(ts, over)})")
        for c in ts.columns:
            if c.startswith("blocked_wrongful_"):
                total = "blocked_" + c.removeprefix("blocked_wrongful_")
                if total in ts:
                    over = (ts[c] > ts[total]).to_numpy()
                    if over.any():
                        add("wrongful-le-listed", f"{c} exceeds {total} ({_first(ts, over)})")
        if {"listed", "listed_new", "delisted"} <= set(ts):
            flow = ts["listed_new"].cumsum() - ts["delisted"].cumsum()
            off = (flow != ts["listed"]).to_numpy()
            if off.any():
                add("listing-flow",
                    f"listed differs from new listings minus delistings ({_first(ts, off)})")
        prov = [f"records_created_{p}" for p in sorted(PROVENANCE)]
        if "records_created" in ts and set(prov) <= set(ts):
            off = (ts[prov].sum(axis=1) != ts["records_created"]).to_numpy()
            if off.any():
                add("records-by-provenance",
                    f"records_created differs from true + false + misattributed "
                    f"({_first(ts, off)})")

    groups = tables.get("groups")
    if groups is not None and len(groups) and {"measure", "value"} <= set(groups):
        counts = groups[~groups["measure"].astype(str).map(_signed)]
        neg = counts[counts["value"] < 0]
        if len(neg):
            r = neg.iloc[0]
            add("non-negative-counts",
                f"groups: {r['measure']} of {r.get('attribute')}={r.get('group')} is "
                f"{r['value']} ({len(neg)} negative value(s) in all)")
        res = groups[groups["measure"] == "residents"]
        if len(res) and "attribute" in res:
            by = ["period", "attribute"] if "period" in res else ["attribute"]
            for key, part in res.groupby(by, observed=True, sort=False):
                attr = key[-1] if isinstance(key, tuple) else key
                if attributes is not None and attr not in attributes and attr != "all":
                    continue
                total = float(part["value"].sum())
                if total != residents:
                    where = " in period " + str(key[0]) if len(by) == 2 else ""
                    add("group-residents", f"groups of {attr}{where} hold {total:,.0f} "
                                           f"residents, not {residents:,}")

    scores = tables.get("scores")
    if scores is not None and len(scores) and "residents" in scores:
        if (scores["residents"] < 0).any():
            add("non-negative-counts", "scores.residents is negative")

    rec = tables.get("records")
    if rec is not None and len(rec):
        if "provenance" not in rec:
            add("record-provenance", "the records table has no provenance column")
        else:
            p = rec["provenance"].astype(object)
            bad = p.isna() | ~p.isin(PROVENANCE)
            if bad.any():
                add("record-provenance",
                    f"{int(bad.sum()):,} record(s) without a provenance of "
                    f"true/false/misattributed (first: row {int(np.flatnonzero(bad)[0])})")
        if "subject" in rec and (rec["subject"].isna() | (rec["subject"] < 0)).any():
            add("record-provenance", "a record has no subject")
    if score is not None:
        out += [f"score-in-range: {p}" for p in _score_problems(tables, residents, score)]
    return out


def _score_problems(tables: dict[str, pd.DataFrame], residents: int, score: dict) -> list[str]:
    base, lo, hi = score["base"], score.get("min"), score.get("max")
    problems = []

    def outside(values: np.ndarray, what: str) -> None:
        values = np.asarray(values, dtype=float)
        if lo is not None and (values < lo).any():
            problems.append(f"{what} {values.min():,.0f} is below the score's min {lo:,}")
        if hi is not None and (values > hi).any():
            problems.append(f"{what} {values.max():,.0f} is above the score's max {hi:,}")

    people = tables.get("residents")
    if people is not None and len(people) and {"resident", "final_score"} <= set(people):
        final = people["final_score"].to_numpy(dtype=np.int64)
        outside(final, "a final score of")
        rec = tables.get("records")
        reach = np.zeros(len(people), dtype=np.int64)
        if rec is not None and len(rec) and {"subject", "points"} <= set(rec):
            if "subject_kind" in rec:
                rec = rec[rec["subject_kind"].astype(str) == "resident"]
            index = pd.Index(people["resident"].to_numpy())
            pos = index.get_indexer(rec["subject"].to_numpy())
            ok = pos >= 0
            np.add.at(reach, pos[ok], np.abs(rec["points"].to_numpy(dtype=np.int64)[ok]))
        off = np.abs(final - base) > reach
        if lo is not None:
            off &= ~((final == lo) & (base - reach <= lo))
        if hi is not None:
            off &= ~((final == hi) & (base + reach >= hi))
        if off.any():
            i = int(np.flatnonzero(off)[0])
            problems.append(
                f"resident {int(people['resident'].iloc[i])} ends with score "
                f"{int(final[i]):,}, farther from the base {base:,} than its records' points "
                f"allow (sum of |points| {int(reach[i]):,}); {int(off.sum()):,} resident(s) "
                "in all (an overflowed points sum?)")
        return problems
    groups = tables.get("groups")
    ts = tables.get("timeseries")
    if groups is None or not len(groups) or not {"measure", "value"} <= set(groups):
        return problems
    mean = groups[(groups["measure"] == "mean_final_score")
                  & (groups.get("attribute", "all") == "all")]
    if not len(mean):
        return problems
    m = float(mean["value"].iloc[0])
    outside(np.array([m]), "the mean final score")
    records = float(ts["records_created"].sum()) if ts is not None and \
        "records_created" in ts else None
    if records is not None and residents > 0:
        reach = records * score["max_points"] / residents
        if abs(m - base) > reach + 1e-6:
            problems.append(f"the mean final score {m:,.1f} is farther from the base {base:,} "
                            f"than all the run's records could move it ({reach:,.1f}: "
                            f"{records:,.0f} records of at most {score['max_points']:,} "
                            "points; an overflowed points sum?)")
    return problems


def check_tables(tables: dict[str, pd.DataFrame], residents: int,
                 attributes: list[str] | None = None, score: dict | None = None) -> None:
    """Raise InvariantError naming every broken rule."""
    problems = table_problems(tables, residents, attributes, score)
    if problems:
        raise InvariantError(
            "the run broke an invariant (a bug in scslab; nothing was written; please "
            "report it with the scenario and command):\n  " + "\n  ".join(problems)
        )


def check_run(rr) -> None:
    """Check a RunResult's tables (see :func:`check_tables`)."""
    pop = rr.scenario.population
    check_tables(rr.tables(), int(pop.residents), list(pop.attributes),
                 score_bounds(rr.scenario))
