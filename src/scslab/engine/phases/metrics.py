"""Metric sums: group measures split by period as spells and events happen, the sums at
the end of each day, and the closing sums of a unit (open spells, groups, scores)."""

from __future__ import annotations

from numba import njit

from scslab.engine.compile import NEVER
from scslab.engine.layout import (
    FIRM_KIND,
    M_BLOCKED,
    M_BLOCKED_WRONGFUL,
    M_EVER_BLOCKED,
    M_EVER_LISTED,
    M_EVER_LISTED_ASSOCIATION,
    M_EVER_WRONGFUL,
    M_FINAL_SCORE_SUM,
    M_GREEN_CHANNEL_DAYS_SAVED,
    M_LISTED_ASSOCIATION_DAYS,
    M_LISTED_DAYS,
    M_LISTINGS_DURING_SHOCK,
    M_RECORDS,
    M_RESIDENTS,
    M_SHOCKED,
    M_WITH_RECORD,
    M_WRONGFUL_DAYS,
    P_LISTED_DAYS,
    P_WRONGFUL_DAYS,
    RESIDENT_KIND,
    SCORE_BIN,
    SCORE_BINS,
    ST_NASSOC,
    ST_NASSOC_WRONG,
    ST_NEW,
    ST_NLISTED,
    ST_NREMOVED,
    ST_NWRONG,
    ST_OFF,
    ST_RECACT,
    lists_of,
)
from scslab.engine.phases.acts import chilling
from scslab.engine.phases.speech import add_lawful_speech
from scslab.engine.score import effective_score


