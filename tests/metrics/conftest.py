from __future__ import annotations

import pytest

import scslab


@pytest.fixture(scope="session")
def tiny_small_run():
    return scslab.run("tiny", residents=2000, days=365, trace=True)
