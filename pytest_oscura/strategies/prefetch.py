"""A sliding window of jobs on a backend, and the prefetcher built on it. Pure: no pytest import."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future

from pytest_oscura.jobs import FileJob, FileResult, run_job
from pytest_oscura.strategies.backends import Backend


class Window:
    """``jobs`` submitted to ``backend`` in order, a block of ``backend.batch`` at a time, with at
    most ``size`` submitted jobs whose results were not yet taken.

    A sliding window rather than fixed chunks: as soon as one result is taken the next block can
    go, so no worker idles at a chunk boundary while the slowest job of a chunk finishes, and
    memory stays bounded by ``size`` files in flight.
    """

    def __init__(self, jobs: Sequence[FileJob], backend: Backend, size: int) -> None:
        self.jobs = list(jobs)
        self.backend = backend
        self.size = max(size, backend.batch)
        self.pending: dict[int, Future[FileResult]] = {}
        self.next = 0

    def fill(self, needed: int | None = None) -> None:
        """Submit blocks while the window has room, and in any case up to job ``needed``."""
        while self.next < len(self.jobs) and (
            (needed is not None and self.next <= needed)
            or len(self.pending) + self.backend.batch <= self.size
        ):
            block = self.jobs[self.next : self.next + self.backend.batch]
            for offset, future in enumerate(self.backend.submit(block)):
                self.pending[self.next + offset] = future
            self.next += len(block)

    def take(self, index: int) -> FileResult:
        """Job ``index``'s result (waiting for it); it leaves the window."""
        return self.backend.result(self.jobs[index], self.pending.pop(index))

    def cancel(self) -> None:
        for future in self.pending.values():
            future.cancel()
        self.pending.clear()


class Prefetcher:
    """Measures the files of a run ahead of the items that ask for them.

    ``jobs`` is the order in which the run will ask for files (the collected items' files, in
    order, each once). Asked for job *i*, it makes sure jobs *i* … *i + window − 1* are
    submitted, then waits for job *i*'s result only. While an item compares its result, the pool
    measures the files after it. A job that was never planned (asked out of order after its
    result was taken) is measured directly.
    """

    def __init__(self, jobs: Sequence[FileJob], backend: Backend, window: int) -> None:
        self.window = Window(jobs, backend, window)
        self.backend = backend
        self._index: dict[str, int] = {}
        for index, job in enumerate(self.window.jobs):
            self._index.setdefault(job.path, index)

    def __call__(self, job: FileJob) -> FileResult:
        index = self._index.get(job.path)
        window = self.window
        if index is None or (index < window.next and index not in window.pending):
            return run_job(job, timeout_s=getattr(self.backend, "timeout_s", None))
        window.fill(needed=index)
        return window.take(index)

    @property
    def in_flight(self) -> int:
        return len(self.window.pending)

    def close(self, *, cancel: bool = False) -> None:
        """Shut the backend down; ``cancel`` drops queued work (an interrupted run)."""
        self.window.cancel()
        self.backend.close(cancel=cancel)
