"""Measure a batch of files with a strategy: `measure_files` and `open_strategy`. Pure."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import replace
from typing import Any

from pytest_oscura.jobs import FileJob, FileResult
from pytest_oscura.strategies.backends import Backend, make_backend
from pytest_oscura.strategies.choice import (
    AUTO,
    Plan,
    batch_size,
    choose,
    default_chunk,
    probe_gpu,
)
from pytest_oscura.strategies.prefetch import Window


class GpuFallbackWarning(UserWarning):
    """The GPU strategy measured on the CPU instead: CuPy or a CUDA device is missing (the whole
    run, one warning), or the device raised on a capture (that capture, whose result says
    ``measured_on="cpu"`` and why)."""


def open_strategy(
    jobs: Sequence[FileJob],
    strategy: str = AUTO,
    workers: int | None = None,
    chunk_size: int | None = None,
    *,
    xp: Any = None,
    xdist_worker: bool = False,
    timeout_s: float | None = None,
    scheduler: Any = None,
    started: Backend | None = None,
) -> tuple[Backend, Plan]:
    """Choose the plan for ``jobs`` and open its backend (close it with ``backend.close()``).

    ``xp`` is the GPU strategy's array namespace: default CuPy when it sees a device; pass
    ``numpy`` to run the GPU code path on the CPU. Without CuPy or a device, ``gpu`` falls back
    to the CPU strategy ``auto`` would pick, with one :class:`GpuFallbackWarning`.

    ``scheduler`` is the ``dask`` strategy's scheduler address (or a ``distributed.Client``); its
    plan's workers are the cluster's worker threads, and its window four jobs per thread.

    ``started`` is a backend started ahead for this batch (the plugin starts the process pool
    while collection runs): it is the backend returned when the plan wants that strategy with
    that many workers, and is shut down otherwise.

    Raises:
        ClusterError: (``dask``) no scheduler answers at ``scheduler``, or it has no workers.
    """
    total, seconds = batch_size(job.path for job in jobs) if strategy in (AUTO, "gpu") else (0, 0)
    plan = choose(
        strategy,
        workers,
        chunk_size,
        n_files=len(jobs),
        total_bytes=total,
        work_seconds=seconds,
        gpu_available=True if xp is not None else None,
        xdist_worker=xdist_worker,
    )
    if plan.strategy == "gpu" and xp is None:
        xp, why = probe_gpu()
        if xp is None:
            cpu = choose(
                AUTO,
                workers,
                chunk_size,
                n_files=len(jobs),
                total_bytes=total,
                work_seconds=seconds,
                gpu_available=False,
                xdist_worker=xdist_worker,
            )
            plan = replace(cpu, reason=f"GPU unavailable: {why}; {cpu.reason}")
            warnings.warn(
                f"pytest-oscura: the gpu strategy cannot run: {why}. Measuring on the CPU "
                f"with the {cpu.describe()} strategy instead.",
                GpuFallbackWarning,
                stacklevel=2,
            )
    if started is not None:
        # A pool started for one worker per CPU serves a plan of fewer (fewer files than CPUs).
        if started.name == plan.strategy and getattr(started, "workers", 0) >= plan.workers:
            return started, plan
        started.close(cancel=True)
    if plan.strategy == "dask":
        return _open_dask(plan, chunk_size, timeout_s, scheduler)
    return make_backend(plan.strategy, plan.workers, plan.chunk_size, xp, timeout_s), plan


def _open_dask(
    plan: Plan, chunk_size: int | None, timeout_s: float | None, scheduler: Any
) -> tuple[Backend, Plan]:
    from pytest_oscura.strategies.dask_backend import DaskBackend

    backend = make_backend("dask", 1, 1, timeout_s=timeout_s, scheduler=scheduler)
    assert isinstance(backend, DaskBackend)
    try:
        threads = backend.threads()
    except BaseException:
        backend.close()
        raise
    plan = replace(
        plan,
        workers=threads,
        chunk_size=chunk_size or default_chunk("dask", threads),
        reason=f"{plan.reason}, scheduler {backend.address}",
    )
    return backend, plan


def measure_files(
    jobs: Iterable[FileJob],
    strategy: str = "serial",
    workers: int | None = None,
    chunk_size: int | None = None,
    on_result: Callable[[int, FileResult], object] | None = None,
    *,
    xp: Any = None,
    scheduler: Any = None,
) -> list[FileResult]:
    """Measure every job with ``strategy``; results in input order.

    Args:
        jobs: the files to measure.
        strategy: ``serial``, ``thread``, ``process`` (a process pool), ``gpu`` or
            ``auto`` (see :func:`~pytest_oscura.strategies.choose` for the rule).
        workers: threads or processes; default one per CPU.
        chunk_size: most jobs submitted and not yet finished at any time (for ``gpu``: files
            per device batch). Bounds memory: only that many files are loaded at once.
        on_result: called as ``on_result(index, result)`` in the calling thread as soon as each
            job finishes, in completion order (progress reporting, streaming).
        xp: array namespace of the ``gpu`` strategy (default CuPy; ``numpy`` runs the same
            batch code on the CPU).
        scheduler: the ``dask`` strategy's scheduler address, for example
            ``tcp://127.0.0.1:8786``, or a connected ``distributed.Client`` (closed at the end).

    A file that cannot be loaded, or whose measuring raises, gets ``FileResult.error``; every
    other file keeps its result. serial, thread, process and dask results are bit-identical:
    each runs :func:`~pytest_oscura.jobs.run_job` on the same data.
    """
    jobs = list(jobs)
    backend, plan = open_strategy(jobs, strategy, workers, chunk_size, xp=xp, scheduler=scheduler)
    try:
        results = drive(jobs, backend, plan.chunk_size, on_result)
    except BaseException:
        backend.close(cancel=True)
        raise
    backend.close()
    _warn_fallbacks(jobs, results)
    return results


def _warn_fallbacks(jobs: Sequence[FileJob], results: Sequence[FileResult]) -> None:
    """One :class:`GpuFallbackWarning` for the captures the GPU measured on the CPU instead."""
    fallbacks = [
        (job.display, name, item.gpu_fallback)
        for job, result in zip(jobs, results, strict=True)
        for name, item in result.items.items()
        if item.gpu_fallback is not None
    ]
    if fallbacks:
        display, name, why = fallbacks[0]
        warnings.warn(
            f"pytest-oscura: {len(fallbacks)} capture(s) measured on the CPU after an error on "
            f"the GPU (first: {display}::{name}: {why}); their results say measured_on='cpu'",
            GpuFallbackWarning,
            stacklevel=3,
        )


def drive(
    jobs: Sequence[FileJob],
    backend: Backend,
    window: int,
    on_result: Callable[[int, FileResult], object] | None = None,
) -> list[FileResult]:
    """Run ``jobs`` on ``backend`` with at most ``window`` unfinished jobs at a time.

    Results stream to ``on_result`` in completion order (``wait(FIRST_COMPLETED)``, which is
    ``as_completed`` over a set that keeps growing); the list returned is in input order.
    """
    results: list[FileResult | None] = [None] * len(jobs)
    slots = Window(jobs, backend, window)
    while slots.next < len(jobs) or slots.pending:
        slots.fill(needed=slots.next if not slots.pending else None)
        index_of = {future: index for index, future in slots.pending.items()}
        done, _ = wait(index_of, return_when=FIRST_COMPLETED)
        for index in sorted(index_of[future] for future in done):
            result = results[index] = slots.take(index)
            if on_result is not None:
                on_result(index, result)
    return [result for result in results if result is not None]
