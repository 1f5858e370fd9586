"""`scslab.compare(...)` from Python: a Comparison with DataFrames and a .plot()."""

import scslab


def test_compare_api_returns_a_comparison_that_plots():
    comp = scslab.compare(["minimal", "strict=minimal"], residents=2000, days=60,
                          sets=["strict:policy.lists.blacklist.below=990"])
    assert comp.labels == ["minimal", "strict"]
    listed = comp.wide().loc["listed_end"]
    assert listed["strict"] >= listed["minimal"]
    spec = comp.plot().to_dict()
    assert spec["facet"]["field"] == "panel"
