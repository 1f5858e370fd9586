"""Units run on threads give exactly the sums (and traces) of a serial run."""

import numpy as np
import pytest

from scslab import api
from scslab.engine.runner import run_units, run_units_threaded


@pytest.mark.parametrize("scenario", ["tiny", "minimal"])
@pytest.mark.parametrize("workers", [2, 3])
def test_threaded_units_equal_serial(scenario, workers):
    cm = api.prepare(scenario, residents=3000, days=200, trace=True,
                     sets=["population.units=7"])
    serial = run_units(cm, range(cm.units))
    seen = []
    threaded = run_units_threaded(cm, range(cm.units), workers=workers,
                                  on_unit=lambda u, n: seen.append(u))
    assert sorted(seen) == list(range(cm.units))
    assert threaded.units == serial.units == list(range(cm.units))
    for name, a, b in zip(serial.outputs._fields, serial.outputs, threaded.outputs,
                          strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    for ta, tb in zip(serial.traces, threaded.traces, strict=True):
        assert ta.keys() == tb.keys()
        for key in ta:
            assert np.array_equal(np.asarray(ta[key]), np.asarray(tb[key])), key


def test_run_with_threads_gives_identical_tables():
    a = api.run("tiny", residents=2000, days=120, threads=1)
    b = api.run("tiny", residents=2000, days=120, threads=2)
    for name, ta in a.tables().items():
        assert ta.equals(b.tables()[name]), name
    assert {k: v for k, v in a.summary.items() if "second" not in k} == \
        {k: v for k, v in b.summary.items() if "second" not in k}
