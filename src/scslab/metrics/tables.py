"""Turn metric sums into the run's tables: timeseries, groups, scores, records, list
events, residents, firms, and the summary."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from scslab.engine.compile import NEVER, CompiledModel
from scslab.engine.layout import (
    GROUP_MEASURES,
    N_RCOLS,
    PERIOD_MEASURES,
    PROVENANCE,
    R_ACT,
    R_ACTOR,
    R_DAY_ACT,
    R_DAY_OFF,
    R_DAY_ON,
    R_DAY_REC,
    R_DEPT,
    R_PERFORMED,
    R_POINTS,
    R_PROV,
    R_REMOVED,
    R_REMOVED_BY,
    R_SUBJECT,
    REMOVED_BY,
    SCORE_BIN,
    UnitOutputs,
)
from scslab.engine.phases.speech import POST_UNITS

# Timeseries columns that are stocks (state at the end of the day); all other counts are
# flows (events that day).  ``list_new_*`` is a flow although it starts with ``list_``.
STOCK_COLUMNS = ("listed", "listed_wrongful", "listed_association",
                 "listed_association_wrongful", "accounts_removed")
STOCK_PREFIXES = ("records_active", "list_", "tier_", "firm_tier_")
FLOW_PREFIXES = ("list_new_",)
GROUPS_COLUMNS = ["period", "attribute", "group", "measure", "value"]
# the groups table's name of an engine measure, where the two differ
MEASURE_COLUMN = {"green_channel_days_saved": "green_days"}


def is_stock(column: str) -> bool:
    """Whether a timeseries column is a stock (sum it over days and you get nonsense).

    >>> is_stock("listed"), is_stock("list_court"), is_stock("list_new_court")
    (True, True, False)
    """
    if column.startswith(FLOW_PREFIXES):
        return False
    return column in STOCK_COLUMNS or column.startswith(STOCK_PREFIXES)


def timeseries_table(cm: CompiledModel, out: UnitOutputs) -> pd.DataFrame:
    """One row per simulated day (docs/outputs.md lists every column)."""
    D = cm.n_days
    cols: dict[str, np.ndarray] = {
        "day": np.arange(D, dtype=np.int32),
        "date": pd.date_range(cm.start, periods=D, freq="D").date,
        "listed": out.listed,
        "listed_wrongful": out.listed_wrongful,
        "listed_association": out.listed_association,
        "listed_association_wrongful": out.listed_association_wrongful,
        "listed_new": out.listed_new,
        "delisted": out.delisted,
        "records_active": out.records_active,
        "records_created": out.records_created,
    }
    for p, name in enumerate(PROVENANCE):
        cols[f"records_created_{name}"] = out.records_by_prov[p]
    for j, name in enumerate(cm.lists):
        cols[f"list_{name}"] = out.list_size[j]
        cols[f"list_new_{name}"] = out.list_new[j]
    for k, name in enumerate(cm.actions):
        cols[f"blocked_{name}"] = out.blocked[k]
        cols[f"blocked_wrongful_{name}"] = out.blocked_wrongful[k]
        sanction = cm.scenario.policy.sanctions.get(name)
        if sanction is not None and sanction.retry is not None:
            cols[f"blocked_retry_{name}"] = out.blocked_retry[k]
        if cm.scenario.policy.rewards.get(name) is not None:
            cols[f"fast_tracked_{name}"] = out.green_channel_uses[k]
            cols[f"green_days_{name}"] = out.green_channel_days_saved[k]
    for a, name in enumerate(cm.acts):
        cols[f"acts_{name}"] = out.acts[a]
    for d, name in enumerate(cm.departments):
        cols[f"records_active_{name}"] = out.dept_active[d]
        cols[f"records_created_{name}"] = out.dept_created[d]
    for t, name in enumerate(cm.tiers):
        cols[f"tier_{name}"] = out.tiers[t]
    for t, name in enumerate(cm.firm_tiers):
        cols[f"firm_tier_{name}"] = out.firm_tiers[t]
    cols["obligations_performed"] = out.performed[0] + out.performed[1]
    cols["obligations_performed_resident"] = out.performed[0]
    cols["obligations_performed_firm"] = out.performed[1]
    cols["appeals_filed"] = out.appeals_filed
    cols["appeals_won"] = out.appeals_won
    cols["credit_repairs"] = out.repairs
    cols["income_shocks"] = out.shocks
    if cm.scenario.lawful_speech is not None:
        cols["lawful_posts"] = out.lawful_posts / POST_UNITS
        cols["lawful_speech_lost"] = out.lawful_speech_lost / POST_UNITS
        cols["lawful_posts_removed"] = out.lawful_posts_removed / POST_UNITS
    if cm.scenario.policy.account_removal is not None:
        cols["accounts_removed"] = out.accounts_removed
        cols["speech_acts_removed"] = out.speech_acts_removed
    return pd.DataFrame(cols)


def _group_rows(cm: CompiledModel, out: UnitOutputs, attr: str, cat: str, g, days: int):
    rows = [("run", attr, cat, MEASURE_COLUMN.get(measure, measure), float(g[mi]))
            for mi, measure in enumerate(GROUP_MEASURES)]
    n = g[0]
    if n > 0:
        derived = {
            "mean_final_score": g[7] / n,
            "listing_rate": g[1] / n,
            "wrongful_listing_rate": g[3] / n,
            "listed_share_of_days": g[2] / (n * days),
            "blocked_per_100k": g[5] / n * 1e5,
            "sanction_rate": g[13] / n,
            "wrongful_blocked_per_100k": g[6] / n * 1e5,
            "green_days_per_resident": g[10] / n,
            "records_per_resident": g[8] / n,
            "share_with_record": g[9] / n,
        }
        if g[14] > 0 or g[15] > 0:  # some listed only through association
            derived["association_listing_rate"] = g[14] / n
            derived["listed_association_share_of_days"] = g[15] / (n * days)
        rows += [("run", attr, cat, k, float(v)) for k, v in derived.items()]
    return rows


def groups_table(cm: CompiledModel, out: UnitOutputs, *, periods: bool = True
                 ) -> pd.DataFrame:
    """One row per period x group attribute x category x measure (period = whole run);
    attribute ``all`` is every resident.  ``periods=False`` keeps the whole run's rows
    only (all that the measures of a run read)."""
    rows = _group_rows(cm, out, "all", "all", out.totals, cm.n_days)
    for k, attr in enumerate(cm.attributes):
        for c, cat in cm.group_categories(k):
            rows += _group_rows(cm, out, attr, cat, out.group[k, c], cm.n_days)
    if not periods:
        return pd.DataFrame(rows, columns=GROUPS_COLUMNS)
    # calendar years: event counts and list-days, plus rates per 100k residents of the group
    n_attr = len(cm.attributes)
    slots = [(n_attr, 0, "all", "all", out.totals[0])] + [
        (k, c, attr, cat, out.group[k, c, 0])
        for k, attr in enumerate(cm.attributes) for c, cat in cm.group_categories(k)]
    for p, period in enumerate(cm.periods):
        for k, c, attr, cat, n in slots:
            g = out.group_period[p, k, c]
            for mi, measure in enumerate(PERIOD_MEASURES):
                rows.append((period, attr, cat, MEASURE_COLUMN.get(measure, measure),
                             float(g[mi])))
            if n > 0:
                rows.append((period, attr, cat, "blocked_per_100k", float(g[2] / n * 1e5)))
                rows.append((period, attr, cat, "new_listings_per_100k",
                             float(g[5] / n * 1e5)))
    return pd.DataFrame(rows, columns=GROUPS_COLUMNS)


def score_hist_table(cm: CompiledModel, out: UnitOutputs) -> pd.DataFrame:
    """Final-score histogram per group: ``score_from`` is each 10-point bin's lower edge."""
    base = cm.arrays.score_base[0] - 1000
    rows = []
    for k, attr in enumerate(cm.attributes):
        for c, cat in cm.group_categories(k):
            h = out.score_hist[k, c]
            for b in np.flatnonzero(h):
                rows.append((attr, cat, int(base + b * SCORE_BIN), int(h[b])))
    return pd.DataFrame(rows, columns=["attribute", "group", "score_from", "residents"])


