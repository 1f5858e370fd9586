"""The Python API refuses wrong types with scslab's errors, never a bare TypeError."""

from __future__ import annotations

import pytest

import scslab
from scslab import api
from scslab.errors import ScslabError

SMALL = dict(residents=100, days=5)


@pytest.mark.parametrize("bad", [
    dict(residents="10"), dict(scale="x"), dict(scale=float("nan")), dict(days=2.5),
    dict(seed=True), dict(seed=-1), dict(sets=[3]), dict(trace="yes"),
    dict(shards=-1), dict(shards=0), dict(shards=1.5), dict(shards=True),
    dict(workers=-2), dict(workers="2"), dict(threads=0), dict(scheduler=5),
    dict(out=5), dict(force="yes"),
])
def test_run_refuses_wrong_types_by_name(bad):
    with pytest.raises(ScslabError) as e:
        scslab.run("minimal", **(SMALL | bad))
    name = next(iter(bad))
    assert name in str(e.value) or (name == "out" and "--out" in str(e.value)), str(e.value)


@pytest.mark.parametrize("scenario", [5, None, ["tiny"], b"tiny"])
def test_a_scenario_that_is_not_a_name_path_or_scenario(scenario):
    with pytest.raises(ScslabError, match="expected a shipped scenario name"):
        scslab.run(scenario, **SMALL)


@pytest.mark.parametrize("bad", [dict(replicates="2"), dict(replicates=0), dict(level=2),
                                 dict(interval="x"), dict(shards=-3)])
def test_compare_refuses_wrong_types(bad):
    with pytest.raises(ScslabError):
        scslab.compare(["minimal", "minimal"], **(SMALL | bad))


def test_simulate_and_replicates_too():
    cm = api.prepare("minimal", **SMALL)
    for bad in (dict(shards=-1), dict(threads="2"), dict(workers=0)):
        with pytest.raises(ScslabError):
            api.simulate(cm, **bad)
    from scslab.run.pipeline import run_replicates

    for bad in (dict(replicates=-1), dict(seed=True), dict(seed="1")):
        with pytest.raises(ScslabError):
            run_replicates("minimal", scslab.RunOptions(**SMALL), **bad)
