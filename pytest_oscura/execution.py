"""How the plugin measures captures: the strategy of this run and the prefetcher it installs.

Without xdist, :meth:`Execution.start` (at the end of collection) lists the capture files in
the order their items will run, resolves the strategy (``auto`` from the machine and this
batch) and replaces ``Runtime.measure_file`` by a :class:`~pytest_oscura.strategies.Prefetcher`
that measures the next files in the background while items compare their results. In an xdist
worker, ``auto`` means serial: xdist already runs one process per CPU. No numpy import here.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_oscura.strategies.choice import AUTO, Plan, cpu_count, gpu_installed

if TYPE_CHECKING:
    from pytest_oscura.jobs import FileJob
    from pytest_oscura.runtime import Runtime
    from pytest_oscura.strategies import Prefetcher


@dataclass
class Execution:
    """The requested strategy of a run, and once collected, its plan and prefetcher.

    ``xdist_workers`` is the number of xdist workers (0 without xdist); ``xdist_worker`` says
    whether this process is one of them.
    """

    requested: str = AUTO
    workers: int | None = None
    xdist_worker: bool = False
    xdist_workers: int = 0
    plan: Plan | None = None
    prefetcher: Prefetcher | None = None
    notes: list[str] = field(default_factory=list)

    def _workers(self) -> int | None:
        if self.workers is not None or not self.xdist_workers:
            return self.workers
        # An explicit pool inside each xdist worker: share the CPUs out instead of N × M.
        return max(1, cpu_count() // self.xdist_workers)

    def header(self) -> str:
        """The terminal header line (written before collection, so ``auto`` is not yet decided)."""
        if self.xdist_workers and not self.xdist_worker:
            if self.requested == AUTO:
                return (
                    "oscura: strategy serial in each xdist worker (a pool per worker would "
                    "oversubscribe the CPUs; --oscura-strategy overrides)"
                )
            return f"oscura: strategy {self.requested} in each xdist worker (requested)"
        if self.requested == AUTO:
            gpu = "CuPy installed" if gpu_installed() else "no CuPy"
            return (
                f"oscura: strategy auto ({cpu_count()} CPUs, {gpu}): chosen from the batch "
                "after collection"
            )
        count = self._workers() or cpu_count()
        workers = f", {count} workers" if self.requested in ("thread", "process") else ""
        return f"oscura: strategy {self.requested}{workers} (requested)"

    def start(self, jobs: Sequence[FileJob], runtime: Runtime) -> None:
        """Resolve the plan for ``jobs`` and, unless it is serial, install a prefetcher.

        With ``--oscura-resume``, files whose stored results are still valid are left out of
        the plan: they are not measured again, ahead or otherwise.
        """
        from pytest_oscura.strategies import GpuFallbackWarning, Prefetcher, open_strategy

        jobs = [job for job in jobs if not runtime.resume(job)]

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", GpuFallbackWarning)
            backend, self.plan = open_strategy(
                jobs,
                self.requested,
                self._workers(),
                xdist_worker=self.xdist_worker,
                timeout_s=runtime.timeout_s,
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
        runtime.measure_file = self.prefetcher

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


def jobs_in_run_order(items: Sequence[Any]) -> list[FileJob]:
    """The capture files of ``items`` in the order their first item runs, each once."""
    from pytest_oscura.collect import CaptureItem

    jobs: dict[str, FileJob] = {}
    for item in items:
        if isinstance(item, CaptureItem) and item.parent.job is not None:
            jobs.setdefault(item.parent.job.path, item.parent.job)
    return list(jobs.values())