def _entity_ids(tr: dict, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global ids and kinds ('resident'/'firm') of a unit's entity indexes (-1 stays -1)."""
    n = tr["n"]
    e = np.asarray(e, dtype=np.int64)
    ids = np.where(e < 0, -1, np.where(e < n, tr["gid0"] + e, tr["fgid0"] + e - n))
    kinds = np.where(e < n, "resident", "firm")
    return ids.astype(np.int64), kinds


def records_table(cm: CompiledModel, traces: list[dict]) -> pd.DataFrame:
    """Every record with its provenance (tracing runs only)."""
    parts = [tr for tr in traces if len(tr["records"])]
    if parts:
        r = np.concatenate([tr["records"] for tr in parts]).astype(np.int64)
        subj, kind = zip(*(_entity_ids(tr, tr["records"][:, R_SUBJECT]) for tr in parts),
                         strict=True)
        actor = [_entity_ids(tr, tr["records"][:, R_ACTOR])[0] for tr in parts]
        subj, kind, actor = np.concatenate(subj), np.concatenate(kind), np.concatenate(actor)
    else:
        r = np.zeros((0, N_RCOLS), dtype=np.int32)
        subj = actor = np.zeros(0, dtype=np.int64)
        kind = np.zeros(0, dtype=object)

    def day(col):
        v = r[:, col]
        return np.where(v >= NEVER, -1, v).astype(np.int32)

    df = pd.DataFrame(
        {
            "subject": subj,
            "subject_kind": pd.Categorical(kind, categories=["resident", "firm"]),
            "actor": actor,
            "act": pd.Categorical.from_codes(r[:, R_ACT], categories=cm.acts),
            "department": pd.Categorical.from_codes(r[:, R_DEPT], categories=cm.departments),
            "provenance": pd.Categorical.from_codes(r[:, R_PROV], categories=list(PROVENANCE)),
            "day_act": day(R_DAY_ACT),
            "day_recorded": day(R_DAY_REC),
            "day_on": day(R_DAY_ON),
            "day_off": day(R_DAY_OFF),
            "points": r[:, R_POINTS].astype(np.int32),
            "day_performed": day(R_PERFORMED),
            "day_removed": day(R_REMOVED),
            "removed_by": pd.Categorical.from_codes(r[:, R_REMOVED_BY],
                                                    categories=list(REMOVED_BY)),
        }
    )
    return df.sort_values(["day_act", "subject_kind", "subject", "act", "department"],
                          kind="stable").reset_index(drop=True)


def list_events_table(cm: CompiledModel, traces: list[dict]) -> pd.DataFrame:
    """Every change of list membership (tracing runs only)."""
    frames = []
    for tr in traces:
        log = tr["list_log"]
        if not len(log):
            continue
        ids, kinds = _entity_ids(tr, log[:, 1])
        frames.append(pd.DataFrame({
            "day": log[:, 0].astype(np.int32), "subject": ids, "subject_kind": kinds,
            "list": np.asarray(cm.lists, dtype=object)[log[:, 2]],
            "listed": log[:, 3] > 0, "wrongful": log[:, 3] == 2,
        }))
    if not frames:
        return pd.DataFrame({"day": [], "subject": [], "subject_kind": [], "list": [],
                             "listed": [], "wrongful": []})
    return (pd.concat(frames, ignore_index=True)
            .sort_values(["day", "subject_kind", "subject", "list"], kind="stable")
            .reset_index(drop=True))


def residents_table(cm: CompiledModel, traces: list[dict]) -> pd.DataFrame:
    """Synthetic residents with their attributes and outcomes (tracing runs only)."""
    frames = []
    for tr in traces:
        n = tr["n"]
        employer = tr["employer"]
        d = {"resident": tr["gid0"] + np.arange(n), "unit": np.full(n, tr["unit"]),
             "household": tr["household"],
             "employer": np.where(employer >= 0, tr["fgid0"] + employer, -1)}
        for k, attr in enumerate(cm.attributes):
            d[attr] = np.asarray(cm.categories[k], dtype=object)[tr["codes"][k]]
        if cm.child_slot >= 0:
            d["child"] = tr["is_child"]
        d["final_score"] = tr["score"][:n]
        d["listed_days"] = tr["listed_days"]
        d["wrongful_days"] = tr["wrongful_days"]
        d["blocked"] = tr["blocked"]
        d["green_days"] = tr["green_channel_days_saved"]
        d["listings"] = tr["listings"]
        d["shocked"] = tr["shocked"]
        d["listings_during_shock"] = tr["listings_during_shock"]
        frames.append(pd.DataFrame(d))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def firms_table(cm: CompiledModel, traces: list[dict]) -> pd.DataFrame:
    """Synthetic firms with attributes, legal representative and final score."""
    frames = []
    for tr in traces:
        nf = len(tr["rep"])
        if nf == 0:
            continue
        d = {"firm": tr["fgid0"] + np.arange(nf), "unit": np.full(nf, tr["unit"]),
             "representative": tr["gid0"] + tr["rep"]}
        for k, attr in enumerate(cm.firm_attributes):
            d[attr] = np.asarray(cm.firm_categories[k], dtype=object)[tr["fcodes"][k]]
        d["final_score"] = tr["score"][tr["n"]:]
        frames.append(pd.DataFrame(d))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _mean_from_hist(h: np.ndarray) -> float | None:
    total = h.sum()
    return float((np.arange(h.size) * h).sum() / total) if total else None


def summary_dict(cm: CompiledModel, ts: pd.DataFrame, out: UnitOutputs) -> dict:
    """Key figures of a run (also printed at the end of ``scslab run``)."""
    D = cm.n_days
    last = min(100, D)
    listed_total = int(ts["listed"].sum())
    years = D / 365.0
    n_firms = int(out.firms[0])
    tot = dict(zip(GROUP_MEASURES, out.totals, strict=True))
    s = {
        "residents": cm.residents,
        "firms": n_firms,
        "units": cm.units,
        "days": D,
        "start": cm.start.isoformat(),
        "end": (cm.start + dt.timedelta(days=D - 1)).isoformat(),
        "scale": cm.scale,
        "listed_end": int(ts["listed"].iloc[-1]),
        "listed_mean_last_100_days": float(ts["listed"].iloc[-last:].mean()),
        "listed_per_100k_end": float(ts["listed"].iloc[-1] / cm.residents * 1e5),
        "listed_association_end": int(ts["listed_association"].iloc[-1]),
        "listed_association_per_100k_end": float(
            ts["listed_association"].iloc[-1] / cm.residents * 1e5),
        "residents_ever_listed_association": int(tot["ever_listed_association"]),
        "wrongful_share_of_association_list_days": (
            float(ts["listed_association_wrongful"].sum() / ts["listed_association"].sum())
            if ts["listed_association"].sum() else 0.0),
        "listings_new": int(ts["listed_new"].sum()),
        "residents_ever_listed": int(tot["ever_listed"]),
        "wrongful_share_of_list_days": (
            float(ts["listed_wrongful"].sum() / listed_total) if listed_total else 0.0
        ),
        "residents_ever_wrongfully_listed": int(tot["ever_wrongful"]),
        "mean_days_on_list_completed": _mean_from_hist(out.spell_hist),
        "mean_days_to_correct_wrongful_listing": _mean_from_hist(out.wrong_spell_hist),
        "mean_days_to_correct_wrong_record_on_appeal": _mean_from_hist(out.fix_hist),
        "records_created": int(ts["records_created"].sum()),
        "records_active_end": int(ts["records_active"].iloc[-1]),
        "records_per_resident": float(tot["records"] / cm.residents),
        "share_of_residents_with_a_record": float(tot["with_record"] / cm.residents),
        "records_pooled_by_department_end": {
            d: int(ts[f"records_active_{d}"].iloc[-1]) for d in cm.departments},
        "lists_end": {name: int(ts[f"list_{name}"].iloc[-1]) for name in cm.lists},
        "lists_new": {name: int(ts[f"list_new_{name}"].sum()) for name in cm.lists},
        "blocked": {k: int(ts[f"blocked_{k}"].sum()) for k in cm.actions},
        "blocked_wrongful": {k: int(ts[f"blocked_wrongful_{k}"].sum()) for k in cm.actions},
        "green_channel_days_saved": {
            k: float(ts[f"green_days_{k}"].sum()) for k in cm.actions
            if f"green_days_{k}" in ts},
        "acts": {a: int(ts[f"acts_{a}"].sum()) for a in cm.acts},
        "act_rates_per_subject_year": {
            a: float(ts[f"acts_{a}"].sum() / max(
                (n_firms if cm.scenario.acts[a].subject == "firm" else cm.residents) * years,
                1e-12))
            for a in cm.acts},
        "obligations_performed": int(ts["obligations_performed"].sum()),
        "obligations_performed_resident": int(ts["obligations_performed_resident"].sum()),
        "obligations_performed_firm": int(ts["obligations_performed_firm"].sum()),
        "appeals_filed": int(ts["appeals_filed"].sum()),
        "appeals_won": int(ts["appeals_won"].sum()),
        "credit_repairs": int(ts["credit_repairs"].sum()),
        "income_shocks": int(ts["income_shocks"].sum()),
        "residents_shocked": int(tot["shocked"]),
        "listings_during_shock": int(tot["listings_during_shock"]),
    }
    retried = [k for k in cm.actions if f"blocked_retry_{k}" in ts]
    if retried:  # only for scenarios whose sanctions have retries
        s["blocked_retry"] = {k: int(ts[f"blocked_retry_{k}"].sum()) for k in retried}
    if "lawful_posts" in ts:
        s["lawful_posts"] = float(ts["lawful_posts"].sum())
        s["lawful_speech_lost"] = float(ts["lawful_speech_lost"].sum())
        s["lawful_posts_removed"] = float(ts["lawful_posts_removed"].sum())
    if "accounts_removed" in ts:
        s["accounts_removed_end"] = int(ts["accounts_removed"].iloc[-1])
        s["speech_acts_removed"] = int(ts["speech_acts_removed"].sum())
    for p in PROVENANCE:
        s[f"records_created_{p}"] = int(ts[f"records_created_{p}"].sum())
    wrongful_blocks = sum(s["blocked_wrongful"].values())
    s["wrongful_blocks_per_100k"] = wrongful_blocks / cm.residents * 1e5
    if cm.scale != 1.0:
        s["scaled"] = scaled_counts(s, cm.scale)
    return s


SCALED_KEYS = ("residents", "firms", "listed_end", "listings_new", "residents_ever_listed",
               "records_created", "blocked", "blocked_wrongful", "acts", "lists_end", "lists_new",
               "green_channel_days_saved", "appeals_filed", "credit_repairs",
               "listed_association_end", "residents_ever_listed_association",
               "lawful_posts", "lawful_speech_lost", "accounts_removed_end")


def scaled_counts(summary: dict, scale: float) -> dict:
    """Counts divided by the population scale: what the full-size population would show."""
    out = {}
    for k in SCALED_KEYS:
        v = summary.get(k)
        if isinstance(v, dict):
            out[k] = {kk: vv / scale for kk, vv in v.items()}
        elif v is not None:
            out[k] = v / scale
    return out
