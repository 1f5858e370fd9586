"""How a measure's figure is written for a reader, in the terminal and in reports.

Counts get thousands separators; shares (a part of a whole, between 0 and 1) are written
as percentages, as the run summary does, and a difference between two shares in
percentage points (``pp``), since "-4.5%" would read as a relative change.  Other
quantities keep four significant digits.  Nothing here cuts a figure short.

>>> figure(0.0772, share=True), figure(-0.045, share=True, signed=True)
('7.7%', '-4.5 pp')
>>> figure(2306.5), figure(12.0, signed=True), figure(0.9531)
('2,306.5', '+12', '0.9531')
"""

from __future__ import annotations

import math

# measures that are a part of a whole (0..1): shown as percentages
SHARES = frozenset({
    "wrongful_share_of_list_days", "share_of_residents_with_a_record",
    "wrongful_share_of_association_list_days", "association_listing_rate",
    "listed_association_share_of_days",
    "listing_rate", "wrongful_listing_rate", "sanction_rate", "listed_share_of_days",
})


def is_share(measure: str) -> bool:
    """True for a measure that is a share (written as a percentage)."""
    return measure in SHARES or measure.endswith("_share")


def figure(v, *, share: bool = False, signed: bool = False) -> str:
    """``v`` written for a reader (``-`` when missing); ``signed`` for differences."""
    if v is None or not isinstance(v, int | float) or not math.isfinite(v):
        return "-"
    sign = "+" if signed and v > 0 else ""
    if share:
        p = v * 100
        digits = 1 if abs(p) >= 1 or p == 0 else 2
        return f"{sign}{p:.{digits}f} pp" if signed else f"{p:.{digits}f}%"
    a = abs(v)
    if v == int(v) and a < 1e15:
        text = f"{int(v):,}"
    elif a >= 10_000:
        text = f"{v:,.0f}"
    elif a >= 1000:
        text = f"{v:,.1f}"
    else:
        text = f"{v:.4g}"
    return sign + text


def interval(lo, hi, *, share: bool = False) -> str:
    """``[lo, hi]`` for a difference's interval, or empty when there is none."""
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    return f"[{figure(lo, share=share, signed=True)}, {figure(hi, share=share, signed=True)}]"
