"""Dated values resolved to one value per day, and their validation messages."""

from __future__ import annotations

import datetime as dt

import pytest

from scslab.scenario.dated import check_dated, max_value, resolve_daily

D = dt.date


def test_a_dated_value_is_off_before_its_first_date_and_steps_on_its_dates():
    v = {D(2021, 1, 3): 5, D(2021, 1, 5): 7}
    assert resolve_daily(v, D(2021, 1, 1), 6, off=-1).tolist() == [-1, -1, 5, 5, 7, 7]
    # a date before the start is in force from day 0
    assert resolve_daily({D(2020, 6, 1): 2}, D(2021, 1, 1), 3).tolist() == [2, 2, 2]
    assert resolve_daily(0.5, D(2021, 1, 1), 2).tolist() == [0.5, 0.5]
    assert max_value(v) == 7 and max_value(3) == 3


def test_dated_values_are_checked_entry_by_entry():
    def positive(x):
        if x < 0:
            raise ValueError("expected a value >= 0")
        return x

    assert check_dated({"2021-01-01": 1}, positive) == {D(2021, 1, 1): 1}
    with pytest.raises(ValueError, match="out of order"):
        check_dated({D(2022, 1, 1): 1, D(2021, 1, 1): 2}, positive)
    with pytest.raises(ValueError, match="is not a date; write YYYY-MM-DD"):
        check_dated({"01/01/2021": 1}, positive)
    with pytest.raises(ValueError, match="at least one"):
        check_dated({}, positive)
    with pytest.raises(ValueError, match=">= 0"):
        check_dated({D(2021, 1, 1): -1}, positive)
