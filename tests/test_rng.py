"""Philox4x32-10 against the Random123 known-answer vectors, and keyed-draw properties."""

import numpy as np
from numba import njit

from scslab.rng import (
    ACT,
    GAP_MEMO_COLS,
    GAP_MEMO_SLOTS,
    gap_within,
    geometric_gap,
    philox4x32,
    stream,
    uniforms,
)


@njit
def _block(c0, c1, c2, c3, k0, k1):
    return philox4x32(c0, c1, c2, c3, k0, k1)


def test_philox_known_answers():
    assert _block(0, 0, 0, 0, 0, 0) == (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)
    f = 0xFFFFFFFF
    assert _block(f, f, f, f, f, f) == (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)
    assert _block(0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344, 0xA4093822, 0x299F31D0) == (
        0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)


def test_draws_depend_only_on_identity():
    ids = np.arange(1000)
    a = uniforms(5, stream(ACT, 2), ids)
    b = uniforms(5, stream(ACT, 2), ids[::-1])[::-1]
    assert np.array_equal(a, b)  # order of evaluation does not matter
    assert not np.array_equal(a, uniforms(6, stream(ACT, 2), ids))  # seed matters
    assert not np.array_equal(a, uniforms(5, stream(ACT, 3), ids))  # stream matters


def test_uniforms_are_uniform():
    # 400k draws: mean within 5 standard errors of 1/2, deciles within 5 sd of 10%.
    u = uniforms(11, stream(ACT, 0), np.arange(100_000)).ravel()
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / u.size)
    counts = np.bincount((u * 10).astype(int), minlength=10) / u.size
    assert np.all(np.abs(counts - 0.1) < 5 * np.sqrt(0.09 / u.size))


@njit
def _gaps(us, p):
    out = np.empty(us.size, dtype=np.int64)
    for i in range(us.size):
        out[i] = geometric_gap(us[i], p)
    return out


def test_geometric_gap_has_the_right_mean():
    # mean of Geometric(p) on {1, 2, ...} is 1/p; 100k draws, 5 standard errors
    u = uniforms(1, stream(ACT, 9), np.arange(25_000)).ravel()
    p = 0.02
    g = _gaps(u, p)
    assert g.min() >= 1
    sd = np.sqrt((1 - p) / p**2 / g.size)
    assert abs(g.mean() - 1 / p) < 5 * sd
    assert _gaps(np.array([0.3]), 1.0)[0] == 1
    assert _gaps(np.array([0.3]), 0.0)[0] > 10**9


@njit
def _gaps_within(us, ps, horizon):
    memo = np.full((1, GAP_MEMO_SLOTS, GAP_MEMO_COLS), -1.0)
    out = np.empty((ps.size, us.size), dtype=np.int64)
    for j in range(ps.size):
        for i in range(us.size):
            out[j, i] = gap_within(us[i], ps[j], memo, 0, horizon)
    return out


def _gaps_of(us, ps):
    return np.array([_gaps(us, p) for p in ps])


def test_gap_within_is_the_gap_up_to_the_horizon():
    # daily rates of 0.0005-4 a year and a few extremes; uniforms keyed draws plus those
    # next to (1-p)^h, where a gap crosses the horizon, and a gap of exactly h and h + 1
    h = 2010
    ps = np.array([0.0005, 0.002, 0.01, 0.06, 0.3, 4.0]) / 365.25
    ps = np.concatenate([ps, [1e-12, 0.003, 0.2, 0.9, 0.0, 1.0]])
    us = [uniforms(3, stream(ACT, 1), np.arange(5_000)).ravel()]
    for p in ps[(ps > 0) & (ps < 1)]:
        edge = (1 - p) ** h
        near = edge * (1 + np.linspace(-3e-6, 3e-6, 61))
        us.append(np.nextafter(near, 0.0))
        us.append(near)
        us.append(np.nextafter(near, 1.0))
    u = np.concatenate(us)
    u = u[(u > 0) & (u < 1)]
    want = _gaps_of(u, ps)
    got = _gaps_within(u, ps, h)
    inside = want <= h
    assert np.array_equal(got[inside], want[inside])  # the same gaps, to the bit
    assert (got[~inside] > h).all()  # and beyond the horizon when they are
    assert inside.any() and (~inside).any()
    # the gaps of h and h + 1 both met among the near-edge uniforms of some rate
    assert (want == h).any() and (want == h + 1).any()
