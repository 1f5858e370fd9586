"""Residents and households from keyed draws: exact identities, shares within tolerance."""

from __future__ import annotations

import numpy as np

from scslab.population.build import build_attributes, build_households, unit_sizes
from scslab.rng import seed_key

K0, K1 = seed_key(7)
NCAT = np.array([2, 3], dtype=np.int64)
CUM = np.array([[0.62, 1.0, 1.0], [0.2, 0.5, 1.0]])


def test_unit_sizes_split_residents_as_evenly_as_possible():
    for residents, units in ((10, 3), (7, 7), (1_000_003, 330)):
        sizes = unit_sizes(residents, units)
        assert sizes.sum() == residents and len(sizes) == units
        assert sizes.max() - sizes.min() <= 1
        assert (np.diff(sizes) <= 0).all()  # the first units take the remainder


def test_a_residents_attributes_depend_only_on_its_identity():
    block = build_attributes(K0, K1, 100, 50, NCAT, CUM)
    for i in (0, 17, 49):
        alone = build_attributes(K0, K1, 100 + i, 1, NCAT, CUM)
        assert (alone[:, 0] == block[:, i]).all()
    other_seed = build_attributes(*seed_key(8), 100, 50, NCAT, CUM)
    assert not (other_seed == block).all()


def test_attribute_shares_match_their_weights():
    """60,000 residents; each share within 4 binomial sd of its weight."""
    n = 60_000
    codes = build_attributes(K0, K1, 0, n, NCAT, CUM)
    for k, weights in ((0, [0.62, 0.38]), (1, [0.2, 0.3, 0.5])):
        for c, w in enumerate(weights):
            share = (codes[k] == c).mean()
            assert abs(share - w) < 4 * np.sqrt(w * (1 - w) / n), (k, c, share)


def test_households_are_contiguous_and_keyed_to_the_unit():
    sizes = np.array([1, 2, 3, 4], dtype=np.int64)
    cum = np.cumsum([0.25, 0.3, 0.3, 0.15])
    hh = build_households(K0, K1, 5, 40_000, sizes, cum)
    assert hh[0] == 0 and (np.diff(hh) >= 0).all() and (np.diff(hh) <= 1).all()
    assert (build_households(K0, K1, 5, 40_000, sizes, cum) == hh).all()
    assert not np.array_equal(build_households(K0, K1, 6, 40_000, sizes, cum), hh)
    counts = np.bincount(hh)[:-1]  # the last household may be cut short by the unit
    assert set(np.unique(counts)) <= {1, 2, 3, 4}
    mean = (sizes * np.diff(np.concatenate([[0], cum]))).sum()  # 2.35
    # ~17,000 households; sd of a size ~1.0, so the mean is within 0.03 (about 4 sd)
    assert abs(counts.mean() - mean) < 0.03
