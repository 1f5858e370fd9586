"""Lawful speech, counted in aggregate: expected lawful posts per day, no event per post.

Every resident posts lawfully at ``lawful_speech.posts_per_day`` times its attribute
multipliers.  A unit keeps two sums (``speech_rates``): the posting rate of all its
residents (what the system-off twin posts: no surveillance, no salience, no removal) and
that of residents whose account is removed.  Each day the unit adds

* ``lawful_posts``: (all - removed) x the chilling factor of the day;
* ``lawful_speech_lost``: all - lawful_posts (the system-off twin's posts minus these);
* ``lawful_posts_removed``: removed x the chilling factor (posts the removal costs).

Each unit adds whole millionths of a post (``POST_UNITS``), so the sums over units are
exact in any order: the tables are the same for any number of threads or shards.
"""

from __future__ import annotations

from numba import njit

POSTING_ALL, POSTING_REMOVED = 0, 1
POST_UNITS = 1_000_000  # the sums count millionths of a post


@njit(cache=True, nogil=True, _nrt=False)
def posting_rate(base, mult, codes, i):
    """Resident i's expected lawful posts per day (not capped: posts are counts)."""
    v = base
    for k in range(codes.shape[0]):
        v *= mult[k, codes[k, i]]
    return v


@njit(cache=True, nogil=True, _nrt=False)
def posting_sum(base, mult, codes, n):
    """The unit's expected lawful posts per day with nobody chilled or removed."""
    total = 0.0
    for i in range(n):
        total += posting_rate(base, mult, codes, i)
    return total


@njit(cache=True, nogil=True, inline="always", _nrt=False)
def add_lawful_speech(lawful_posts, lawful_speech_lost, lawful_posts_removed, speech_rates,
                      t, chill):
    """Day t's lawful posts, the posts the system cost (against the system-off twin) and
    those that account removal cost, from the unit's posting sums and the day's chilling
    factor ``chill`` (1 when nothing chills)."""
    everyone = round(speech_rates[POSTING_ALL] * POST_UNITS)
    removed = speech_rates[POSTING_REMOVED]
    posts = round((speech_rates[POSTING_ALL] - removed) * chill * POST_UNITS)
    lawful_posts[t] += posts
    lawful_speech_lost[t] += everyone - posts
    lawful_posts_removed[t] += round(removed * chill * POST_UNITS)
