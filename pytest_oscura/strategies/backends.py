"""Where jobs run: in this thread, a thread pool, a spawned process pool, GPU batches, or a Dask
cluster (:mod:`~pytest_oscura.strategies.dask_backend`). Pure.

Every backend turns a block of :class:`~pytest_oscura.jobs.FileJob` into one future per job
(:meth:`Backend.submit`) and a finished future into a :class:`~pytest_oscura.jobs.FileResult`
that never raises (:meth:`Backend.result`): an exception while measuring one file becomes that
file's ``error``, so the other files keep their results.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor, Executor, Future, ThreadPoolExecutor
from typing import Any, Protocol

from pytest_oscura.jobs import FileJob, FileResult, failed_result, run_job, timeout_result

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


def _ignore_sigint() -> None:
    # Ctrl-C goes to the whole process group: let only the parent handle it (it cancels what
    # is queued and shuts the pool down), so no worker dies half-way and hangs the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class PoolBackend:
    """A ``ThreadPoolExecutor`` or a ``ProcessPoolExecutor`` in the ``spawn`` context.

    ``spawn`` rather than ``fork``: a fork after CUDA (or any threaded library) was initialised
    in the parent breaks the child. A process that dies (killed, out of memory) breaks the whole
    pool; the jobs it took down are retried once, one at a time, in a fresh pool, so only the
    job that kills its worker again ends with an error.
    """

    batch = 1

    def __init__(self, name: str, workers: int, timeout_s: float | None = None) -> None:
        if name not in ("thread", "process"):
            raise ValueError(f"PoolBackend runs 'thread' or 'process', not {name!r}")
        self.name = name
        self.workers = workers
        self.timeout_s = timeout_s
        self._executor: Executor | None = None

    def _task(self, job: FileJob) -> Future[FileResult]:
        # In a process worker the job's own alarm (jobs.time_limit) interrupts Python code;
        # a thread cannot take an alarm, so for threads only the wait in result() limits it.
        return self._pool().submit(run_job, job, None, self.timeout_s)

    def _pool(self) -> Executor:
        if self._executor is None:
            if self.name == "thread":
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="oscura")
            else:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                self._executor = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_ignore_sigint,
                )
        return self._executor

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
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def close(self, *, cancel: bool = False) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if not cancel:
            executor.shutdown(wait=True)
            return
        # Interrupted: drop what is queued and stop the workers now rather than letting them
        # finish their captures. Threads cannot be stopped; each finishes its one job.
        executor.shutdown(wait=False, cancel_futures=True)
        processes: dict[Any, Any] = getattr(executor, "_processes", None) or {}
        for process in list(processes.values()):
            process.terminate()
        for process in list(processes.values()):
            process.join(timeout=5)


class GpuBackend:
    """Measures each submitted block as one batch (:func:`~.gpu.measure_batch`) on ``xp``.

    One background thread runs the batches, so the caller can compare earlier results while a
    batch is loaded and measured.
    """

    name = "gpu"

    def __init__(self, xp: Any, chunk_size: int, load_workers: int = 1) -> None:
        self.xp = xp
        self.batch = chunk_size
        self.load_workers = load_workers
        self._executor: ThreadPoolExecutor | None = None

    def submit(self, jobs: Sequence[FileJob]) -> list[Future[FileResult]]:
        futures: list[Future[FileResult]] = [Future() for _ in jobs]
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="oscura-gpu")
        self._executor.submit(self._run, list(jobs), futures)
        return futures

    def _run(self, jobs: list[FileJob], futures: list[Future[FileResult]]) -> None:
        from pytest_oscura.strategies.gpu import measure_batch

        for future in futures:
            future.set_running_or_notify_cancel()
        try:
            results = measure_batch(jobs, self.xp, load_workers=self.load_workers)
        except BaseException as exc:  # pass everything on: the caller's thread decides
            for future in futures:
                future.set_exception(exc)
            return
        for future, result in zip(futures, results, strict=True):
            future.set_result(result)

    def result(self, job: FileJob, future: Future[FileResult]) -> FileResult:
        return _result(job, future)

    def close(self, *, cancel: bool = False) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=not cancel, cancel_futures=cancel)


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

    ``timeout_s`` limits each job of the serial, thread, process and dask backends (the GPU
    backend measures whole batches and does not apply it). ``scheduler`` is the dask
    strategy's scheduler address (or a connected ``distributed.Client``).
    """
    if strategy == "serial":
        return SerialBackend(timeout_s)
    if strategy in ("thread", "process"):
        return PoolBackend(strategy, workers, timeout_s)
    if strategy == "gpu":
        if xp is None:
            raise ValueError("the gpu backend needs an array namespace (cupy, or numpy in tests)")
        return GpuBackend(xp, chunk_size, load_workers=workers)
    if strategy == "dask":
        if scheduler is None:
            raise ValueError("the dask backend needs a scheduler address (or a distributed.Client)")
        from pytest_oscura.strategies.dask_backend import DaskBackend

        return DaskBackend(scheduler, timeout_s, STUCK_GRACE_S)
    raise ValueError(f"unknown strategy {strategy!r}")
