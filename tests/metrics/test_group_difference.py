"""Group metrics of two scenarios, paired replicate by replicate (issue 17.2): "does appeal
help migrants as much as locals?" without hand-written pairing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import scslab
from scslab.metrics.frame import GroupMetricFrame, MetricFrameError

APPEALS = ("appeal:policy.remedies.appeals={notified: 1.0, notice_if_notified: 0.9, "
           "notice_otherwise: 0.1, appeal_true_records: 0.05, filing_days: 30, "
           "review_days: 15, success_wrong: 0.8, success_true: 0.05}")


@pytest.fixture(scope="module")
def appeal_comparison():
    return scslab.compare(["tiny", "appeal=tiny"], sets=[APPEALS], residents=3000, days=365,
                          replicates=3, trace=True)


def _by_hand(comp, label: str, metric_col: str) -> pd.DataFrame:
    """Share of residents with ``metric_col > 0`` per hukou group, per replicate."""
    return pd.DataFrame({r: rr.residents.groupby("hukou", observed=True)[metric_col]
                         .apply(lambda x: float((x > 0).mean()))
                         for r, rr in enumerate(comp.runs[label])})


def test_difference_per_group_is_the_mean_of_paired_differences(appeal_comparison):
    comp = appeal_comparison
    out = comp.group_difference("hukou", "appeal", metrics=["wrongful_listing_rate"])
    diffs = (_by_hand(comp, "appeal", "wrongful_days")
             - _by_hand(comp, "tiny", "wrongful_days"))
    for group in ("local", "migrant"):
        row = out.loc[(group, "wrongful_listing_rate")]
        d = diffs.loc[group].to_numpy()
        assert row["value"] == pytest.approx(d.mean(), abs=1e-12)
        assert row["replicates"] == 3
        # a t interval over the three paired differences
        half = 4.302652729911275 * d.std(ddof=1) / np.sqrt(3)
        assert row["lo"] == pytest.approx(d.mean() - half, abs=1e-12)
        assert row["hi"] == pytest.approx(d.mean() + half, abs=1e-12)
    # appeals remove wrong records: fewer residents ever wrongly listed, in every group
    assert (out["value"] <= 0).all()


def test_difference_against_a_reference_group(appeal_comparison):
    comp = appeal_comparison
    frames = comp.group_frames("hukou", metrics=["wrongful_listing_rate"])
    did = frames["appeal"].difference_from(frames["tiny"], reference="local")
    plain = frames["appeal"].difference_from(frames["tiny"])
    assert did.loc["local", "wrongful_listing_rate"] == 0.0
    assert did.loc["migrant", "wrongful_listing_rate"] == pytest.approx(
        plain.loc["migrant", "wrongful_listing_rate"]
        - plain.loc["local", "wrongful_listing_rate"], abs=1e-12)
    iv = frames["appeal"].intervals("difference_from", other=frames["tiny"],
                                    reference="local")
    assert iv.loc[("migrant", "wrongful_listing_rate"), "value"] == pytest.approx(
        did.loc["migrant", "wrongful_listing_rate"], abs=1e-12)


def test_pairing_needs_the_same_replicates_and_groups():
    df = pd.DataFrame({"hukou": ["local", "migrant"], "sex": ["f", "m"],
                       "final_score": [1000, 990], "listed_days": [0, 3],
                       "wrongful_days": [0, 0], "blocked": [0, 1]})
    one = GroupMetricFrame(residents=df, sensitive_features="hukou")
    two = GroupMetricFrame(residents=[df, df], sensitive_features="hukou")
    by_sex = GroupMetricFrame(residents=df, sensitive_features="sex")
    with pytest.raises(MetricFrameError, match="different replicates"):
        two.difference_from(one)
    with pytest.raises(MetricFrameError, match="group residents differently"):
        one.difference_from(by_sex)
    assert (one.difference_from(one).to_numpy() == 0).all()
    with pytest.raises(MetricFrameError, match="needs other="):
        one.intervals("difference_from")
