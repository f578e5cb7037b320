"""Per-process run state: where each capture file's results come from. Pure: no pytest import.

Each process of a run (a run without xdist, or each xdist worker) has one :class:`Runtime`: the
captures roots, whether this run updates the baseline, the resume store, and the execution
strategy with its prefetcher. Items ask it for their file's result (:meth:`Runtime.file_result`);
it answers from its cache, the resume store, the prefetcher or by measuring in place.

Without xdist, :meth:`Runtime.start` (at the end of collection) resolves the strategy (``auto``
from the machine and this batch) and, unless that is serial, installs a
:class:`~pytest_oscura.strategies.Prefetcher` that measures the next files in the background
while items compare their results. In an xdist worker, ``auto`` means serial: xdist already runs
one process per CPU. Importing this module imports no numpy.

A process pool takes a while to start, so it is started while collection still runs
(:meth:`Runtime.collecting`, :meth:`Runtime.collected`): at once for ``process`` asked by name,
and for ``auto`` as soon as the files collected so far are enough for it to pick ``process``
(:func:`~pytest_oscura.strategies.choice.early_pool`). :meth:`Runtime.start` then takes that
pool if the plan wants it, and shuts it down otherwise.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_oscura.jobs import FileJob, FileResult, run_job
from pytest_oscura.strategies.choice import (
    AUTO,
    Plan,
    cpu_count,
    early_pool,
    file_cost,
    gpu_installed,
)

if TYPE_CHECKING:
    from pytest_oscura.resume import ResultStore
    from pytest_oscura.strategies import Prefetcher
    from pytest_oscura.strategies.backends import PoolBackend
    from pytest_oscura.suite import CaptureRoot


@dataclass
class Runtime:
    """Run state of one process.

    Attributes:
        roots: the captures roots of the run.
        update_baseline: whether this run records new baseline values.
        timeout_s: the per-capture time limit (``--oscura-timeout``), or ``None``.
        store: the resume store (``--oscura-resume``), or ``None``.
        strategy: the requested strategy (``auto`` or one of the strategies).
        workers: the requested pool size, or ``None`` for one per CPU.
        xdist_workers: the number of xdist workers of the run (0 without xdist).
        xdist_worker: whether this process is one of them.
        dask_scheduler: the dask strategy's scheduler address, or a ``distributed.Client``
            already connected to it (which this runtime then closes).
        measures: whether this run measures at all (not ``--collect-only``).
    """

    roots: list[CaptureRoot]
    update_baseline: bool = False
    timeout_s: float | None = None
    store: ResultStore | None = None
    strategy: str = AUTO
    workers: int | None = None
    xdist_workers: int = 0
    xdist_worker: bool = False
    dask_scheduler: Any = None
    measures: bool = True
    plan: Plan | None = None
    prefetcher: Prefetcher | None = None
    notes: list[str] = field(default_factory=list)
    resumed_paths: set[str] = field(default_factory=set)
    _results: dict[str, FileResult] = field(default_factory=dict)
    _early: PoolBackend | None = None
    # The files collected so far, for auto's early pool start: count, bytes, serial seconds.
    _collected_files: int = 0
    _collected_bytes: int = 0
    _collected_seconds: float = 0.0

    @property
    def captures_args(self) -> str:
        """The ``--oscura-captures`` arguments of this run, as the user wrote them (for hints)."""
        from pytest_oscura.suite import captures_args

        return captures_args(self.roots)

    # -- results ------------------------------------------------------------------------------

    def file_result(self, job: FileJob) -> FileResult:
        """The result of ``job``, computed once per file and kept until :meth:`release`."""
        result = self._results.get(job.path)
        if result is not None:
            return result
        if self.resume(job):
            return self._results[job.path]
        from pytest_oscura.resume import fingerprint

        try:
            before = fingerprint(Path(job.path)) if self.store is not None else None
        except OSError:
            before = None  # unreadable: measuring reports why
        if self.prefetcher is not None:
            result = self.prefetcher(job)
        else:
            result = run_job(job, timeout_s=self.timeout_s)
        if self.store is not None and before is not None:
            self.store.put(job, before, result)
        self._results[job.path] = result
        return result

    def resume(self, job: FileJob) -> bool:
        """Take ``job``'s stored result, if the resume store has a valid one, into the cache."""
        if self.store is None or job.path in self._results:
            return job.path in self.resumed_paths
        result = self.store.get(job)
        if result is None:
            return False
        self.resumed_paths.add(job.path)
        self._results[job.path] = result
        return True

    def release(self, job: FileJob) -> None:
        """Forget a file's result once its last item ran: memory stays bounded."""
        self._results.pop(job.path, None)

    # -- the execution strategy ---------------------------------------------------------------

    def _workers(self) -> int | None:
        if self.workers is not None or not self.xdist_workers:
            return self.workers
        # An explicit pool inside each xdist worker: share the CPUs out instead of N × M.
        return max(1, cpu_count() // self.xdist_workers)

    def strategy_header(self) -> str:
        """The terminal header line (written before collection, so ``auto`` is not yet decided)."""
        if self.xdist_workers and not self.xdist_worker:
            if self.strategy == AUTO:
                return (
                    "oscura: strategy serial in each xdist worker (a pool per worker would "
                    "oversubscribe the CPUs; --oscura-strategy overrides)"
                )
            return f"oscura: strategy {self.strategy} in each xdist worker (requested)"
        if self.strategy == AUTO:
            gpu = "CuPy installed" if gpu_installed() else "no CuPy"
            return (
                f"oscura: strategy auto ({cpu_count()} CPUs, {gpu}): chosen from the batch "
                "after collection"
            )
        if self.strategy == "dask":
            address = getattr(getattr(self.dask_scheduler, "scheduler", None), "address", None)
            return f"oscura: strategy dask, scheduler {address or self.dask_scheduler} (requested)"
        count = self._workers() or cpu_count()
        workers = f", {count} workers" if self.strategy in ("thread", "process") else ""
        return f"oscura: strategy {self.strategy}{workers} (requested)"

    def strategy_summary(self) -> str:
        """The strategy this run measured with, in a few words (for the reports)."""
        if self.xdist_workers and not self.xdist_worker:
            chosen = "serial" if self.strategy == AUTO else self.strategy
            return f"{chosen} in each of {self.xdist_workers} xdist workers"
        if self.plan is not None:
            return self.plan.describe() + (" (auto)" if self.strategy == AUTO else "")
        return self.strategy

    def _may_start_early(self) -> bool:
        """Whether a pool may start before collection ends: this process measures (not the
        xdist controller, not ``--collect-only``) and no pool is started yet."""
        controller = bool(self.xdist_workers) and not self.xdist_worker
        return self.measures and not controller and self._early is None and self.plan is None

    def collecting(self) -> None:
        """Collection starts: a process pool asked for by name starts now."""
        if self.strategy == "process" and self._may_start_early():
            self._start_pool()

    def collected(self, path: str) -> None:
        """A capture file was collected: start the pool once ``auto`` would pick it."""
        if self.strategy != AUTO or not self._may_start_early():
            return  # nothing to decide: no stat of the file
        size, seconds = file_cost(path)
        self._collected_files += 1
        self._collected_bytes += size
        self._collected_seconds += seconds
        if early_pool(
            self.strategy,
            n_files=self._collected_files,
            total_bytes=self._collected_bytes,
            work_seconds=self._collected_seconds,
            xdist_worker=self.xdist_worker,
        ):
            self._start_pool()

    def _start_pool(self) -> None:
        from pytest_oscura.strategies.backends import PoolBackend

        workers = self._workers() or cpu_count()
        self._early = PoolBackend("process", workers, self.timeout_s).start()

    def start(self, jobs: Sequence[FileJob]) -> None:
        """Resolve the plan for ``jobs`` (in run order) and, unless serial, start prefetching.

        With ``--oscura-resume``, files whose stored results are still valid are left out of
        the plan: they are not measured again, ahead or otherwise.
        """
        from pytest_oscura.strategies import GpuFallbackWarning, Prefetcher, open_strategy
        from pytest_oscura.strategies.worker import tune_allocator

        tune_allocator()  # this process measures too: serial, threads, GPU loading
        jobs = [job for job in jobs if not self.resume(job)]
        # The backend owns a connected client from here on (and closes it).
        scheduler, self.dask_scheduler = self.dask_scheduler, None
        if self.strategy != "dask":
            _close_client(scheduler)
            scheduler = None
        early, self._early = self._early, None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", GpuFallbackWarning)
            backend, self.plan = open_strategy(
                jobs,
                self.strategy,
                self._workers(),
                xdist_worker=self.xdist_worker,
                timeout_s=self.timeout_s,
                scheduler=scheduler,
                started=early,
            )
        for warning in caught:
            self.notes.append(f"oscura: WARNING: {warning.message}")
            # Also a pytest warning, unless the project turned warnings into errors.
            with contextlib.suppress(GpuFallbackWarning):
                warnings.warn(warning.message, warning.category, stacklevel=1)
        if self.plan.strategy == "serial":
            backend.close()
            return
        window = self.plan.chunk_size * (2 if self.plan.strategy == "gpu" else 1)
        self.prefetcher = Prefetcher(jobs, backend, window)

    def collection_lines(self) -> list[str]:
        """What was chosen and why, written when collection finishes."""
        if self.plan is None or self.xdist_worker:
            return []
        return [
            *self.notes,
            f"oscura: measuring with {self.plan.describe()}: {self.plan.reason}",
        ]

    def close(self, *, interrupted: bool) -> None:
        """Shut the pool down; an interrupted run drops queued work and stops workers now."""
        prefetcher, self.prefetcher = self.prefetcher, None
        if prefetcher is not None:
            prefetcher.close(cancel=interrupted)
        early, self._early = self._early, None
        if early is not None:  # started during a collection that ended without items
            early.close(cancel=True)
        scheduler, self.dask_scheduler = self.dask_scheduler, None
        _close_client(scheduler)  # connected, but nothing was measured


def _close_client(scheduler: Any) -> None:
    """Close a ``distributed.Client`` (an address or ``None`` needs nothing)."""
    if scheduler is not None and not isinstance(scheduler, str):
        scheduler.close()
