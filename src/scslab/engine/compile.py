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
from scslab.scenario.schema import (
    CHILD_CATEGORY,
    EscalationList,
    FirmLinkedList,
    HouseholdList,
    RecordList,
    Scenario,
    ScoreList,
    list_subject,
)

NEVER = 1 << 30  # a day index beyond any horizon
LIFELONG = -1
LIST_BELOW, LIST_AT_LEAST, LIST_RECORD, LIST_FIRM_LINKED, LIST_HOUSEHOLD, LIST_ESCALATION = (
    0, 1, 2, 3, 4, 5)
RESIDENT, FIRM = 0, 1

ModelArrays = namedtuple(
    "ModelArrays",
    [
        "n_days", "k0", "k1", "trace",
        # population and firms
        "attr_ncat", "attr_cum", "hh_sizes", "hh_cum", "attr_rho",
        "child_share", "child_counts", "child_cum", "child_attr", "child_code", "child_slot",
        "fattr_ncat", "fattr_cum", "employed_share", "rep_on", "rep_mult",
        # acts
        "act_p", "act_mult", "act_fmult", "act_subject", "act_speech", "act_shock",
        "act_negative", "act_scored", "act_sanctioned",
        # departments
        "pair_dept", "pair_act", "act_pair_ptr", "act_pair_idx",
        "coverage", "false_p", "false_pmax",
        "dept_misattr", "dept_delay", "dept_share_day",
        # score (index 0 residents, 1 firms)
        "score_base", "score_min", "score_max", "points", "retention", "cap", "cap_index",
        "tier_floor", "n_tiers", "fixed_attr", "fixed_tier",
        # lists
        "list_kind", "list_subject", "list_thr", "list_dur", "list_start", "black_mask",
        "act_list_mask", "list_src_mask", "list_esc_source", "list_esc_after",
        "list_ext_p", "list_ext_days", "firm_linked_src", "association_src", "reeval_day",
        # black lists a resident is on through its own records, score or firm, and through
        # association only (household lists)
        "own_black_mask", "association_black_mask",
        # actions: sanctions and the green channel
        "action_p", "action_mult", "action_growth_accept", "action_for_child", "child_lists",
        "sanction_lists", "enforcement",
        "shock_days", "retry_p", "retry_days",
        "green_channel_lists", "green_channel_days",
        # remedies
        "perform_p", "perform_mult", "perform_fmult", "perform_removal", "perform_listed",
        "appeals_on", "appeal_notified", "notice_if", "notice_else", "appeal_true",
        "appeal_filing", "appeal_review", "success_wrong", "success_true",
        "repair_on", "repair_after", "repair_p", "repair_act",
        # feedback loops
        "economic_on", "deterrence_on", "deterrence_general", "deterrence_personal",
        "deterrence_sanctions", "awareness_on", "awareness_base", "awareness_household",
        "awareness_listed",
        "chilling_on", "chilling_surveillance", "chilling_salience", "chilling_salience_share",
        # lawful speech (aggregate) and account removal
        "lawful_on", "lawful_rate", "lawful_mult", "speech_scored", "removal_mask",
        "removal_start",
        # reporting periods (calendar years): first day of each
        "period_start",
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
    firm_attributes: list[str]
    firm_categories: list[list[str]]
    acts: list[str]
    departments: list[str]
    pairs: list[tuple[str, str]]
    lists: list[str]
    list_colors: list[str]
    list_subjects: list[str]
    actions: list[str]
    tiers: list[str]
    firm_tiers: list[str]
    periods: list[str]
    scale: float = 1.0
    # children's group slot (population.children): in every attribute but the age
    # attribute, children are a group of their own at index ``child_slot``, labelled
    # ``child_label``, so the adults' groups keep adults' rates
    child_slot: int = -1
    child_attr: int = -1
    child_label: str = ""

    def group_categories(self, k: int) -> list[tuple[int, str]]:
        """(slot, label) of each group of attribute k, the children's slot included."""
        slots = list(enumerate(self.categories[k]))
        if self.child_slot >= 0 and k != self.child_attr:
            slots.append((self.child_slot, self.child_label))
        return slots

    @property
    def residents(self) -> int:
        return self.scenario.population.residents

    @property
    def units(self) -> int:
        return self.scenario.population.units

    @property
    def firms_per_1000(self) -> float:
        f = self.scenario.population.firms
        return f.per_1000_residents if f is not None else 0.0


def _attribute_tables(attributes: dict):
    names = list(attributes)
    cats = [a.categories for a in attributes.values()]
    width = max([len(c) for c in cats] + [1])
    ncat = np.array([len(c) for c in cats], dtype=np.int64)
    cum = np.ones((len(names), width))
    for k, a in enumerate(attributes.values()):
        w = np.asarray(a.weights if a.weights is not None else [1.0] * len(a.categories), float)
        cum[k, : len(w)] = np.cumsum(w) / w.sum()
    return names, cats, width, ncat, cum


def _mult_table(multipliers: dict, attrs: list[str], cats: list[list[str]], width: int):
    table = np.ones((max(len(attrs), 1), width))
    for attr, by_cat in multipliers.items():
        if attr not in attrs:
            continue
        k = attrs.index(attr)
        for cat, factor in by_cat.items():
            table[k, cats[k].index(cat)] = factor
    return table


def _tiers(tiers: dict) -> tuple[list[str], np.ndarray]:
    names = list(tiers)
    floors = np.array([-np.inf if v is None else v for v in tiers.values()], dtype=float)
    return names, floors


def compile_scenario(s: Scenario, *, trace: bool = False, scale: float = 1.0) -> CompiledModel:
    """Turn a validated scenario into the arrays the event loop reads."""
    start, D = s.start, s.n_days

    def day_of(when: dt.date | None, default: int = 0) -> int:
        if when is None:
            return default
        return int(np.clip((when - start).days, 0, NEVER))

    # population and firms
    attrs, cats, width, attr_ncat, attr_cum = _attribute_tables(s.population.attributes)
    firms = s.population.firms
    f_attrs, f_cats, f_width, fattr_ncat, fattr_cum = _attribute_tables(
        firms.attributes if firms is not None else {})
    hh = sorted(s.population.household_sizes.items())
    hh_sizes = np.array([k for k, _ in hh], dtype=np.int64)
    hh_w = np.array([w for _, w in hh], dtype=float)
    if hh_w.sum() <= 0:
        hh_w[:] = 1.0
    hh_cum = np.cumsum(hh_w) / hh_w.sum()
    attr_rho = np.array([a.household_correlation for a in s.population.attributes.values()])
    # children: the share of households of 2+ with children, how many, and their category
    ch = s.population.children
    child_share, child_attr, child_code, child_slot = 0.0, -1, -1, -1
    child_counts = np.ones(1, dtype=np.int64)
    child_cum = np.ones(1)
    if ch is not None:
        child_share = ch.share_of_households
        cc = sorted(ch.per_household.items())
        child_counts = np.array([k for k, _ in cc], dtype=np.int64)
        cw = np.array([w for _, w in cc], dtype=float)
        child_cum = np.cumsum(cw) / cw.sum()
        child_slot = width
        if ch.attribute is not None:
            child_attr = attrs.index(ch.attribute)
            child_code = cats[child_attr].index(CHILD_CATEGORY)
            # adults never draw the children's category
            w = np.diff(np.concatenate([[0.0], attr_cum[child_attr, : attr_ncat[child_attr]]]))
            w[child_code] = 0.0
            if w.sum() > 0:
                attr_cum[child_attr, : attr_ncat[child_attr]] = np.cumsum(w) / w.sum()

    # acts
    acts = list(s.acts)
    A = len(acts)
    act_p = np.array([a.rate.daily_probability() for a in s.acts.values()])
    act_mult = np.stack([_mult_table(a.multipliers if a.subject == "resident" else {},
                                     attrs, cats, width) for a in s.acts.values()])
    act_fmult = np.stack([_mult_table(a.multipliers if a.subject == "firm" else {},
                                      f_attrs, f_cats, f_width) for a in s.acts.values()])
    act_subject = np.array([RESIDENT if a.subject == "resident" else FIRM
                            for a in s.acts.values()], dtype=np.int64)
    act_speech = np.array([a.speech for a in s.acts.values()], dtype=np.bool_)
    act_shock = np.array([a.shock_multiplier for a in s.acts.values()])
    act_negative = np.array([a.valence == "negative" for a in s.acts.values()], dtype=np.bool_)

    # departments and what they record
    depts = list(s.departments)
    pairs = [(d, a) for d, dep in s.departments.items() for a in dep.records]
    P = len(pairs)
    pair_dept = np.array([depts.index(d) for d, _ in pairs], dtype=np.int64)
    pair_act = np.array([acts.index(a) for _, a in pairs], dtype=np.int64)
    act_pair_idx = np.argsort(pair_act, kind="stable").astype(np.int64)
    act_pair_ptr = np.zeros(A + 1, dtype=np.int64)
    np.add.at(act_pair_ptr, pair_act + 1, 1)
    act_pair_ptr = np.cumsum(act_pair_ptr)
    coverage = np.zeros((P, D))
    false_p = np.zeros((P, D))
    false_pmax = np.zeros(P)
    for j, (d, a) in enumerate(pairs):
        rec = s.departments[d].records[a]
        coverage[j] = resolve_daily(rec.coverage, start, D)
        if rec.observed_by_cameras:
            # cameras: a second, independent chance to capture the act
            cameras = resolve_daily(s.departments[d].cameras, start, D)
            coverage[j] = 1.0 - (1.0 - coverage[j]) * (1.0 - cameras)
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

    # scores: one rule set; firm acts carry firm points, resident acts resident points
    sc, fs = s.policy.score, s.policy.firm_score
    points = np.zeros((A, D), dtype=np.int64)
    retention = np.zeros((A, D), dtype=np.int64)
    for j, a in enumerate(acts):
        if a in sc.points:
            points[j] = resolve_daily(sc.points[a], start, D, dtype=np.int64)
        ret = sc.retention_days.get(a, sc.default_retention_days)
        if isinstance(ret, dict):
            ret = {k: (LIFELONG if v == "lifelong" else v) for k, v in ret.items()}
        elif ret == "lifelong":
            ret = LIFELONG
        retention[j] = resolve_daily(ret, start, D, dtype=np.int64)
    cap = np.zeros(A, dtype=np.int64)
    cap_index = np.full(A, -1, dtype=np.int64)
    for c, (a, v) in enumerate(sc.caps.items()):
        cap[acts.index(a)] = v
        cap_index[acts.index(a)] = c
    # act_scored[a, d]: the platform scores act a on day d (some sharing department records
    # it and its points are non-zero) - what deterrence and chilling respond to
    act_scored = np.zeros((A, D), dtype=np.bool_)
    for j in range(P):
        a = pair_act[j]
        share = dept_share_day[pair_dept[j]]
        if share < D:
            on = (np.arange(D) >= share) & (coverage[j] > 0) & (points[a] != 0)
            act_scored[a] |= on
    big = float(NEVER)
    score_base = np.array([sc.base, fs.base], dtype=np.int64)
    score_min = np.array([-big if sc.min is None else sc.min,
                          -big if fs.min is None else fs.min]).astype(np.int64)
    score_max = np.array([big if sc.max is None else sc.max,
                          big if fs.max is None else fs.max]).astype(np.int64)
    tiers, t_res = _tiers(sc.tiers)
    firm_tiers, t_firm = _tiers(fs.tiers)
    # grades fixed by a firm attribute come after the score grades; no score reaches them
    fixed_attr = -1
    fixed_tier = np.full(max(f_width, 1), -1, dtype=np.int64)
    if fs.fixed_grade is not None:
        fixed_attr = f_attrs.index(fs.fixed_grade.attribute)
        for cat, grade in fs.fixed_grade.grades.items():
            if grade not in firm_tiers:
                firm_tiers.append(grade)
                t_firm = np.append(t_firm, np.inf)
            fixed_tier[f_cats[fixed_attr].index(cat)] = firm_tiers.index(grade)
    T = max(len(tiers), len(firm_tiers), 1)
    tier_floor = np.full((2, T), -np.inf)
    tier_floor[0, : len(tiers)] = t_res
    tier_floor[1, : len(firm_tiers)] = t_firm
    n_tiers = np.array([len(tiers), len(fs.tiers)], dtype=np.int64)

    # lists
    lists = list(s.policy.lists)
    L = len(lists)
    list_kind = np.zeros(L, dtype=np.int64)
    list_subject_ = np.array([RESIDENT if list_subject(s, n) == "resident" else FIRM
                              for n in lists], dtype=np.int64)
    list_thr = np.zeros((L, D))
    list_dur = np.zeros((L, D), dtype=np.int64)
    list_start = np.zeros(L, dtype=np.int64)
    act_list_mask = np.zeros(A, dtype=np.int64)
    list_src_mask = np.zeros(L, dtype=np.int64)
    list_esc_source = np.full(L, -1, dtype=np.int64)
    list_esc_after = np.zeros(L, dtype=np.int64)
    list_ext_p = np.zeros(L)
    list_ext_days = np.zeros(L, dtype=np.int64)
    firm_linked_src = 0
    association_src = 0
    black_mask = 0
    colors = []
    reeval = np.zeros(D, dtype=np.bool_)
    reeval[0] = True  # everybody starts at the base score: settle lists and tiers on day 0
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
            thr = list_thr[j]
            changes = np.flatnonzero(thr[1:] != thr[:-1]) + 1  # inf -> inf is no change
            reeval[changes] = True
        elif isinstance(rule, RecordList):
            list_kind[j] = LIST_RECORD
            list_dur[j] = resolve_daily(rule.duration_days, start, D, dtype=np.int64)
            for a in rule.acts:
                act_list_mask[acts.index(a)] |= 1 << j
            if rule.extension is not None:
                list_ext_p[j] = rule.extension.probability
                list_ext_days[j] = rule.extension.days
        elif isinstance(rule, FirmLinkedList | HouseholdList):
            list_kind[j] = LIST_FIRM_LINKED if isinstance(rule, FirmLinkedList) else LIST_HOUSEHOLD
            for src in rule.lists:
                list_src_mask[j] |= 1 << lists.index(src)
            if isinstance(rule, FirmLinkedList):
                firm_linked_src |= list_src_mask[j]
            else:
                association_src |= list_src_mask[j]
        else:
            assert isinstance(rule, EscalationList)
            list_kind[j] = LIST_ESCALATION
            list_esc_source[j] = lists.index(rule.source)
            list_esc_after[j] = rule.after_days

    reps = firms.representatives if firms is not None else None
    rep_on = reps is not None or ch is not None  # weighted draw; uniform over all otherwise
    rep_mult = _mult_table(reps.multipliers if reps is not None else {}, attrs, cats, width)

    # actions: sanctions and rewards
    actions = list(s.actions)
    K = len(actions)
    action_p = np.array([a.rate.daily_probability() for a in s.actions.values()])
    # growth: attempt chains run at the peak multiplier and a candidate on day d is kept
    # with probability growth[d] / peak (thinning), so attempt days stay keyed (CRN)
    action_growth_accept = np.ones((K, D))
    for k, a in enumerate(s.actions.values()):
        peak = float(max_value(a.growth))
        if peak != 1.0 or isinstance(a.growth, dict):
            action_p[k] *= peak
            growth = resolve_daily(a.growth, start, D, off=1.0)
            action_growth_accept[k] = growth / peak if peak > 0 else 0.0
    action_mult = (
        np.stack([_mult_table(a.multipliers, attrs, cats, width) for a in s.actions.values()])
        if K else np.ones((0, max(len(attrs), 1), width))
    )
    action_for_child = np.array([a.for_child for a in s.actions.values()], dtype=np.bool_)
    sanction_lists = np.zeros(K, dtype=np.int64)
    enforcement = np.zeros((K, D))
    shock_days = np.zeros(K, dtype=np.int64)
    retry_p = np.zeros(K)
    retry_days = np.ones(K, dtype=np.int64)
    for name, sanction in s.policy.sanctions.items():
        k = actions.index(name)
        for lst in sanction.lists:
            sanction_lists[k] |= 1 << lists.index(lst)
        enforcement[k] = resolve_daily(sanction.enforcement, start, D)
        first = day_of(sanction.starts)
        enforcement[k, : min(first, D)] = 0.0
        if 0 < first < D:
            reeval[first] = True
        shock_days[k] = sanction.income_shock_days
        if sanction.retry is not None:
            retry_p[k] = sanction.retry.probability
            retry_days[k] = sanction.retry.days
    green_channel_lists = np.zeros(K, dtype=np.int64)
    green_channel_days = np.zeros((K, D))
    for name, reward in s.policy.rewards.items():
        k = actions.index(name)
        for lst in reward.lists:
            green_channel_lists[k] |= 1 << lists.index(lst)
        first = day_of(reward.starts)
        green_channel_days[k, min(first, D):] = reward.days_saved
        if 0 < first < D:
            reeval[first] = True

    # the lists whose members' children may be blocked or fast-tracked
    child_lists = 0
    for k in range(K):
        if action_for_child[k]:
            child_lists |= int(sanction_lists[k] | green_channel_lists[k])

    # routes of listing: household lists are association, every other black list is own
    association_black_mask = 0
    for j in range(L):
        if list_kind[j] == LIST_HOUSEHOLD:
            association_black_mask |= black_mask & (1 << j)
    own_black_mask = black_mask & ~association_black_mask

    # act_sanctioned[a, d]: act a's records, on the platform, can put its subject on a list
    # that restricts an action with a sanction in force on day d (a record list of the act,
    # or a score list below a threshold when the act deducts points)
    on_platform = np.zeros((A, D), dtype=np.bool_)
    for j in range(P):
        share = dept_share_day[pair_dept[j]]
        if share < D:
            on_platform[pair_act[j]] |= (np.arange(D) >= share) & (coverage[j] > 0)
    act_sanctioned = np.zeros((A, D), dtype=np.bool_)
    for j in range(L):
        restricts = np.zeros(D, dtype=np.bool_)
        for k in range(K):
            if (sanction_lists[k] >> j) & 1:
                restricts |= enforcement[k] > 0
        restricts &= np.arange(D) >= list_start[j]
        if not restricts.any():
            continue
        for a in range(A):
            if (act_list_mask[a] >> j) & 1:
                act_sanctioned[a] |= restricts
            elif list_kind[j] == LIST_BELOW and list_subject_[j] == act_subject[a]:
                act_sanctioned[a] |= restricts & (points[a] < 0)
    act_sanctioned &= on_platform

    # remedies
    rem = s.policy.remedies
    perform_p = np.zeros(A)
    perform_mult = np.ones((A, max(len(attrs), 1), width))
    perform_fmult = np.ones((A, max(len(f_attrs), 1), f_width))
    perform_removal = np.zeros(A, dtype=np.int64)
    perform_listed = np.ones(A)
    for a, perf in rem.perform.items():
        j = acts.index(a)
        perform_p[j] = perf.rate.daily_probability()
        if s.acts[a].subject == "resident":
            perform_mult[j] = _mult_table(perf.multipliers, attrs, cats, width)
        else:
            perform_fmult[j] = _mult_table(perf.multipliers, f_attrs, f_cats, f_width)
        perform_removal[j] = perf.removal_days
        perform_listed[j] = perf.listed_multiplier
    ap = rem.appeals
    appeal_notified = (resolve_daily(ap.notified, start, D) if ap is not None else np.zeros(D))
    rp = rem.repair
    repair_act = np.zeros(A, dtype=np.bool_)
    if rp is not None:
        for j, a in enumerate(acts):
            repair_act[j] = (a in rp.acts) if rp.acts else bool(act_negative[j])

    # reporting periods: calendar years overlapping the run
    years = list(range(start.year, (start + dt.timedelta(days=D - 1)).year + 1))
    period_start = np.array([max(0, (dt.date(y, 1, 1) - start).days) for y in years],
                            dtype=np.int64)

    # awareness (deterrence reaches aware residents only; null: everybody is aware)
    fb = s.feedback
    aw = fb.deterrence.awareness
    awareness_base = (resolve_daily(aw.base, start, D) if aw is not None else np.ones(D))

    # lawful speech and account removal
    ls = s.lawful_speech
    lawful_mult = _mult_table(ls.multipliers if ls is not None else {}, attrs, cats, width)
    speech_scored = act_scored[act_speech].any(axis=0) if act_speech.any() else np.zeros(
        D, dtype=np.bool_)
    ar = s.policy.account_removal
    removal_mask = 0
    removal_start = 0
    if ar is not None:
        for lst in ar.lists:
            removal_mask |= 1 << lists.index(lst)
        removal_start = day_of(ar.starts)
        if 0 < removal_start < D:
            reeval[removal_start] = True

    k0, k1 = seed_key(s.seed)
    arrays = ModelArrays(
        n_days=D, k0=k0, k1=k1, trace=trace,
        attr_ncat=attr_ncat, attr_cum=attr_cum, hh_sizes=hh_sizes, hh_cum=hh_cum,
        attr_rho=attr_rho, child_share=child_share, child_counts=child_counts,
        child_cum=child_cum, child_attr=child_attr, child_code=child_code,
        child_slot=child_slot,
        fattr_ncat=fattr_ncat, fattr_cum=fattr_cum,
        employed_share=firms.employed_share if firms is not None else 0.0,
        rep_on=rep_on, rep_mult=rep_mult,
        act_p=act_p, act_mult=act_mult, act_fmult=act_fmult, act_subject=act_subject,
        act_speech=act_speech, act_shock=act_shock, act_negative=act_negative,
        act_scored=act_scored, act_sanctioned=act_sanctioned,
        pair_dept=pair_dept, pair_act=pair_act,
        act_pair_ptr=act_pair_ptr, act_pair_idx=act_pair_idx,
        coverage=coverage, false_p=false_p, false_pmax=false_pmax,
        dept_misattr=dept_misattr, dept_delay=dept_delay, dept_share_day=dept_share_day,
        score_base=score_base, score_min=score_min, score_max=score_max,
        points=points, retention=retention, cap=cap, cap_index=cap_index,
        tier_floor=tier_floor, n_tiers=n_tiers, fixed_attr=fixed_attr, fixed_tier=fixed_tier,
        list_kind=list_kind, list_subject=list_subject_, list_thr=list_thr,
        list_dur=list_dur, list_start=list_start, black_mask=black_mask,
        act_list_mask=act_list_mask, list_src_mask=list_src_mask,
        list_esc_source=list_esc_source, list_esc_after=list_esc_after,
        list_ext_p=list_ext_p, list_ext_days=list_ext_days,
        firm_linked_src=firm_linked_src, association_src=association_src, reeval_day=reeval,
        own_black_mask=own_black_mask, association_black_mask=association_black_mask,
        action_p=action_p, action_mult=action_mult, action_growth_accept=action_growth_accept,
        action_for_child=action_for_child, child_lists=child_lists,
        sanction_lists=sanction_lists, enforcement=enforcement, shock_days=shock_days,
        retry_p=retry_p, retry_days=retry_days, green_channel_lists=green_channel_lists,
        green_channel_days=green_channel_days,
        perform_p=perform_p, perform_mult=perform_mult, perform_fmult=perform_fmult,
        perform_removal=perform_removal, perform_listed=perform_listed,
        appeals_on=ap is not None, appeal_notified=appeal_notified,
        notice_if=ap.notice_if_notified if ap else 0.0,
        notice_else=ap.notice_otherwise if ap else 0.0,
        appeal_true=ap.appeal_true_records if ap else 0.0,
        appeal_filing=ap.filing_days if ap else 0, appeal_review=ap.review_days if ap else 0,
        success_wrong=ap.success_wrong if ap else 0.0,
        success_true=ap.success_true if ap else 0.0,
        repair_on=rp is not None, repair_after=rp.after_days if rp else 0,
        repair_p=rp.rate.daily_probability() if rp else 0.0, repair_act=repair_act,
        economic_on=fb.economic.enabled, deterrence_on=fb.deterrence.enabled,
        deterrence_general=fb.deterrence.general, deterrence_personal=fb.deterrence.personal,
        deterrence_sanctions=fb.deterrence.sanctions,
        awareness_on=aw is not None and bool(fb.deterrence.enabled),
        awareness_base=awareness_base,
        awareness_household=aw.household_listed if aw is not None else 1.0,
        awareness_listed=aw.listed if aw is not None else 1.0,
        chilling_on=fb.chilling.enabled, chilling_surveillance=fb.chilling.surveillance,
        chilling_salience=fb.chilling.salience,
        chilling_salience_share=fb.chilling.salience_share,
        lawful_on=ls is not None, lawful_rate=ls.posts_per_day if ls is not None else 0.0,
        lawful_mult=lawful_mult, speech_scored=speech_scored, removal_mask=removal_mask,
        removal_start=removal_start,
        period_start=period_start,
    )
    return CompiledModel(
        scenario=s, arrays=arrays, start=start, n_days=D, attributes=attrs, categories=cats,
        firm_attributes=f_attrs, firm_categories=f_cats, acts=acts, departments=depts,
        pairs=pairs, lists=lists, list_colors=colors,
        list_subjects=[list_subject(s, n) for n in lists], actions=actions,
        tiers=tiers, firm_tiers=firm_tiers, periods=[str(y) for y in years], scale=scale,
        child_slot=child_slot, child_attr=child_attr,
        child_label=(CHILD_CATEGORY if ch is not None else ""),
    )
