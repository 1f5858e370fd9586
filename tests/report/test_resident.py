"""The life-of-one-resident panel: the score path rebuilt from records ends at the
engine's final score for every traced resident, and the pick rule is fixed."""

from __future__ import annotations

from scslab.report.data import RunView
from scslab.report.resident import pick_resident, score_series


def test_rebuilt_score_paths_end_at_the_engines_final_scores(tiny_run):
    view = RunView.from_result(tiny_run)
    res = tiny_run.residents.set_index("resident")["final_score"]
    rec = tiny_run.records
    with_records = rec.loc[rec["subject_kind"] == "resident", "subject"].unique()
    assert len(with_records) > 1000
    for rid in with_records:
        assert score_series(view, int(rid))[-1] == res.loc[rid], rid


def test_the_panel_picks_the_longest_wrongly_listed_resident_with_a_bad_record(tiny_run):
    view = RunView.from_result(tiny_run)
    rid, why = pick_resident(view)
    assert "false or misattributed" in why
    res = tiny_run.residents.set_index("resident")
    rec = tiny_run.records
    bad = rec[(rec["provenance"] != "true") & (rec["subject_kind"] == "resident")]["subject"]
    candidates = res.loc[res.index.isin(bad) & (res["wrongful_days"] > 0), "wrongful_days"]
    assert res.loc[rid, "wrongful_days"] == candidates.max()
    assert rid == candidates[candidates == candidates.max()].index.min()
