"""Measure upcoming files ahead of the items that need them. Pure: no pytest import."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future

from pytest_oscura.jobs import FileJob, FileResult, run_job
from pytest_oscura.strategies.backends import Backend


class Prefetcher:
    """A ``Runtime.measure_file`` that keeps a window of the next files measuring in the background.

    ``jobs`` is the order in which the run will ask for files (the collected items' files, in
    order, each once). Asked for job *i*, it makes sure jobs *i* … *i + window − 1* are
    submitted (a block of ``backend.batch`` jobs at a time), then waits for job *i*'s result
    only. While an item compares its result, the pool measures the files after it. At most
    ``window`` results wait to be picked up (memory stays bounded); a job that was never planned
    (asked out of order after its result was taken) is measured directly.
    """

    def __init__(self, jobs: Sequence[FileJob], backend: Backend, window: int) -> None:
        self.jobs = list(jobs)
        self.backend = backend
        self.window = max(window, backend.batch)
        self._index: dict[str, int] = {}
        for index, job in enumerate(self.jobs):
            self._index.setdefault(job.path, index)
        self._futures: dict[int, Future[FileResult]] = {}
        self._next = 0

    def __call__(self, job: FileJob) -> FileResult:
        index = self._index.get(job.path)
        if index is None or (index < self._next and index not in self._futures):
            return run_job(job, timeout_s=getattr(self.backend, "timeout_s", None))
        while self._next < len(self.jobs) and (
            self._next <= index or len(self._futures) + self.backend.batch <= self.window
        ):
            block = self.jobs[self._next : self._next + self.backend.batch]
            for offset, future in enumerate(self.backend.submit(block)):
                self._futures[self._next + offset] = future
            self._next += len(block)
        return self.backend.result(job, self._futures.pop(index))

    @property
    def in_flight(self) -> int:
        return len(self._futures)

    def close(self, *, cancel: bool = False) -> None:
        """Shut the backend down; ``cancel`` drops queued work (an interrupted run)."""
        for future in self._futures.values():
            future.cancel()
        self._futures.clear()
        self.backend.close(cancel=cancel)
