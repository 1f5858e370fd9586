"""Work the sandbox does in the background while the page stays usable: a full-scale run,
a sensitivity screen.

A job is started in a thread of its own, reports its progress as ``done`` of ``total``,
and ends ``done`` or ``failed`` with a message for the page: a user error
(:class:`~scslab.errors.ScslabError`) with the command line's message, anything else as
a bug named on the page rather than a progress bar that never ends.  An app keeps its
jobs by key (a configuration): asking again for the same key returns the running or
finished job, and only a failed one is started afresh.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from scslab.errors import ScslabError


@dataclass(kw_only=True)
class BackgroundJob:
    """How far a job is and how it ended: ``state`` is running, done or failed."""

    state: str = "running"  # running | done | failed
    done: int = 0
    total: int = 1
    message: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / max(self.total, 1))

    def advance(self, n: int) -> None:
        """``n`` more units of work are done (called from the job's thread)."""
        with self._lock:
            self.done += n

    def progress(self, done: int, total: int) -> None:
        """``done`` of ``total`` units of work are done."""
        with self._lock:
            self.done, self.total = done, total

    def finish(self, work: Callable[[], str], what: str) -> None:
        """Run ``work`` in this thread to its end: done, with the message it returns, or
        failed, with its error's message (``what`` names the job in a bug's)."""
        try:
            message = work()
        except ScslabError as e:
            self.message = str(e)
            self.state = "failed"
        except Exception as e:  # a bug: say so on the page rather than hang the bar
            self.message = f"the {what} failed: {type(e).__name__}: {e}"
            self.state = "failed"
        else:
            self.done = self.total
            self.message = message
            self.state = "done"


Job = TypeVar("Job", bound=BackgroundJob)


class BackgroundJobs(Generic[Job]):
    """The jobs of one app by key, one per key."""

    def __init__(self):
        self._jobs: dict = {}
        self._lock = threading.Lock()

    def get(self, key) -> Job | None:
        with self._lock:
            return self._jobs.get(key)

    def _start(self, key, job: Callable[[], Job], work: Callable[[Job], None],
               name: str) -> Job:
        """The job of ``key``: the one running or finished, else ``job()`` with
        ``work(job)`` started in a thread called ``name``."""
        with self._lock:
            have = self._jobs.get(key)
            if have is not None and have.state != "failed":
                return have
            new = self._jobs[key] = job()
        threading.Thread(target=work, args=(new,), daemon=True, name=name).start()
        return new
