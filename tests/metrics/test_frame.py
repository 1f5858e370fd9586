"""GroupMetricFrame: every metric and aggregation against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scslab.metrics.frame import GroupMetricFrame, MetricFrameError, summarise

# six synthetic residents; hand-computed expectations below
RESIDENTS = pd.DataFrame({
    "resident": range(6),
    "hukou": ["local", "local", "local", "migrant", "migrant", "migrant"],
    "sex": ["female", "male", "female", "male", "female", "male"],
    "final_score": [1000, 950, 900, 800, 1000, 1000],
    "listed_days": [0, 0, 5, 10, 0, 3],
    "wrongful_days": [0, 0, 5, 0, 0, 0],
    "blocked": [0, 1, 2, 0, 0, 1],
})


def frame(**kw):
    return GroupMetricFrame(residents=RESIDENTS, sensitive_features="hukou", **kw)


def test_overall_and_by_group_exact():
    mf = frame()
    assert list(mf.metrics) == ["listing_rate", "sanction_rate", "wrongful_listing_rate",
                                "mean_score"]  # no green-channel column: skipped
    assert isinstance(mf.overall, pd.Series) and isinstance(mf.by_group, pd.DataFrame)
    assert mf.overall.to_dict() == pytest.approx({
        "listing_rate": 3 / 6, "sanction_rate": 3 / 6, "wrongful_listing_rate": 1 / 6,
        "mean_score": 5650 / 6})
    bg = mf.by_group
    assert bg.index.name == "hukou" and list(bg.index) == ["local", "migrant"]
    assert bg.loc["local"].to_dict() == pytest.approx({
        "listing_rate": 1 / 3, "sanction_rate": 2 / 3, "wrongful_listing_rate": 1 / 3,
        "mean_score": 950.0})
    assert bg.loc["migrant"].to_dict() == pytest.approx({
        "listing_rate": 2 / 3, "sanction_rate": 1 / 3, "wrongful_listing_rate": 0.0,
        "mean_score": 2800 / 3})


def test_min_max_ratio_difference_exact():
    mf = frame()
    assert mf.group_min()["listing_rate"] == pytest.approx(1 / 3)
    assert mf.group_max()["sanction_rate"] == pytest.approx(2 / 3)
    r = mf.ratio(reference="local")
    assert isinstance(r, pd.DataFrame)
    assert r.loc["migrant"].to_dict() == pytest.approx({
        "listing_rate": 2.0, "sanction_rate": 0.5, "wrongful_listing_rate": 0.0,
        "mean_score": (2800 / 3) / 950})
    assert r.loc["local"].tolist() == [1.0, 1.0, 1.0, 1.0]
    between = mf.ratio()
    assert isinstance(between, pd.Series)
    assert between.to_dict() == pytest.approx({
        "listing_rate": 0.5, "sanction_rate": 0.5, "wrongful_listing_rate": 0.0,
        "mean_score": (2800 / 3) / 950})
    # to_overall: min over groups of min(g/o, o/g); listing: min(2/3, 3/4)
    assert mf.ratio(method="to_overall")["listing_rate"] == pytest.approx(2 / 3)
    d = mf.difference()
    assert d.to_dict() == pytest.approx({
        "listing_rate": 1 / 3, "sanction_rate": 1 / 3, "wrongful_listing_rate": 1 / 3,
        "mean_score": 950 - 2800 / 3})
    assert mf.difference(method="to_overall")["listing_rate"] == pytest.approx(1 / 6)
    dref = mf.difference(reference="migrant")
    assert dref.loc["local", "mean_score"] == pytest.approx(950 - 2800 / 3)


def test_green_channel_metric_when_the_column_exists():
    df = RESIDENTS.assign(green_days_saved=[0, 2, 0, 0, 4, 0])
    mf = GroupMetricFrame(residents=df, sensitive_features="hukou")
    assert mf.by_group["green_channel_benefit"].to_dict() == pytest.approx(
        {"local": 2 / 3, "migrant": 4 / 3})
    assert mf.overall["green_channel_benefit"] == pytest.approx(1.0)


def test_intersection_of_attributes():
    mf = GroupMetricFrame(residents=RESIDENTS, sensitive_features=["hukou", "sex"])
    bg = mf.by_group
    assert isinstance(bg.index, pd.MultiIndex) and bg.index.names == ["hukou", "sex"]
    assert bg["listing_rate"].to_dict() == pytest.approx({
        ("local", "female"): 0.5, ("local", "male"): 0.0,
        ("migrant", "female"): 0.0, ("migrant", "male"): 1.0})
    r = mf.ratio(reference=("local", "female"))
    assert r.loc[("migrant", "male"), "listing_rate"] == pytest.approx(2.0)


def test_groups_table_input_matches_hand_sums():
    rows = []
    for g, n, listed, wrong, score, blocked in (("local", 3, 1, 1, 2850, 3),
                                                ("migrant", 3, 2, 0, 2800, 1)):
        for measure, v in (("residents", n), ("ever_listed", listed), ("ever_wrongful", wrong),
                           ("final_score_sum", score), ("blocked", blocked)):
            rows.append(("run", "hukou", g, measure, float(v)))
    groups = pd.DataFrame(rows, columns=["period", "attribute", "group", "measure", "value"])
    mf = GroupMetricFrame(groups=groups, sensitive_features="hukou")
    assert mf.by_group.loc["local", "listing_rate"] == pytest.approx(1 / 3)
    assert mf.by_group.loc["migrant", "blocked_per_resident"] == pytest.approx(1 / 3)
    assert mf.overall["mean_score"] == pytest.approx(5650 / 6)
    assert "sanction_rate" not in mf.metrics
    with pytest.raises(MetricFrameError, match="intersection"):
        GroupMetricFrame(groups=groups, sensitive_features=["hukou", "sex"])
    # a table put together by hand may repeat a row: the repeats add up
    halves = pd.concat([groups.assign(value=groups["value"] / 2)] * 2, ignore_index=True)
    again = GroupMetricFrame(groups=halves, sensitive_features="hukou")
    assert again.by_group.loc["local", "listing_rate"] == pytest.approx(1 / 3)
    assert again.overall["mean_score"] == pytest.approx(5650 / 6)


def test_replicates_are_averaged_and_get_intervals():
    rep2 = RESIDENTS.assign(listed_days=[1, 1, 5, 10, 0, 3])  # local listing 3/3
    mf = GroupMetricFrame(residents=[RESIDENTS, rep2], sensitive_features="hukou")
    assert mf.replicates == 2
    assert mf.by_group.loc["local", "listing_rate"] == pytest.approx((1 / 3 + 1) / 2)
    # ratio migrant/local per replicate: 2.0 and 2/3 -> mean 4/3
    assert mf.ratio(reference="local").loc["migrant", "listing_rate"] == pytest.approx(4 / 3)
    iv = mf.intervals("ratio", reference="local", level=0.9)
    row = iv.loc[("migrant", "listing_rate")]
    half = stats.t.ppf(0.95, 1) * np.std([2.0, 2 / 3], ddof=1) / math.sqrt(2)
    assert row["value"] == pytest.approx(4 / 3)
    assert row["lo"] == pytest.approx(4 / 3 - half) and row["hi"] == pytest.approx(4 / 3 + half)
    assert row["replicates"] == 2
    by_rep = mf.by_replicate
    assert by_rep.loc[(1, "local"), "listing_rate"] == pytest.approx(1.0)


def test_summarise_t_and_percentile_by_hand():
    v, lo, hi, k = summarise(np.array([1.0, 2.0, 3.0]), level=0.95, interval="t")
    half = 4.302652729911275 * 1.0 / math.sqrt(3)  # t(0.975, 2) = 4.3027
    assert (v, k) == (2.0, 3) and lo == pytest.approx(2 - half) and hi == pytest.approx(2 + half)
    v, lo, hi, k = summarise(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), level=0.5,
                             interval="percentile")
    assert (v, lo, hi, k) == (3.0, 2.0, 4.0, 5)
    v, lo, hi, k = summarise(np.array([7.0, np.nan]))
    assert v == 7.0 and math.isnan(lo) and k == 1


def test_clear_errors():
    with pytest.raises(MetricFrameError, match="unknown attribute.*religion"):
        GroupMetricFrame(residents=RESIDENTS, sensitive_features="religion")
    with pytest.raises(MetricFrameError, match="reference group"):
        frame().ratio(reference="nowhere")
    with pytest.raises(MetricFrameError, match="unknown metric"):
        frame(metrics=["happiness"])
    with pytest.raises(MetricFrameError, match="exactly one"):
        GroupMetricFrame(sensitive_features="hukou")


def test_residents_and_groups_tables_agree_on_a_run(tiny_small_run):
    rr = tiny_small_run
    a = GroupMetricFrame(residents=rr.residents, sensitive_features="income_decile")
    b = GroupMetricFrame(groups=rr.groups, sensitive_features="income_decile")
    for m in ("listing_rate", "wrongful_listing_rate", "mean_score"):
        pd.testing.assert_series_equal(a.by_group[m], b.by_group[m], check_names=False)


def test_measures_for_some_group_metrics_are_those_of_the_full_set():
    """The sandbox asks run_measures for the listing rate only: the same numbers."""
    import scslab
    from scslab.metrics.measures import run_measures

    r = scslab.run("tiny", residents=3000, days=200)
    full = run_measures(r)
    some = run_measures(r, di_metrics=("listing_rate",))
    assert any(k.startswith("di_listing_rate[") for k in some)
    assert not any(k.startswith(("di_blocked_per_resident[", "di_green")) for k in some)
    assert set(some) < set(full)
    for k, v in some.items():
        assert v == full[k] or (math.isnan(v) and math.isnan(full[k])), k
