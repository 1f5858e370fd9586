"""Turn metric sums into the run's tables: timeseries, groups, records, summary."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from scslab.engine.compile import NEVER, CompiledModel
from scslab.engine.kernel import (
    GROUP_MEASURES,
    N_RCOLS,
    PROVENANCE,
    R_ACT,
    R_ACTOR,
    R_DAY_ACT,
    R_DAY_OFF,
    R_DAY_ON,
    R_DAY_REC,
    R_DEPT,
    R_POINTS,
    R_PROV,
    R_SUBJECT,
    SCORE_BIN,
    UnitOutputs,
)


def timeseries_table(cm: CompiledModel, out: UnitOutputs) -> pd.DataFrame:
    """One row per simulated day (see docs/outputs.md for every column)."""
    D = cm.n_days
    cols: dict[str, np.ndarray] = {
        "day": np.arange(D, dtype=np.int32),
        "date": pd.date_range(cm.start, periods=D, freq="D").date,
        "listed": out.listed,
        "listed_wrongful": out.listed_wrongful,
        "listed_new": out.listed_new,
        "delisted": out.delisted,
        "records_active": out.records_active,
        "records_created": out.records_created,
    }
    for p, name in enumerate(PROVENANCE):
        cols[f"records_created_{name}"] = out.records_by_prov[p]
    for j, name in enumerate(cm.lists):
        cols[f"list_{name}"] = out.list_size[j]
    for k, name in enumerate(cm.actions):
        cols[f"blocked_{name}"] = out.blocked[k]
        cols[f"blocked_wrongful_{name}"] = out.blocked_wrongful[k]
    for a, name in enumerate(cm.acts):
        cols[f"acts_{name}"] = out.acts[a]
    return pd.DataFrame(cols)


def groups_table(cm: CompiledModel, out: UnitOutputs) -> pd.DataFrame:
    """One row per period x group attribute x category x measure (period = whole run)."""
    rows = []
    for k, attr in enumerate(cm.attributes):
        for c, cat in enumerate(cm.categories[k]):
            g = out.group[k, c]
            for mi, measure in enumerate(GROUP_MEASURES):
                rows.append(("run", attr, cat, measure, float(g[mi])))
            n = g[0]
            if n > 0:
                rows.append(("run", attr, cat, "mean_final_score", float(g[7] / n)))
                rows.append(("run", attr, cat, "listing_rate", float(g[1] / n)))
                rows.append(("run", attr, cat, "listed_share_of_days",
                             float(g[2] / (n * cm.n_days))))
                rows.append(("run", attr, cat, "blocked_per_100k", float(g[5] / n * 1e5)))
    return pd.DataFrame(rows, columns=["period", "attribute", "group", "measure", "value"])


def score_hist_table(cm: CompiledModel, out: UnitOutputs) -> pd.DataFrame:
    """Final-score histogram per group: ``score_from`` is each 10-point bin's lower edge."""
    base = cm.arrays.score_base - 1000
    rows = []
    for k, attr in enumerate(cm.attributes):
        for c, cat in enumerate(cm.categories[k]):
            h = out.score_hist[k, c]
            for b in np.flatnonzero(h):
                rows.append((attr, cat, int(base + b * SCORE_BIN), int(h[b])))
    return pd.DataFrame(rows, columns=["attribute", "group", "score_from", "residents"])


