"""Compile a validated Scenario into flat arrays for the event loop.

Names become indexes, dated values become one value per day, and attribute multipliers
become lookup tables.  The result is a namedtuple of numpy arrays and scalars that numba
can take as one argument.
"""

from __future__ import annotations

import datetime as dt
from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from scslab.rng import seed_key
from scslab.scenario.dated import max_value, resolve_daily
from scslab.scenario.schema import RecordList, Scenario, ScoreList

NEVER = 1 << 30  # a day index beyond any horizon
LIFELONG = -1
LIST_BELOW, LIST_AT_LEAST, LIST_RECORD = 0, 1, 2

ModelArrays = namedtuple(
    "ModelArrays",
    [
        "n_days", "k0", "k1", "trace",
        "attr_ncat", "attr_cum", "hh_sizes", "hh_cum",
        "act_p", "act_mult",
        "pair_dept", "pair_act", "act_pair_ptr", "act_pair_idx",
        "coverage", "false_p", "false_pmax",
        "dept_misattr", "dept_delay", "dept_share_day",
        "score_base", "score_min", "score_max", "points", "retention", "cap", "cap_index",
        "list_kind", "list_thr", "list_dur", "list_start", "list_rec_index", "black_mask",
        "act_list_mask", "reeval_day",
        "action_p", "action_mult", "action_restrict", "enforcement",
    ],
)


@dataclass
class CompiledModel:
    """A scenario as arrays, plus the names needed to label outputs."""

    scenario: Scenario
    arrays: ModelArrays
    start: dt.date
    n_days: int
    attributes: list[str]
    categories: list[list[str]]
    acts: list[str]
    departments: list[str]
    pairs: list[tuple[str, str]]
    lists: list[str]
    list_colors: list[str]
    actions: list[str]

    @property
    def residents(self) -> int:
        return self.scenario.population.residents

    @property
    def units(self) -> int:
        return self.scenario.population.units

    def day_of(self, when: dt.date | None, default: int = 0) -> int:
        if when is None:
            return default
        return (when - self.start).days


def _mult_table(multipliers: dict, attrs: list[str], cats: list[list[str]], width: int):
    table = np.ones((len(attrs), width))
    for attr, by_cat in multipliers.items():
        k = attrs.index(attr)
        for cat, factor in by_cat.items():
            table[k, cats[k].index(cat)] = factor
    return table


