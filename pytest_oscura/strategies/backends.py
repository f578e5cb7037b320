"""Where jobs run: in this thread, a thread pool, a process pool, GPU batches, or a Dask
cluster (:mod:`~pytest_oscura.strategies.dask_backend`). Pure.

Every backend turns a block of :class:`~pytest_oscura.jobs.FileJob` into one future per job
(:meth:`Backend.submit`) and a finished future into a :class:`~pytest_oscura.jobs.FileResult`
that never raises (:meth:`Backend.result`): an exception while measuring one file becomes that
file's ``error``, so the other files keep their results.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from concurrent.futures import (
    BrokenExecutor,
    Executor,
    Future,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from typing import Any, Protocol

from pytest_oscura._lazy import import_lazily
from pytest_oscura.jobs import FileJob, FileResult, failed_result, run_job, timeout_result
from pytest_oscura.strategies._futures import settle

# Past its own time limit, a job gets this long to report before its worker is presumed stuck
# (inside a C call that the worker's alarm cannot interrupt) and the process is stopped.
STUCK_GRACE_S = 2.0


class Backend(Protocol):
    """How a strategy runs jobs; ``batch`` is how many jobs :meth:`submit` wants at once."""

    name: str
    batch: int

    def submit(self, jobs: Sequence[FileJob]) -> list[Future[FileResult]]: ...

    def result(self, job: FileJob, future: Future[FileResult]) -> FileResult: ...

    def close(self, *, cancel: bool = False) -> None: ...


class SerialBackend:
    """Runs each job in the calling thread as it is submitted."""

    name = "serial"
    batch = 1

    def __init__(self, timeout_s: float | None = None) -> None:
        self.timeout_s = timeout_s

    def submit(self, jobs: Sequence[FileJob]) -> list[Future[FileResult]]:
        futures = []
        for job in jobs:
            future: Future[FileResult] = Future()
            try:
                future.set_result(run_job(job, None, self.timeout_s))
            except Exception as exc:
                future.set_exception(exc)
            futures.append(future)
        return futures

    def result(self, job: FileJob, future: Future[FileResult]) -> FileResult:
        return _result(job, future)

    def close(self, *, cancel: bool = False) -> None:
        pass


def _result(job: FileJob, future: Future[FileResult]) -> FileResult:
    try:
        return future.result()
    except Exception as exc:
        return failed_result(job, exc)


class PoolBackend:
    """A ``ThreadPoolExecutor``, or a ``ProcessPoolExecutor`` whose workers come from a fork
    server (``spawn`` where there is none; :func:`~.worker.pool_context`).

    Never ``fork``: a fork after CUDA (or any threaded library) was initialised in the parent
    breaks the child. A process that dies (killed, out of memory) breaks the whole pool; the
    jobs it took down are retried once, one at a time, in a fresh pool, so only the job that
    kills its worker again ends with an error. :meth:`start` starts the workers ahead of the
    first job (the plugin does it while collection runs).
    """

    batch = 1

    def __init__(self, name: str, workers: int, timeout_s: float | None = None) -> None:
        if name not in ("thread", "process"):
            raise ValueError(f"PoolBackend runs 'thread' or 'process', not {name!r}")
        self.name = name
        self.workers = workers
        self.timeout_s = timeout_s
        self._executor: Executor | None = None
        self._lock = threading.Lock()
        self._starter: threading.Thread | None = None
        self._state = threading.Lock()  # guards the two flags below
        self._started = False  # the starter has done its work
        self._abandoned = False  # closed with cancel=True while the starter was still at it

    def _task(self, job: FileJob) -> Future[FileResult]:
        # In a process worker the job's own alarm (jobs.time_limit) interrupts Python code;
        # a thread cannot take an alarm, so for threads only the wait in result() limits it.
        return self._pool().submit(run_job, job, None, self.timeout_s)

    def _pool(self) -> Executor:
        with self._lock:
            return self._open()

    def _open(self) -> Executor:
        if self._executor is None:
            if self.name == "thread":
                from pytest_oscura.strategies.worker import PRELOAD

                # What every worker thread's first capture imports (numpy.fft, the engine, the
                # format entry points), once, here: never in two threads at the same time.
                for name in PRELOAD:
                    import_lazily(name)
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="oscura")
            else:
                from concurrent.futures import ProcessPoolExecutor

                from pytest_oscura.strategies.worker import init_worker, pool_context

                self._executor = ProcessPoolExecutor(
                    self.workers, mp_context=pool_context(), initializer=init_worker
                )
        return self._executor

    def start(self) -> PoolBackend:
        """Start every worker now, in a background thread (starting the first one waits for
        the fork server to import numpy and the engine); ``self``, at once."""
        if self.name == "process" and self._executor is None and self._starter is None:
            self._starter = threading.Thread(
                target=self._start_workers, name="oscura-pool-start", daemon=True
            )
            self._starter.start()
        return self

    def _start_workers(self) -> None:
        from pytest_oscura.strategies.worker import ready

        try:
            pool = self._pool()
            # ProcessPoolExecutor starts a worker per submitted task while none is idle.
            for _ in range(self.workers):
                pool.submit(ready)
        except Exception:  # a pool that cannot start fails again, loudly, at submit
            pass
        with self._state:
            self._started = True
            abandoned = self._abandoned
        if abandoned:  # closed while starting: nobody else will stop it
            self._stop_now()

    def _join_starter(self) -> None:
        starter, self._starter = self._starter, None
        if starter is not None:
            starter.join()

    def submit(self, jobs: Sequence[FileJob]) -> list[Future[FileResult]]:
        futures = []
        for job in jobs:
            try:
                futures.append(self._task(job))
            except BrokenExecutor:
                self._discard()
                futures.append(self._task(job))
        return futures

    def result(self, job: FileJob, future: Future[FileResult]) -> FileResult:
        wait_s = None if self.timeout_s is None else self.timeout_s + STUCK_GRACE_S
        try:
            return future.result(timeout=wait_s)
        except TimeoutError:
            assert self.timeout_s is not None
            if self.name == "process":
                # The worker is stuck where its alarm cannot reach: stop it for real. The
                # other jobs of the pool are retried in a fresh one (BrokenExecutor below).
                self._terminate()
            return timeout_result(job, self.timeout_s)
        except BrokenExecutor:
            pass
        except Exception as exc:
            return failed_result(job, exc)
        self._discard()
        try:
            return self._task(job).result(timeout=wait_s)
        except TimeoutError:
            assert self.timeout_s is not None
            self._terminate()
            return timeout_result(job, self.timeout_s)
        except Exception as exc:
            self._discard()
            return failed_result(job, exc)

    def _terminate(self) -> None:
        """Stop every worker process now and forget the pool."""
        self._join_starter()
        executor, self._executor = self._executor, None
        if executor is None:
            return
        processes: dict[Any, Any] = getattr(executor, "_processes", None) or {}
        for process in list(processes.values()):
            process.terminate()
        for process in list(processes.values()):
            process.join(timeout=5)
        executor.shutdown(wait=False, cancel_futures=True)

    def _discard(self) -> None:
        self._join_starter()
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def close(self, *, cancel: bool = False) -> None:
        if cancel and self._starter is not None:
            with self._state:
                self._abandoned = not self._started
            if self._abandoned:  # still starting (a fork server's imports): do not wait
                self._starter = None
                return
        self._join_starter()
        if not cancel:
            executor, self._executor = self._executor, None
            if executor is not None:
                executor.shutdown(wait=True)
            return
        self._stop_now()

    def _stop_now(self) -> None:
        """Drop what is queued and stop the workers now rather than letting them finish their
        captures (an interrupted run, a pool nobody wants). Threads cannot be stopped; each
        finishes its one job."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        executor.shutdown(wait=False, cancel_futures=True)
        processes: dict[Any, Any] = getattr(executor, "_processes", None) or {}
        for process in list(processes.values()):
            process.terminate()
        for process in list(processes.values()):
            process.join(timeout=5)


