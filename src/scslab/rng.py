"""Counter-based randomness keyed to identities.

Every random number in scslab is a pure function of ``(seed, stream, identity, counter)``:
Philox4x32-10 (Salmon et al., SC'11) takes the seed as its key and the other three as its
counter.  Nothing depends on the order in which units, shards or workers are processed,
so a run gives identical tables for any shard or worker count, and two scenarios run on
the same seed give the same resident the same draws (common random numbers).

Streams are named by ``stream(purpose, index)`` so that a new purpose never shifts the
numbers of an old one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_MASK = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_INV32 = 1.0 / 4294967296.0

# Purposes of random streams.  Append new ones; never renumber.
POP_ATTRIBUTE = 1
POP_HOUSEHOLD = 2
ACT = 3
FALSE_RECORD = 4
RECORDING = 5
ATTEMPT = 6
ENFORCEMENT = 7
REMEDY = 8
APPEAL = 9
FIRM = 10
REPAIR = 11
RETRY = 12
POP_CHILDREN = 13
POP_SHARED = 14
AWARENESS = 15  # a resident's awareness of the system (one draw each)
PERFORMANCE = 16  # candidates of performing an obligation faster once listed

# Firms' identities live above every resident id, so the two never share draws.
FIRM_IDENT = 1 << 40


@njit(cache=True, nogil=True, inline="always")
def stream(purpose, index):
    """Stream id for ``purpose`` and a sub-index (act type, department, action, ...)."""
    return (np.int64(purpose) << 16) | np.int64(index)


def seed_key(seed: int) -> tuple[int, int]:
    """Split a non-negative seed into Philox's two 32-bit key words."""
    seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    return seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF


