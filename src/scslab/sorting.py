"""A stable counting sort for the compiled code: items grouped by a small integer key.

The population groups firms by their legal representative and the engine groups the first
act candidates by day; both need every item of a key in its original order, in time linear
in the items and keys.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def counting_sort(keys, n_keys):
    """``ptr``, ``order`` for ``keys`` in ``[0, n_keys)``: the items of key ``k`` are
    ``order[ptr[k]:ptr[k + 1]]``, in their original order.

    >>> ptr, order = counting_sort(np.array([2, 0, 2, 1]), 3)
    >>> ptr.tolist(), order.tolist()
    ([0, 1, 2, 4], [1, 3, 0, 2])
    """
    ptr = np.zeros(n_keys + 1, dtype=np.int64)
    for i in range(keys.size):
        ptr[keys[i] + 1] += 1
    for k in range(n_keys):
        ptr[k + 1] += ptr[k]
    order = np.empty(keys.size, dtype=np.int64)
    fill = ptr[:n_keys].copy()
    for i in range(keys.size):
        order[fill[keys[i]]] = i
        fill[keys[i]] += 1
    return ptr, order
