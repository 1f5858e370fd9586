"""The score rebuilt from records: the engine's rule, exactly, on small cases."""

from __future__ import annotations

import pandas as pd

from scslab.metrics.replay import score_of, score_path
from scslab.scenario.schema import Score


def test_caps_apply_per_act_type_and_the_range_last():
    rule = Score(base=1000, min=0, max=1100, caps={"post": 60})
    assert score_of({"post": -90, "loan": -30}, rule) == 1000 - 60 - 30
    assert score_of({"post": 200, "volunteer": 150}, rule) == 1100  # capped, then max
    assert score_of({"loan": -5000}, rule) == 0
    assert score_of({}, rule) == 1000


def test_a_record_counts_from_the_platform_until_it_expires_or_is_removed():
    rule = Score(base=1000, caps={"post": 40})
    rec = pd.DataFrame({
        "act": ["loan", "post", "post", "loan"],
        "points": [-30, -30, -30, -50],
        "day_on": [2, 1, 3, -1],         # the last never reached the platform
        "day_off": [6, -1, -1, -1],      # -1: never expires
        "day_removed": [-1, -1, 4, -1],  # the second post is removed on appeal on day 4
    })
    path = score_path(rec, rule, 8).tolist()
    #        day: 0     1     2    3    4    5    6     7
    assert path == [1000, 970, 940, 930, 940, 940, 970, 970]