@njit(cache=True, nogil=True, inline="always")
def philox4x32(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 block: four 32-bit counter words and two key words in, four words out."""
    c0 = np.uint64(c0) & _MASK
    c1 = np.uint64(c1) & _MASK
    c2 = np.uint64(c2) & _MASK
    c3 = np.uint64(c3) & _MASK
    k0 = np.uint64(k0) & _MASK
    k1 = np.uint64(k1) & _MASK
    for r in range(10):
        if r > 0:
            k0 = (k0 + _W0) & _MASK
            k1 = (k1 + _W1) & _MASK
        p0 = _M0 * c0
        p1 = _M1 * c2
        hi0 = p0 >> _S32
        lo0 = p0 & _MASK
        hi1 = p1 >> _S32
        lo1 = p1 & _MASK
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


@njit(cache=True, nogil=True, inline="always")
def words4(k0, k1, strm, ident, ctr):
    """The four 32-bit words (as uint64) behind ``uniform4``; ``to_uniform`` maps one to
    its uniform.  An event loop can keep a word for later instead of drawing the block
    again."""
    ident = np.uint64(ident)
    ctr = np.uint64(ctr)
    return philox4x32(
        ident & _MASK, ident >> _S32, ctr & _MASK, (ctr >> _S32) ^ np.uint64(strm), k0, k1
    )


@njit(cache=True, nogil=True, _nrt=False)
def keyed_words(k0, k1, strm, key0, ctr, x0, x1):
    """Words 0 and 1 of block ``ctr`` of ``strm`` for the identities ``key0 + i``, into
    ``x0[i]`` and ``x1[i]`` (``words4``'s first two): a loop with no branch, so LLVM runs
    several Philox blocks at once in vector registers.  For a draw per identity that a
    later loop reads (the first candidates of a chain, a population attribute)."""
    for i in range(x0.size):
        w0, w1, _, _ = words4(k0, k1, strm, key0 + i, ctr)
        x0[i] = w0
        x1[i] = w1


@njit(cache=True, nogil=True, inline="always")
def to_uniform(word):
    """The uniform in (0, 1) of one Philox output word."""
    return (np.float64(word) + 0.5) * _INV32


@njit(cache=True, nogil=True, inline="always")
def uniform4(k0, k1, strm, ident, ctr):
    """Four independent uniforms in (0, 1) for ``(stream, identity, counter)`` under a key.

    ``ident`` is a resident's (or firm's, or unit's) global id; ``ctr`` numbers the draws
    of that identity on that stream.
    """
    x0, x1, x2, x3 = words4(k0, k1, strm, ident, ctr)
    return to_uniform(x0), to_uniform(x1), to_uniform(x2), to_uniform(x3)


@njit(cache=True, nogil=True, inline="always")
def geometric_gap(u, p):
    """Days until the next success of a daily Bernoulli(p) process (>= 1), from one uniform.

    Returns a huge number when ``p`` is zero, so callers can treat it as "never".
    """
    if p <= 0.0:
        return 1 << 40
    if p >= 1.0:
        return 1
    return 1 + int(np.floor(np.log(u) / np.log1p(-p)))


@njit(cache=True, nogil=True, inline="always")
def geometric_gap_log(u, p, log1m_p):
    """``geometric_gap(u, p)`` with ``log1m_p = np.log1p(-p)`` computed once by the caller
    (for a chain of draws at one rate); the same value to the bit."""
    if p <= 0.0:
        return 1 << 40
    if p >= 1.0:
        return 1
    return 1 + int(np.floor(np.log(u) / log1m_p))


# A uniform below a rate's bound lies this far (relative) below (1-p)^horizon at least: far
# more than the rounding of log, exp and the division (a few 1e-16 relative, times at most
# |horizon * log1p(-p)| < 745 where the bound is not 0) can move it.
_BEYOND_MARGIN = 1.0 - 2.0**-20


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def gap_within(u, p, memo, row, horizon):
    """``geometric_gap(u, p)`` to the bit when it is at most ``horizon``; otherwise a
    larger value (``horizon + 1`` or the exact gap), most often without a logarithm.

    The gap exceeds ``horizon`` exactly when ``log(u) / log1p(-p) >= horizon``, that is
    when ``u <= (1 - p) ** horizon``.  ``memo[row, slot] = (p, log1p(-p), bound)`` is a
    small direct-mapped memo per chain kind: a chain's rate takes few distinct values
    (products of a few multipliers), so most calls find theirs and compute neither
    ``log1p(-p)`` nor the bound, ``(1 - p) ** horizon`` shrunk by a relative 2^-20.  A
    uniform below the bound is beyond the horizon whatever the rounding; any other is
    computed as ``geometric_gap_log`` does, with the same ``log1p(-p)``.  ``horizon``
    must be the same in every call on one memo (a unit's days)."""
    if p <= 0.0:
        return 1 << 40
    if p >= 1.0:
        return 1
    s = int(p * 4294967296.0) & (memo.shape[1] - 1)
    if memo[row, s, 0] != p:
        log1m_p = np.log1p(-p)
        memo[row, s, 0] = p
        memo[row, s, 1] = log1m_p
        memo[row, s, 2] = np.exp(horizon * log1m_p) * _BEYOND_MARGIN
    if u < memo[row, s, 2]:
        return horizon + 1
    return geometric_gap_log(u, p, memo[row, s, 1])


GAP_MEMO_SLOTS = 64  # per chain kind (a power of two)
GAP_MEMO_COLS = 3  # p, log1p(-p), the bound below which a gap is beyond the horizon


def uniforms(seed: int, strm: int, idents: np.ndarray, ctr: int = 0) -> np.ndarray:
    """Vectorised helper for Python code and tests: an ``(n, 4)`` array of uniforms.

    >>> u = uniforms(7, stream(ACT, 0), np.arange(3))
    >>> u.shape, bool(((u > 0) & (u < 1)).all())
    ((3, 4), True)
    """
    k0, k1 = seed_key(seed)
    return _uniforms(k0, k1, strm, np.asarray(idents, dtype=np.int64), ctr)


@njit(cache=True)
def _uniforms(k0, k1, strm, idents, ctr):
    out = np.empty((idents.size, 4))
    for i in range(idents.size):
        a, b, c, d = uniform4(k0, k1, strm, idents[i], ctr)
        out[i, 0] = a
        out[i, 1] = b
        out[i, 2] = c
        out[i, 3] = d
    return out
