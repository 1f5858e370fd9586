"""Statistical checks against analytic results, with stated tolerances."""

import numpy as np
from scipy.stats import binom

import scslab
from tests.conftest import make


def test_record_listing_mean_equals_one_minus_survival():
    """Constant-rate listing with fixed duration and perfect data.

    Each day a resident commits the act with p = 0.001 and is listed for d = 100 days,
    so from day d on P(listed) = 1 - (1 - p)^d (about p*d = 0.1).  With N = 50,000 the
    expected list size is 4,758; one day's count has sd ~ 66.  We compare the mean over
    the last 200 days with a tolerance of 5 sd of a single day (generous, since days are
    positively correlated the mean's sd is below a single day's).
    """
    p, d, n = 0.001, 100, 50_000
    s = make(
        population={"residents": n, "units": 5},
        acts={"neg": {"rate": {"per_day": p}}},
        days=400,
        replace={"policy.lists": {"court": {"kind": "record", "acts": ["neg"],
                                            "duration_days": d}},
                 "policy.sanctions": {}, "outputs": {}},
    )
    r = scslab.run(s)
    expected = n * (1 - (1 - p) ** d)
    sd = np.sqrt(n * (expected / n) * (1 - expected / n))
    assert abs(r.timeseries["list_court"].iloc[-200:].mean() - expected) < 5 * sd


def minimal_steady_state():
    """Exact steady state of the minimal model (MODEL.md section 6) for day >= 365.

    Active records are the last 365 days' worth: true negatives ~ Bin(365, 0.9 p),
    false ~ Bin(365, 1/20000), prosocial ~ Bin(365, 1/200); listed iff the score is
    below 950; wrongful iff the score without false records is not.
    """
    w = 365
    nf = binom.pmf(np.arange(8), w, 1 / 20000)
    m = binom.pmf(np.arange(60), w, 1 / 200)
    listed, wrong = 0.0, 0.0
    for p, share in ((0.002, 0.3), (0.001, 0.7)):
        nt = binom.pmf(np.arange(30), w, 0.9 * p)
        a, b, c = np.meshgrid(np.arange(30), np.arange(8), np.arange(60), indexing="ij")
        prob = nt[a] * nf[b] * m[c]
        is_listed = 1000 - 50 * (a + b) + 5 * c < 950
        is_wrong = is_listed & (1000 - 50 * a + 5 * c >= 950)
        listed += share * prob[is_listed].sum()
        wrong += share * prob[is_wrong].sum()
    return listed, wrong / listed


def test_minimal_model_matches_its_analytic_steady_state():
    """100k residents: mean list size over the last 100 days within 4 sd of one day's
    count of the analytic value (about 7,761 of 100k; sd ~ 85), and the wrongful share
    of list-days in the last 100 days within 0.01 of the analytic share (about 0.064)."""
    n = 100_000
    r = scslab.run("minimal", residents=n)
    p_listed, wrong_share = minimal_steady_state()
    ts = r.timeseries.iloc[-100:]
    sd = np.sqrt(n * p_listed * (1 - p_listed))
    assert abs(ts["listed"].mean() - n * p_listed) < 4 * sd
    assert abs(ts["listed_wrongful"].sum() / ts["listed"].sum() - wrong_share) < 0.01
