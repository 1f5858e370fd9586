"""Units cut into shards and threads: every unit once, and a sane default thread count."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from scslab.engine.runner import default_threads, shard_units


@given(st.integers(1, 500), st.integers(1, 600))
def test_shards_cover_every_unit_once_in_order(units, shards):
    parts = shard_units(units, shards)
    assert [u for p in parts for u in p] == list(range(units))
    assert len(parts) == min(units, shards)
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1


def test_default_threads_are_the_cores_this_process_may_use():
    n = default_threads()
    assert 1 <= n <= len(os.sched_getaffinity(0))