@njit(cache=True, nogil=True, _nrt=False)
def period_add(gp, codes, i, mi, a, b, value, pstart):
    """Add ``value`` per day of days [a, b) (or ``value`` once at day a when b < 0) to
    period measure ``mi`` of resident i's groups, split by period; the last attribute
    slot is 'all residents'."""
    n_attr = codes.shape[0]
    for p in range(pstart.size):
        lo = pstart[p]
        hi = pstart[p + 1] if p + 1 < pstart.size else NEVER
        if b < 0:
            if not (lo <= a < hi):
                continue
            v = value
        else:
            ov = min(b, hi) - max(a, lo)
            if ov <= 0:
                continue
            v = value * ov
        for k in range(n_attr):
            gp[p, k, codes[k, i], mi] += v
        gp[p, n_attr, 0, mi] += v


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def add_day_sums(m, out, S, st, t, n):
    """The stocks and flows of day t, after its last phase."""
    out.listed[t] += st[ST_NLISTED]
    out.listed_wrongful[t] += st[ST_NWRONG]
    out.listed_association[t] += st[ST_NASSOC]
    out.listed_association_wrongful[t] += st[ST_NASSOC_WRONG]
    out.accounts_removed[t] += st[ST_NREMOVED]
    if m.lawful_on:
        chill = 1.0
        if m.chilling_on and n > 0:
            chill = chilling(1.0, m.chilling_surveillance, m.speech_scored[t],
                             m.chilling_salience,
                             (st[ST_NLISTED] + st[ST_NASSOC]) / n / m.chilling_salience_share)
        add_lawful_speech(out.lawful_posts, out.lawful_speech_lost, out.lawful_posts_removed,
                          S.speech_rates, t, chill)
    out.listed_new[t] += st[ST_NEW]
    out.delisted[t] += st[ST_OFF]
    out.records_active[t] += st[ST_RECACT]
    for j in range(m.list_kind.size):
        out.list_size[j, t] += S.list_count[j]
    for j in range(S.dept_active.size):
        out.dept_active[j, t] += S.dept_active[j]
    for j in range(m.n_tiers[RESIDENT_KIND]):
        out.tiers[j, t] += S.tier_count[RESIDENT_KIND, j]
    for j in range(m.tier_floor.shape[1]):
        out.firm_tiers[j, t] += S.tier_count[FIRM_KIND, j]


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def final_scores(m, S, final_score, n):
    """Every entity's score on all records at the end of the run, into ``final_score``."""
    for e in range(final_score.size):
        kind = RESIDENT_KIND if e < n else FIRM_KIND
        final_score[e] = effective_score(S.pts_all, e, S.cap_val, m.score_base[kind],
                                         m.score_min[kind], m.score_max[kind])


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def add_measure(totals, group, codes, i, mi, value):
    """Add resident i's value of group measure mi to every group of i and to the total."""
    totals[mi] += value
    for k in range(codes.shape[0]):
        group[k, codes[k, i], mi] += value


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def add_closing_sums(m, out, S, final_score, n, nf):
    """Close the spells still open at the end of the run and add the unit's residents to
    their groups: measures, score histogram, and the unit's firms."""
    D = m.n_days
    codes = S.gcodes  # groups: children apart (population/build.py group_codes)
    gp, totals, group = out.group_period, out.totals, out.group
    for i in range(n):
        if (lists_of(S.listed_mask[i]) & m.own_black_mask) != 0:
            S.listed_days[i] += D - S.listed_since[i]
            period_add(gp, codes, i, P_LISTED_DAYS, S.listed_since[i], D, 1.0, m.period_start)
        if S.ever_association[i] and (lists_of(S.listed_mask[i]) & m.own_black_mask) == 0 and (
                lists_of(S.listed_mask[i]) & m.association_black_mask) != 0:
            S.association_days[i] += D - S.association_since[i]
        if S.wrongful[i]:
            S.wrong_days[i] += D - S.wrong_since[i]
            period_add(gp, codes, i, P_WRONGFUL_DAYS, S.wrong_since[i], D, 1.0, m.period_start)
        b = (final_score[i] - (m.score_base[RESIDENT_KIND] - 1000)) // SCORE_BIN
        b = min(max(b, 0), SCORE_BINS - 1)
        # float64 values, added measure by measure in the order of GROUP_MEASURES
        add_measure(totals, group, codes, i, M_RESIDENTS, 1.0)
        add_measure(totals, group, codes, i, M_EVER_LISTED, 1.0 if S.ever_listed[i] else 0.0)
        add_measure(totals, group, codes, i, M_LISTED_DAYS, float(S.listed_days[i]))
        add_measure(totals, group, codes, i, M_EVER_WRONGFUL, 1.0 if S.ever_wrong[i] else 0.0)
        add_measure(totals, group, codes, i, M_WRONGFUL_DAYS, float(S.wrong_days[i]))
        add_measure(totals, group, codes, i, M_BLOCKED, float(S.blocked_i[i]))
        add_measure(totals, group, codes, i, M_BLOCKED_WRONGFUL, float(S.blocked_wrong_i[i]))
        add_measure(totals, group, codes, i, M_FINAL_SCORE_SUM, float(final_score[i]))
        add_measure(totals, group, codes, i, M_RECORDS, float(S.records_i[i]))
        add_measure(totals, group, codes, i, M_WITH_RECORD,
                    1.0 if S.records_i[i] > 0 else 0.0)
        add_measure(totals, group, codes, i, M_GREEN_CHANNEL_DAYS_SAVED,
                    S.green_channel_days_saved[i])
        add_measure(totals, group, codes, i, M_SHOCKED, 1.0 if S.shocked[i] else 0.0)
        add_measure(totals, group, codes, i, M_LISTINGS_DURING_SHOCK,
                    float(S.listings_during_shock[i]))
        add_measure(totals, group, codes, i, M_EVER_BLOCKED, 1.0 if S.blocked_i[i] > 0 else 0.0)
        add_measure(totals, group, codes, i, M_EVER_LISTED_ASSOCIATION,
                    1.0 if S.ever_association[i] else 0.0)
        add_measure(totals, group, codes, i, M_LISTED_ASSOCIATION_DAYS,
                    float(S.association_days[i]))
        for k in range(codes.shape[0]):
            out.score_hist[k, codes[k, i], b] += 1
    out.firms[0] += nf
