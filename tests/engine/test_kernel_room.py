"""The day loop stops when a table may run out of room, the table grows, and the loop
resumes where it stopped.  Table sizes must not show in the results."""

import numpy as np
import pytest

from scslab import api
from scslab.engine.runner import run_units


@pytest.mark.parametrize("scenario", ["tiny", "safeguards", "minimal"])
def test_smallest_tables_give_the_same_run(scenario):
    cm = api.prepare(scenario, residents=1500, days=400, trace=True,
                     sets=["population.units=3"])
    roomy = run_units(cm, range(cm.units))
    tight = run_units(cm, range(cm.units), tight_tables=True)
    # tight tables start with room for one record and one trace row: they had to grow
    assert sum(len(t["records"]) for t in tight.traces) > 100
    assert sum(len(t["list_log"]) for t in tight.traces) > 10
    for name, a, b in zip(roomy.outputs._fields, roomy.outputs, tight.outputs, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    for ta, tb in zip(roomy.traces, tight.traces, strict=True):
        for key in ta:
            assert np.array_equal(np.asarray(ta[key]), np.asarray(tb[key])), key
