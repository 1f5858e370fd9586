"""A resident's points sum is 64-bit: no valid scenario can overflow it."""

from __future__ import annotations

from tests.conftest import run_case


def test_a_points_sum_beyond_32_bits_keeps_its_sign():
    # one record a day at the largest allowed points, kept for life: after 25,000 days the
    # sum is -2.5e9, beyond int32 (an int32 sum wraps to +1.79e9).  A score without min or
    # max is clipped at +-2^30, so the resident ends at the bottom, not the top.
    rr = run_case(days=25_000, policy={"score": {"points": {"neg": -100_000},
                                                 "default_retention_days": "lifelong"}})
    assert int(rr.residents["final_score"].iloc[0]) == -(1 << 30)
    assert len(rr.records) == 25_000