@dataclass
class _Batch:
    """One block submitted to the GPU backend: its jobs, their futures and when it started."""

    jobs: list[FileJob]
    futures: list[Future[FileResult]]
    previous: _Batch | None
    started: threading.Event = field(default_factory=threading.Event)
    #: set when the batch is done, or abandoned past its time limit: the next one may start
    finished: threading.Event = field(default_factory=threading.Event)
    #: when the batch's time limit runs out (``time.monotonic``; ``inf`` without a limit)
    deadline: float = math.inf


class GpuBackend:
    """Measures each submitted block as one batch (:func:`~.gpu.measure_batch`) on ``xp``.

    Each batch runs in a background thread of its own, one batch after the other, so the caller
    can compare earlier results while a batch is loaded and measured.

    ``timeout_s`` applies per batch: a batch of N files has N × ``timeout_s`` from its start
    (plus :data:`STUCK_GRACE_S`). A batch past that limit gives each of its unfinished files
    the ``timed out`` error and is abandoned: the next batch starts, while the stuck one's
    thread, which nothing can stop (a CUDA kernel or a C call cannot be interrupted), finishes
    in the background and its results are dropped.
    """

    name = "gpu"

    def __init__(
        self, xp: Any, chunk_size: int, load_workers: int = 1, timeout_s: float | None = None
    ) -> None:
        self.xp = xp
        self.batch = chunk_size
        self.load_workers = load_workers
        self.timeout_s = timeout_s
        self._last: _Batch | None = None
        self._of: dict[Future[FileResult], _Batch] = {}
        self._closed = threading.Event()

    def submit(self, jobs: Sequence[FileJob]) -> list[Future[FileResult]]:
        futures: list[Future[FileResult]] = [Future() for _ in jobs]
        batch = self._last = _Batch(list(jobs), futures, self._last)
        for future in futures:
            self._of[future] = batch
        threading.Thread(target=self._run, args=(batch,), name="oscura-gpu", daemon=True).start()
        return futures

    def _run(self, batch: _Batch) -> None:
        from pytest_oscura.strategies.gpu import measure_batch

        if batch.previous is not None:
            batch.previous.finished.wait()
            batch.previous = None  # nothing keeps the finished batches alive
        try:
            if self._closed.is_set() or not all(
                future.set_running_or_notify_cancel() for future in batch.futures
            ):
                return
            if self.timeout_s is not None:
                batch.deadline = time.monotonic() + len(batch.jobs) * self.timeout_s + STUCK_GRACE_S
            batch.started.set()
            try:
                results = measure_batch(batch.jobs, self.xp, load_workers=self.load_workers)
            except BaseException as exc:  # pass everything on: the caller's thread decides
                for future in batch.futures:
                    settle(future, exception=exc)
                return
            for future, result in zip(batch.futures, results, strict=True):
                settle(future, result)
        finally:
            batch.started.set()
            batch.finished.set()

    def result(self, job: FileJob, future: Future[FileResult]) -> FileResult:
        batch = self._of.pop(future, None)
        if self.timeout_s is None or batch is None:
            return _result(job, future)
        while not future.done():
            if not batch.started.wait(0.05):
                self._expire(batch.previous)  # waiting for the batch ahead of it
                continue
            left = batch.deadline - time.monotonic()
            if left <= 0:
                self._abandon(batch)
                break
            wait([future], timeout=left)
        return _result(job, future)

    def _expire(self, batch: _Batch | None) -> None:
        """Abandon ``batch`` (or the first unstarted one's predecessor) if it is past its limit."""
        while batch is not None and not batch.finished.is_set():
            if batch.started.is_set():
                if time.monotonic() >= batch.deadline:
                    self._abandon(batch)
                return
            batch = batch.previous

    def _abandon(self, batch: _Batch) -> None:
        assert self.timeout_s is not None
        for job, future in zip(batch.jobs, batch.futures, strict=True):
            settle(future, timeout_result(job, self.timeout_s))
        batch.finished.set()  # the next batch starts; the stuck thread's results are dropped

    def close(self, *, cancel: bool = False) -> None:
        last, self._last = self._last, None
        if cancel:
            self._closed.set()  # batches not yet started never start
            for batch in list(self._of.values()):
                for future in batch.futures:
                    future.cancel()
        elif last is not None:
            # Nobody may ask for a stuck batch's results again (``-x`` stops the run with
            # batches in flight): its time limit still applies here.
            while not last.finished.wait(0.05):
                if self.timeout_s is not None:
                    self._expire(last)
        self._of.clear()