def compile_scenario(s: Scenario, *, trace: bool = False) -> CompiledModel:
    """Turn a validated scenario into the arrays the event loop reads."""
    start, D = s.start, s.n_days

    def day_of(when: dt.date | None, default: int = 0) -> int:
        if when is None:
            return default
        return int(np.clip((when - start).days, 0, NEVER))

    # population
    attrs = list(s.population.attributes)
    cats = [a.categories for a in s.population.attributes.values()]
    width = max([len(c) for c in cats] + [1])
    attr_ncat = np.array([len(c) for c in cats], dtype=np.int64)
    attr_cum = np.ones((len(attrs), width))
    for k, a in enumerate(s.population.attributes.values()):
        w = np.asarray(a.weights if a.weights is not None else [1.0] * len(a.categories), float)
        attr_cum[k, : len(w)] = np.cumsum(w) / w.sum()
    hh = sorted(s.population.household_sizes.items())
    hh_sizes = np.array([k for k, _ in hh], dtype=np.int64)
    hh_w = np.array([w for _, w in hh], dtype=float)
    if hh_w.sum() <= 0:
        hh_w[:] = 1.0
    hh_cum = np.cumsum(hh_w) / hh_w.sum()

    # acts
    acts = list(s.acts)
    act_p = np.array([a.rate.daily_probability() for a in s.acts.values()])
    act_mult = np.stack([_mult_table(a.multipliers, attrs, cats, width) for a in s.acts.values()])

    # departments and what they record
    depts = list(s.departments)
    pairs = [(d, a) for d, dep in s.departments.items() for a in dep.records]
    P = len(pairs)
    pair_dept = np.array([depts.index(d) for d, _ in pairs], dtype=np.int64)
    pair_act = np.array([acts.index(a) for _, a in pairs], dtype=np.int64)
    order = np.argsort(pair_act, kind="stable")
    act_pair_idx = order.astype(np.int64)
    act_pair_ptr = np.zeros(len(acts) + 1, dtype=np.int64)
    np.add.at(act_pair_ptr, pair_act + 1, 1)
    act_pair_ptr = np.cumsum(act_pair_ptr)
    coverage = np.zeros((P, D))
    false_p = np.zeros((P, D))
    false_pmax = np.zeros(P)
    for j, (d, a) in enumerate(pairs):
        rec = s.departments[d].records[a]
        coverage[j] = resolve_daily(rec.coverage, start, D)
        rate = resolve_daily(rec.false_per_resident_year, start, D)
        false_p[j] = 1.0 - np.exp(-rate / 365.0)
        false_pmax[j] = 1.0 - np.exp(-max_value(rec.false_per_resident_year) / 365.0)
    dept_misattr = np.zeros((len(depts), D))
    dept_delay = np.zeros(len(depts), dtype=np.int64)
    dept_share_day = np.full(len(depts), NEVER, dtype=np.int64)
    for j, dep in enumerate(s.departments.values()):
        dept_misattr[j] = resolve_daily(dep.misattribution, start, D)
        dept_delay[j] = dep.delay_days
        if dep.shares_from is not None:
            dept_share_day[j] = day_of(dep.shares_from)

    # score
    sc = s.policy.score
    points = np.zeros((len(acts), D), dtype=np.int64)
    retention = np.zeros((len(acts), D), dtype=np.int64)
    for j, a in enumerate(acts):
        if a in sc.points:
            points[j] = resolve_daily(sc.points[a], start, D, dtype=np.int64)
        ret = sc.retention_days.get(a, sc.default_retention_days)
        if isinstance(ret, dict):
            ret = {k: (LIFELONG if v == "lifelong" else v) for k, v in ret.items()}
        elif ret == "lifelong":
            ret = LIFELONG
        retention[j] = resolve_daily(ret, start, D, dtype=np.int64)
    cap = np.zeros(len(acts), dtype=np.int64)
    cap_index = np.full(len(acts), -1, dtype=np.int64)
    for c, (a, v) in enumerate(sc.caps.items()):
        cap[acts.index(a)] = v
        cap_index[acts.index(a)] = c

    # lists
    lists = list(s.policy.lists)
    L = len(lists)
    list_kind = np.zeros(L, dtype=np.int64)
    list_thr = np.zeros((L, D))
    list_dur = np.zeros((L, D), dtype=np.int64)
    list_start = np.zeros(L, dtype=np.int64)
    list_rec_index = np.full(L, -1, dtype=np.int64)
    act_list_mask = np.zeros(len(acts), dtype=np.int64)
    black_mask = 0
    colors = []
    reeval = np.zeros(D, dtype=np.bool_)
    n_rec = 0
    for j, rule in enumerate(s.policy.lists.values()):
        list_start[j] = day_of(rule.starts)
        if 0 < list_start[j] < D:
            reeval[list_start[j]] = True
        colors.append(rule.color)
        if rule.color == "black":
            black_mask |= 1 << j
        if isinstance(rule, ScoreList):
            if rule.below is not None:
                list_kind[j] = LIST_BELOW
                list_thr[j] = resolve_daily(rule.below, start, D, off=-np.inf)
            else:
                list_kind[j] = LIST_AT_LEAST
                list_thr[j] = resolve_daily(rule.at_least, start, D, off=np.inf)
            changes = np.flatnonzero(np.diff(list_thr[j])) + 1
            reeval[changes] = True
        else:
            assert isinstance(rule, RecordList)
            list_kind[j] = LIST_RECORD
            list_dur[j] = resolve_daily(rule.duration_days, start, D, dtype=np.int64)
            list_rec_index[j] = n_rec
            n_rec += 1
            for a in rule.acts:
                act_list_mask[acts.index(a)] |= 1 << j

    # actions and sanctions
    actions = list(s.actions)
    K = len(actions)
    action_p = np.array([a.rate.daily_probability() for a in s.actions.values()])
    action_mult = (
        np.stack([_mult_table(a.multipliers, attrs, cats, width) for a in s.actions.values()])
        if K
        else np.ones((0, len(attrs), width))
    )
    action_restrict = np.zeros(K, dtype=np.int64)
    enforcement = np.zeros((K, D))
    for name, sanction in s.policy.sanctions.items():
        k = actions.index(name)
        for lst in sanction.lists:
            action_restrict[k] |= 1 << lists.index(lst)
        enforcement[k] = resolve_daily(sanction.enforcement, start, D)
        first = day_of(sanction.starts)
        enforcement[k, : min(first, D)] = 0.0
        if 0 < first < D:
            reeval[first] = True

    k0, k1 = seed_key(s.seed)
    arrays = ModelArrays(
        n_days=D, k0=k0, k1=k1, trace=trace,
        attr_ncat=attr_ncat, attr_cum=attr_cum, hh_sizes=hh_sizes, hh_cum=hh_cum,
        act_p=act_p, act_mult=act_mult,
        pair_dept=pair_dept, pair_act=pair_act,
        act_pair_ptr=act_pair_ptr, act_pair_idx=act_pair_idx,
        coverage=coverage, false_p=false_p, false_pmax=false_pmax,
        dept_misattr=dept_misattr, dept_delay=dept_delay, dept_share_day=dept_share_day,
        score_base=sc.base,
        score_min=sc.min if sc.min is not None else -NEVER,
        score_max=sc.max if sc.max is not None else NEVER,
        points=points, retention=retention, cap=cap, cap_index=cap_index,
        list_kind=list_kind, list_thr=list_thr, list_dur=list_dur, list_start=list_start,
        list_rec_index=list_rec_index, black_mask=black_mask,
        act_list_mask=act_list_mask, reeval_day=reeval,
        action_p=action_p, action_mult=action_mult, action_restrict=action_restrict,
        enforcement=enforcement,
    )
    return CompiledModel(
        scenario=s, arrays=arrays, start=start, n_days=D, attributes=attrs, categories=cats,
        acts=acts, departments=depts, pairs=pairs, lists=lists, list_colors=colors,
        actions=actions,
    )
