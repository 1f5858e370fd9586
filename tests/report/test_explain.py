"""`scslab explain`: a resident's records, score, tier and list changes, with the rule
behind each change."""

import pytest

import scslab
from scslab.errors import RunDirError
from scslab.report.explain import explain_resident
from tests.conftest import make


def test_explains_an_exact_case(tmp_path):
    s = make(policy={"score": {"tiers": {"A": 1000, "B": 975, "C": None}}})
    scslab.run(s, out=tmp_path / "run")
    lines = explain_resident(scslab.load_run(tmp_path / "run"), 0)
    text = "\n".join(lines)
    assert lines[1] == "Score starts at 1000 (policy.score.base)."
    assert ("day 0 (2021-01-01): neg record from dept [true] (act on day 0) on the platform, "
            "-10 points (policy.score.points.neg), kept until day 3 -> score 990, tier B"
            ) in lines
    assert ("day 2 (2021-01-03): listed on black: score 970 < 975 (policy.lists.black.below)"
            in lines)
    assert "day 3 (2021-01-04): neg record from dept [true] (act on day 0) expired" in text
    assert lines[-1].startswith("Final score 970; 8 days listed (0 wrongfully); 8 attempts")


def test_explains_wrongful_listings_and_refuses_untraced_runs(tmp_path):
    s = make(acts={"neg": {"rate": {"per_day": 0.0}}},
             departments={"dept": {"records": {"neg": {"false_per_resident_year": 36500}}}})
    r = scslab.run(s)
    text = "\n".join(explain_resident(r, 0))
    assert "[false]" in text and "[wrongful: not supported by true records]" in text
    with pytest.raises(RunDirError, match="no resident 5"):
        explain_resident(r, 5)
    untraced = scslab.run("minimal", residents=100, days=10)
    with pytest.raises(RunDirError, match="--trace"):
        explain_resident(untraced, 0)

