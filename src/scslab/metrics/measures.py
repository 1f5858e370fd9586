"""The comparable figures of one run, by name: what ``compare``, ``calibrate`` and
``sensitivity`` read, and the ``measure`` column of their tables.

A run's measures are its summary figures (mappings flattened as ``KEY_NAME``), its
timeseries totals (a flow is summed over the run; a stock is read on the last day as
``COLUMN_end``), act totals by kind, and disparate-impact ratios per attribute (each
category against the attribute's reference category, by default its first).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from scslab.errors import ScslabError
from scslab.metrics.frame import group_rates
from scslab.metrics.tables import is_stock

HEADLINE = (
    "listed_mean_last_100_days", "listed_end", "listings_new", "wrongful_share_of_list_days",
    "wrongful_blocks_per_100k", "records_created", "records_created_true",
    "records_created_false", "records_created_misattributed", "records_active_end",
)
# summary keys that describe the run rather than measure it ("scaled" repeats counts)
SUMMARY_SKIP = {"residents", "firms", "units", "days", "start", "end", "scale", "scaled",
                "seconds", "resident_days_per_second"}
# stocks that the summary already reports at the end of the run
SUMMARISED_STOCKS = ("listed", "records_active")
DI_METRICS = ("listing_rate", "blocked_per_resident", "green_channel_benefit")


def speech_acts(scenario) -> list[str]:
    """The scenario's acts of speech: those declared ``speech: true``."""
    return [a for a, act in scenario.acts.items() if act.speech]


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def run_measures(rr, *, reference: dict[str, str] | None = None,
                 di_metrics: Sequence[str] = DI_METRICS) -> dict[str, float]:
    """Every comparable figure of one run (a RunResult) by measure name; the group
    figures (overall and disparate-impact ratios) for ``di_metrics`` only (the sandbox's
    preview asks for the listing rate, the one it shows)."""
    sm = rr.summary
    ts = rr.timeseries
    scen = rr.scenario
    m: dict[str, float] = {}
    for k in HEADLINE:
        if k in sm:
            m[k] = float(sm[k])
    for k, v in sm.items():
        if k in SUMMARY_SKIP or k in m:
            continue
        if _number(v):
            m[k] = float(v)
        elif isinstance(v, dict):
            for sub, x in v.items():
                if _number(x):
                    m[f"{k}_{sub}"] = float(x)
    speech = set(speech_acts(scen))
    acts = sm.get("acts", {})
    m["acts_total_negative"] = float(sum(
        v for a, v in acts.items()
        if a in scen.acts and a not in speech and scen.acts[a].valence == "negative"))
    if speech:
        m["acts_total_speech"] = float(sum(v for a, v in acts.items() if a in speech))
    for col in ts.columns:
        if col in ("day", "date") or col in m or not pd.api.types.is_numeric_dtype(ts[col]):
            continue
        if is_stock(col):
            if not col.startswith(SUMMARISED_STOCKS):
                m[f"{col}_end"] = float(ts[col].iloc[-1]) if len(ts) else math.nan
            continue
        m[col] = float(ts[col].sum())
    _group_measures(m, rr.groups, scen.population.attributes, reference or {}, di_metrics)
    return m


def _group_measures(m: dict[str, float], groups: pd.DataFrame, attrs, reference,
                    di_metrics: Sequence[str]) -> None:
    """Add the overall group metrics (from the first attribute) and each attribute's
    disparate-impact ratios to ``m``: numpy over the groups table's whole-run rows, read
    once (a parameter point's run spends less on its measures than on pandas here)."""
    if groups is None or not len(groups):
        return
    rows = groups
    if "period" in rows.columns:
        rows = rows[rows["period"].to_numpy() == "run"]
    attribute = rows["attribute"].to_numpy()
    group, measure = rows["group"].to_numpy(), rows["measure"].to_numpy()
    value = rows["value"].to_numpy(dtype=float)
    # None (every metric the groups table has) unless some are left out: a metric asked
    # for by name must be in the table, and green_channel_benefit is there with rewards only
    metrics = None if set(DI_METRICS) <= set(di_metrics) else [
        d for d in DI_METRICS if d in di_metrics]
    first = next(iter(attrs), None)
    for attr, spec in attrs.items():
        if len(spec.categories) < 2:
            continue
        ref = str(reference.get(attr, spec.categories[0]))
        mine = attribute == attr
        if not mine.any():
            continue
        try:
            rates = group_rates(group[mine], measure[mine], value[mine], metrics)
        except ScslabError:
            continue
        names = [str(g) for g in rates.groups]
        if ref not in names:
            continue
        if attr == first:
            for name, v in rates.overall.items():
                m[name] = float(v)
        for metric in di_metrics:
            if metric not in rates.by_group:
                continue
            v = rates.by_group[metric]
            r = v[names.index(ref)]
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = v / (r if r != 0 else np.nan)
            for cat, x in zip(names, ratio, strict=True):
                if cat != ref:
                    m[f"di_{metric}[{attr}={cat}/{ref}]"] = float(x) if np.isfinite(x) \
                        else math.nan
