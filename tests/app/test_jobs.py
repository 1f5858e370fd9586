"""The sandbox's background jobs (a full-scale run, a sensitivity screen) without a browser:
how one ends, and when asking again starts another."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from scslab.app.jobs import BackgroundJob, BackgroundJobs
from scslab.errors import ScenarioError


@dataclass
class Counted(BackgroundJob):
    name: str = ""


class CountedJobs(BackgroundJobs[Counted]):
    """Jobs whose work is ``work(job)``, each waiting for ``gate`` before it ends."""

    def __init__(self, work):
        super().__init__()
        self.work = work
        self.gate = threading.Event()
        self.started = 0

    def start(self, key: str) -> Counted:
        def run(job: Counted) -> None:
            self.gate.wait(10)
            job.finish(lambda: self.work(job), "count")

        def make() -> Counted:
            self.started += 1
            return Counted(name=key)

        return self._start(key, make, run, f"count {key}")


def wait_end(job: BackgroundJob) -> None:
    for _ in range(500):
        if job.state != "running":
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"{job} never ended")


def counting(job: Counted) -> str:
    job.progress(0, 4)
    for _ in range(3):
        job.advance(1)
    assert job.fraction == 0.75
    return f"counted {job.name}"


def test_a_job_ends_done_with_its_message_and_all_its_work():
    jobs = CountedJobs(counting)
    job = jobs.start("a")
    assert (job.state, job.fraction) == ("running", 0.0)
    assert jobs.start("a") is job and jobs.get("a") is job and jobs.started == 1
    jobs.gate.set()
    wait_end(job)
    assert (job.state, job.message, job.done, job.total) == ("done", "counted a", 4, 4)
    assert job.fraction == 1.0
    assert jobs.start("a") is job and jobs.started == 1  # a finished job is kept
    assert jobs.get("b") is None


def test_a_user_error_fails_with_its_message_and_a_bug_is_named():
    def refused(job):
        raise ScenarioError([{"file": "tiny", "path": "seed", "value": -1,
                              "message": "expected a whole number of at least 0"}])

    jobs = CountedJobs(refused)
    jobs.gate.set()
    job = jobs.start("a")
    wait_end(job)
    assert job.state == "failed"
    assert "seed" in job.message and "at least 0" in job.message

    def broken(job):
        raise KeyError("listed")

    jobs = CountedJobs(broken)
    jobs.gate.set()
    job = jobs.start("a")
    wait_end(job)
    assert (job.state, job.message) == ("failed", "the count failed: KeyError: 'listed'")
    again = jobs.start("a")  # only a failed job is started afresh
    assert again is not job and jobs.started == 2