def records_table(cm: CompiledModel, traces: list[dict]) -> pd.DataFrame:
    """Every record with its provenance (tracing runs only)."""
    parts = []
    for tr in traces:
        r = tr["records"]
        if len(r) == 0:
            continue
        parts.append((tr["gid0"], r))
    if not parts:
        r = np.zeros((0, N_RCOLS), dtype=np.int64)
        gid0 = np.zeros(0, dtype=np.int64)
    else:
        gid0 = np.concatenate([np.full(len(r), g) for g, r in parts])
        r = np.concatenate([r for _, r in parts])

    def day(col):
        v = r[:, col]
        return np.where(v >= min(NEVER, 2**31 - 1), -1, v).astype(np.int32)

    df = pd.DataFrame(
        {
            "subject": (gid0 + r[:, R_SUBJECT]).astype(np.int64),
            "actor": np.where(r[:, R_ACTOR] >= 0, gid0 + r[:, R_ACTOR], -1).astype(np.int64),
            "act": pd.Categorical.from_codes(r[:, R_ACT], categories=cm.acts),
            "department": pd.Categorical.from_codes(r[:, R_DEPT], categories=cm.departments),
            "provenance": pd.Categorical.from_codes(r[:, R_PROV], categories=list(PROVENANCE)),
            "day_act": day(R_DAY_ACT),
            "day_recorded": day(R_DAY_REC),
            "day_on": day(R_DAY_ON),
            "day_off": day(R_DAY_OFF),
            "points": r[:, R_POINTS].astype(np.int32),
        }
    )
    return df.sort_values(["day_act", "subject", "act", "department"], kind="stable").reset_index(
        drop=True
    )


def list_events_table(cm: CompiledModel, traces: list[dict]) -> pd.DataFrame:
    """Every change of list membership (tracing runs only)."""
    rows = [
        (int(t), tr["gid0"] + int(i), cm.lists[int(j)], int(s))
        for tr in traces
        for t, i, j, s in tr["list_log"]
    ]
    df = pd.DataFrame(rows, columns=["day", "resident", "list", "state"])
    df["listed"] = df["state"] > 0
    df["wrongful"] = df["state"] == 2
    return df.drop(columns="state").sort_values(["day", "resident", "list"]).reset_index(drop=True)


def residents_table(cm: CompiledModel, traces: list[dict]) -> pd.DataFrame:
    """Synthetic residents with their attributes and outcomes (tracing runs only)."""
    frames = []
    for tr in traces:
        n = len(tr["score"])
        d = {"resident": tr["gid0"] + np.arange(n), "unit": np.full(n, tr["unit"]),
             "household": tr["household"]}
        for k, attr in enumerate(cm.attributes):
            d[attr] = np.asarray(cm.categories[k], dtype=object)[tr["codes"][k]]
        d["final_score"] = tr["score"]
        d["listed_days"] = tr["listed_days"]
        d["wrongful_days"] = tr["wrongful_days"]
        d["blocked"] = tr["blocked"]
        frames.append(pd.DataFrame(d))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def summary_dict(cm: CompiledModel, ts: pd.DataFrame) -> dict:
    """Key figures of a run (also printed at the end of ``scslab run``)."""
    D = cm.n_days
    last = min(100, D)
    listed_total = int(ts["listed"].sum())
    out = {
        "residents": cm.residents,
        "units": cm.units,
        "days": D,
        "start": cm.start.isoformat(),
        "end": (cm.start + dt.timedelta(days=D - 1)).isoformat(),
        "listed_end": int(ts["listed"].iloc[-1]),
        "listed_mean_last_100_days": float(ts["listed"].iloc[-last:].mean()),
        "listed_per_100k_end": float(ts["listed"].iloc[-1] / cm.residents * 1e5),
        "listings_new": int(ts["listed_new"].sum()),
        "wrongful_share_of_list_days": (
            float(ts["listed_wrongful"].sum() / listed_total) if listed_total else 0.0
        ),
        "records_created": int(ts["records_created"].sum()),
        "records_active_end": int(ts["records_active"].iloc[-1]),
        "blocked": {k: int(ts[f"blocked_{k}"].sum()) for k in cm.actions},
        "blocked_wrongful": {k: int(ts[f"blocked_wrongful_{k}"].sum()) for k in cm.actions},
        "acts": {a: int(ts[f"acts_{a}"].sum()) for a in cm.acts},
    }
    for p in PROVENANCE:
        out[f"records_created_{p}"] = int(ts[f"records_created_{p}"].sum())
    wrongful_blocks = sum(out["blocked_wrongful"].values())
    out["wrongful_blocks_per_100k"] = wrongful_blocks / cm.residents * 1e5
    return out
