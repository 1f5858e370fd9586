"""RunOptions: the six overrides, checked once, the same through the façade and the
pipeline."""

from __future__ import annotations

import pytest

import scslab
from scslab.errors import ScenarioError
from scslab.run import pipeline
from scslab.run.options import RunOptions, options_of


@pytest.mark.parametrize("kwargs, path", [
    ({"seed": True}, "seed"), ({"seed": -1}, "seed"), ({"residents": "10"}, "residents"),
    ({"residents": 0}, "residents"), ({"days": 2.5}, "days"), ({"scale": float("inf")}, "scale"),
    ({"scale": 0}, "scale"), ({"scale": "x"}, "scale"), ({"sets": [1]}, "sets"),
    ({"trace": "yes"}, "trace"),
])
def test_bad_options_are_scenario_errors_naming_the_option(kwargs, path):
    with pytest.raises(ScenarioError) as e:
        RunOptions(**kwargs)
    assert e.value.problems[0]["path"] == path


def test_keywords_map_onto_the_options_and_unknown_ones_are_named():
    o = options_of(RunOptions(seed=1, sets=("days=5",)), residents=30, sets=["days=6"])
    assert o == RunOptions(seed=1, residents=30, sets=("days=6",))
    assert options_of(sets="days=4").sets == ("days=4",)
    with pytest.raises(ScenarioError, match="unknown option; allowed: seed, residents"):
        options_of(popluation=3)
    with pytest.raises(ScenarioError, match="unknown option"):
        scslab.run("minimal", resident=10)


def test_the_facade_and_the_pipeline_give_the_same_run():
    a = scslab.run("minimal", residents=1500, days=40, seed=5, threads=1)
    b = pipeline.run("minimal", RunOptions(residents=1500, days=40, seed=5), threads=2)
    for name, table in a.tables().items():
        assert table.equals(b.tables()[name]), name
