"""The ``dask`` strategy: capture files measured on a Dask distributed cluster. Pure.

The same :class:`~pytest_oscura.strategies.backends.Backend` seam as the thread and process
pools: :meth:`DaskBackend.submit` sends each job to the cluster as one task
(:func:`run_on_worker`, which is :func:`~pytest_oscura.jobs.run_job`), and hands back a
``concurrent.futures.Future`` per job, so that :class:`~pytest_oscura.strategies.prefetch.Window`
bounds the work in flight and :func:`~pytest_oscura.strategies.drive` streams results as they
finish, exactly as for the pools.

**The bridge.** A ``distributed.Future`` is not a ``concurrent.futures.Future``
(``concurrent.futures.wait`` cannot wait for it). Each task gets a plain
``concurrent.futures.Future``; the Dask future's ``add_done_callback`` (run by ``distributed``
in a thread of its own) fetches the result, or the exception, and sets it there. Nothing else
crosses between the two.

**Files.** Workers open the capture files at the path the pytest process sees (a shared file
system, mounted at the same place). A worker that cannot read one reports an item error that
says so and names the worker (:func:`run_on_worker`).

**Lost workers.** When a worker dies, the scheduler runs its tasks again on other workers; a
task whose workers died ``distributed.scheduler.allowed-failures`` times (default 3) ends with
``KilledWorker``. Such a job, and any whose result could not be fetched (the scheduler went
away, the task was cancelled), gets an error result with ``lost=True``: its items error, and the
controller then refuses to write the baseline, as for a crashed xdist worker.

**Time limits.** Dask workers run tasks in threads, where the per-capture alarm cannot fire;
as for the ``thread`` strategy, ``--oscura-timeout`` limits the wait for a result (plus a grace
of :data:`~pytest_oscura.strategies.backends.STUCK_GRACE_S`), the job's items error with
``timed out after N s`` and the task is cancelled on the cluster (a task already running keeps
its worker thread until it returns).

Importing this module imports ``distributed`` only when a backend is made.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future
from dataclasses import replace
from typing import Any

from pytest_oscura.errors import OscuraError
from pytest_oscura.jobs import (
    FileJob,
    FileResult,
    describe_exception,
    failed_result,
    run_job,
    timeout_result,
)
from pytest_oscura.strategies._futures import settle

# A bad or unreachable scheduler address is a usage error after this long, not a hang.
CONNECT_TIMEOUT_S = 5.0
# How long a cluster may take to have its first worker (an adaptive cluster starts empty).
WORKERS_TIMEOUT_S = 60.0
EXTRA_HINT = "pip install 'pytest-oscura[dask]'"


class ClusterError(OscuraError):
    """The Dask cluster cannot be used: ``distributed`` missing, no scheduler, no workers."""


def connect(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> Any:
    """A ``distributed.Client`` connected to the scheduler at ``address``.

    Raises:
        ClusterError: ``distributed`` is not installed, or no scheduler answers at ``address``
            within ``timeout_s`` seconds (one line naming the address).
    """
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError(f"the dask strategy needs Dask distributed: {EXTRA_HINT}") from None
    client_type: Any = Client  # distributed's constructor has no annotations
    try:
        return client_type(address, timeout=timeout_s, set_as_default=False)
    except (OSError, ValueError, TypeError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterError(
            f"Dask scheduler {address!r}: cannot connect within {timeout_s:g} s ({text})"
        ) from None


def run_on_worker(job: FileJob, timeout_s: float | None = None) -> FileResult:
    """:func:`~pytest_oscura.jobs.run_job` on a Dask worker.

    A file the worker cannot open gets an error that says it was the worker, and which one:
    the workers read the captures from the same path as the machine that runs pytest. The
    worker's allocator is tuned first, as in every process the plugin measures in
    (:func:`~pytest_oscura.strategies.worker.tune_allocator`; idempotent): without it a 1M-sample
    capture spends about half its time on the kernel's fresh pages.
    """
    from pytest_oscura.strategies.worker import tune_allocator

    tune_allocator()
    result = run_job(job, None, timeout_s)
    if result.error is not None and not os.access(job.path, os.R_OK):
        where = socket.gethostname()
        try:
            from distributed import get_worker

            where = f"{get_worker().address} on {where}"
        except (ImportError, ValueError):
            pass
        return replace(
            result,
            error=f"{job.display}: cannot be read on the Dask worker {where}: "
            "the workers must see the captures at the same path (a shared file system)",
        )
    return result


def lost_result(job: FileJob, exc: BaseException) -> FileResult:
    """The result of a job the cluster lost; ``lost=True`` keeps the baseline unwritten."""
    detail = describe_exception(exc)
    return FileResult(
        job.path, error=f"{job.display}: result lost on the Dask cluster ({detail})", lost=True
    )


def _lost_errors() -> tuple[type[BaseException], ...]:
    from distributed import KilledWorker

    # CancelledError: the task was cancelled or its data is gone (scheduler restarted);
    # OSError covers distributed's CommClosedError (the connection to the cluster broke).
    return (KilledWorker, CancelledError, OSError)


class DaskBackend:
    """Runs each job as one task on a Dask cluster; see the module notes.

    Args:
        scheduler: the scheduler's address, or a connected ``distributed.Client`` (which the
            backend then closes too).
        timeout_s: the per-capture time limit, or ``None``.
        grace_s: how much longer than ``timeout_s`` to wait for a result.
        task: the function run on the workers, ``task(job, timeout_s) -> FileResult``
            (tests replace it).
    """

    name = "dask"
    batch = 1

    def __init__(
        self,
        scheduler: Any,
        timeout_s: float | None = None,
        grace_s: float = 0.0,
        task: Callable[[FileJob, float | None], FileResult] = run_on_worker,
    ) -> None:
        self.client = connect(scheduler) if isinstance(scheduler, str) else scheduler
        self.address = str(self.client.scheduler.address)
        self.timeout_s = timeout_s
        self.grace_s = grace_s
        self.task = task
        self._tasks: dict[int, Any] = {}  # id(bridged future) → the Dask future
        self._lost = _lost_errors()

    def threads(self, wait_s: float = WORKERS_TIMEOUT_S) -> int:
        """The worker threads of the cluster, once it has at least one worker.

        Raises:
            ClusterError: no worker joined within ``wait_s`` seconds.
        """
        try:
            self.client.wait_for_workers(1, timeout=wait_s)
        except (TimeoutError, OSError):
            raise ClusterError(
                f"the Dask scheduler {self.address} has no workers (waited {wait_s:g} s)"
            ) from None
        threads: dict[str, int] = self.client.nthreads()
        return max(1, sum(threads.values()))

    def submit(self, jobs: Sequence[FileJob]) -> list[Future[FileResult]]:
        futures = []
        for job in jobs:
            bridged: Future[FileResult] = Future()
            task = self.client.submit(self.task, job, self.timeout_s, pure=False)
            self._tasks[id(bridged)] = task
            task.add_done_callback(_bridge(bridged))
            futures.append(bridged)
        return futures

    def result(self, job: FileJob, future: Future[FileResult]) -> FileResult:
        task = self._tasks.pop(id(future), None)
        wait_s = None if self.timeout_s is None else self.timeout_s + self.grace_s
        try:
            return future.result(timeout=wait_s)
        except TimeoutError:
            assert self.timeout_s is not None
            if task is not None:
                task.cancel()
            return timeout_result(job, self.timeout_s)
        except self._lost as exc:
            return lost_result(job, exc)
        except Exception as exc:
            return failed_result(job, exc)

    def close(self, *, cancel: bool = False) -> None:
        tasks, self._tasks = self._tasks, {}
        if cancel and tasks:
            self.client.cancel(list(tasks.values()))
        self.client.close()


def _bridge(bridged: Future[FileResult]) -> Callable[[Any], None]:
    """A done-callback that copies a Dask future's outcome into ``bridged``."""

    def done(task: Any) -> None:
        try:
            outcome = task.result()
        except BaseException as exc:  # handed to the waiting thread, which classifies it
            settle(bridged, exception=exc)
        else:
            settle(bridged, outcome)

    return done
