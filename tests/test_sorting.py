import numpy as np

from scslab.sorting import counting_sort


def test_items_grouped_by_key_in_their_order():
    ptr, order = counting_sort(np.array([2, 0, 2, 1, 0, 2], dtype=np.int32), 4)
    assert ptr.tolist() == [0, 2, 3, 6, 6]  # key 3 has no item
    assert order.tolist() == [1, 4, 3, 0, 2, 5]


def test_same_as_a_stable_argsort():
    keys = np.random.default_rng(3).integers(0, 50, 10_000)
    ptr, order = counting_sort(keys, 50)
    assert order.tolist() == np.argsort(keys, kind="stable").tolist()
    counts = np.bincount(keys, minlength=50)
    assert ptr.tolist() == np.concatenate([[0], np.cumsum(counts)]).tolist()


def test_no_items():
    ptr, order = counting_sort(np.empty(0, dtype=np.int64), 3)
    assert ptr.tolist() == [0, 0, 0, 0] and order.size == 0
