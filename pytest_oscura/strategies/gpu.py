"""The GPU strategy's batch: load on the CPU, stack equal lengths, one transfer, measure. Pure.

The same code runs with ``xp=cupy`` on a GPU and with ``xp=numpy`` in tests on any machine; only
the array namespace differs. Measuring goes through the engine's public
:func:`~pytest_oscura.measurements.measure_detailed` with ``xp``, so every measurement the
engine can compute on ``xp`` runs on the device.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_oscura.jobs import (
    FileJob,
    FileResult,
    ItemResult,
    ItemSpec,
    failed_result,
    load_job,
    measured_result,
    select_samples,
)

if TYPE_CHECKING:
    from pytest_oscura.captures import Capture


@dataclass
class _Row:
    job: int
    spec: ItemSpec
    capture: Capture
    samples: Any  # 1-D numpy array on the host: float64 analog, uint8 logic


def measure_batch(jobs: Sequence[FileJob], xp: Any, load_workers: int = 1) -> list[FileResult]:
    """Measure ``jobs`` as one batch on the array namespace ``xp``; results in input order.

    1. Every file is loaded on the CPU (``load_workers`` threads), exactly as :func:`run_job`
       loads it; a file that fails to load gets its error, as on the CPU.
    2. The items' 1-D sample arrays are grouped by length and dtype (float64 analog, uint8
       logic). Each group of two or more is stacked
       into one 2-D host array and moved to the device in one transfer; a capture of a length
       of its own is moved alone.
    3. Each row (a view of the device array, no further transfer) is measured with
       ``measure_detailed(row, rate, names, xp=xp)``. A measurement that fails on the device
       (one the engine cannot compute on ``xp``) falls back to the CPU for that capture.
    """
    import numpy as np

    loaded = _load_all(jobs, load_workers)
    results: list[dict[str, ItemResult]] = [{} for _ in jobs]
    errors: dict[int, FileResult] = {}
    # Rows of one length and dtype are stacked: logic rows stay uint8 through the transfer
    # and the engine converts each to float64 on the device, one at a time.
    groups: dict[tuple[int, str], list[_Row]] = {}
    for index, (job, captures) in enumerate(zip(jobs, loaded, strict=True)):
        if isinstance(captures, FileResult):
            errors[index] = captures
            continue
        for spec in job.items:
            selected = select_samples(job, spec, captures)
            if isinstance(selected, ItemResult):
                results[index][spec.name] = selected
                continue
            capture, samples = selected
            row = _Row(index, spec, capture, np.asarray(samples))
            groups.setdefault((row.samples.shape[0], row.samples.dtype.str), []).append(row)
    for rows in groups.values():
        if len(rows) > 1:
            device = xp.asarray(np.stack([row.samples for row in rows]))  # one transfer
            on_device = [device[k] for k in range(len(rows))]
        else:
            on_device = [xp.asarray(rows[0].samples)]
        for row, samples in zip(rows, on_device, strict=True):
            if row.job in errors:
                continue
            try:
                results[row.job][row.spec.name] = _measure(row, samples, xp)
            except Exception as exc:
                errors[row.job] = failed_result(jobs[row.job], exc)
        del on_device
    return [
        errors.get(index) or FileResult(job.path, results[index]) for index, job in enumerate(jobs)
    ]


def _load_all(jobs: Sequence[FileJob], workers: int) -> list[Any]:
    if workers <= 1 or len(jobs) <= 1:
        return [_load(job) for job in jobs]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(workers, len(jobs)), thread_name_prefix="oscura-load") as pool:
        return list(pool.map(_load, jobs))


def _load(job: FileJob) -> Any:
    try:
        return load_job(job)
    except Exception as exc:
        return failed_result(job, exc)


def _measure(row: _Row, samples: Any, xp: Any) -> ItemResult:
    from pytest_oscura.measurements import measure_detailed

    rate, names = row.capture.sample_rate_hz, row.spec.measurements
    scaling = row.capture.scaling
    try:
        measured = measure_detailed(samples, rate, names, xp=xp, scaling=scaling)
    except Exception:
        # this capture on the CPU
        measured = measure_detailed(row.samples, rate, names, scaling=scaling)
    return measured_result(row.capture, measured)