def make_backend(
    strategy: str,
    workers: int,
    chunk_size: int,
    xp: Any = None,
    timeout_s: float | None = None,
    *,
    scheduler: Any = None,
) -> Backend:
    """The backend of a resolved strategy; ``xp`` is the GPU strategy's array namespace.

    ``timeout_s`` limits each job of the serial, thread, process and dask backends, and each
    batch of the GPU backend (N files, N × ``timeout_s``). ``scheduler`` is the dask strategy's
    scheduler address (or a connected ``distributed.Client``).
    """
    if strategy == "serial":
        return SerialBackend(timeout_s)
    if strategy in ("thread", "process"):
        return PoolBackend(strategy, workers, timeout_s)
    if strategy == "gpu":
        if xp is None:
            raise ValueError("the gpu backend needs an array namespace (cupy, or numpy in tests)")
        return GpuBackend(xp, chunk_size, load_workers=workers, timeout_s=timeout_s)
    if strategy == "dask":
        if scheduler is None:
            raise ValueError("the dask backend needs a scheduler address (or a distributed.Client)")
        from pytest_oscura.strategies.dask_backend import DaskBackend

        return DaskBackend(scheduler, timeout_s, STUCK_GRACE_S)
    raise ValueError(f"unknown strategy {strategy!r}")
