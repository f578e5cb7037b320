"""The GPU strategy's batch: load on the CPU, stack equal lengths, measure the stack. Pure.

The same code runs with ``xp=cupy`` on a GPU and with ``xp=numpy`` in tests on any machine; only
the array namespace differs. The measuring is the engine's
(:func:`~pytest_oscura.measurements.batch.measure_stack`): one copy of each stack to the device,
batched reductions, FFT and histograms, per-capture transition scans, two copies back.

Nothing falls back silently: a capture whose stack (or whose own part of it) raised on the
device is measured on the CPU, and its :class:`~pytest_oscura.jobs.ItemResult` says so
(``measured_on="cpu"``, ``gpu_fallback`` the reason); the plugin turns that into a warning on
the item, a count in the terminal summary and fields of the JSON report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pytest_oscura.jobs import (
    FileJob,
    FileResult,
    ItemResult,
    ItemSpec,
    describe_exception,
    failed_result,
    load_job,
    measured_result,
    select_samples,
)

if TYPE_CHECKING:
    from pytest_oscura.captures import Capture, Scaling
    from pytest_oscura.measurements.batch import Device


@dataclass
class _Row:
    job: int
    spec: ItemSpec
    capture: Capture  # its facts (units, warnings, companions), without its samples
    rate: float
    names: tuple[str, ...]


def measure_batch(
    jobs: Sequence[FileJob], xp: Any, load_workers: int = 1, device: Device | None = None
) -> list[FileResult]:
    """Measure ``jobs`` as one batch on the array namespace ``xp``; results in input order.

    1. Every file is loaded on the CPU (``load_workers`` threads), exactly as
       :func:`~pytest_oscura.jobs.run_job` loads it; a file that fails to load gets its error,
       as on the CPU.
    2. The items' samples are grouped by length, stored dtype and scaling (float64 analog,
       integers of one scaling, uint8 logic) and each group is stacked into one 2-D host array
       (integers stay integers: the device scales them).
    3. Each stack is measured on ``device`` (default: a fresh
       :class:`~pytest_oscura.measurements.batch.Device` of ``xp``, which counts the copies).
       A stack that raises is measured capture by capture on the CPU, as is a capture whose own
       part raised; each says so in its result.
    """
    from pytest_oscura.measurements.batch import Device, measure_stack

    device = device or Device(xp)
    results: list[dict[str, ItemResult]] = [{} for _ in jobs]
    errors: dict[int, FileResult] = {}
    stacks = _stacks(jobs, _load_all(jobs, load_workers), results, errors)
    while stacks:  # each stack freed once measured; the loaded files are already
        scaling, rows, stack = stacks.pop(0)
        outcomes: list[Any]
        try:
            outcomes = measure_stack(
                device, stack, [r.rate for r in rows], [r.names for r in rows], scaling
            )
        except Exception as exc:  # the whole stack: each of its captures on the CPU
            outcomes = [exc] * len(rows)
        for row, samples, outcome in zip(rows, stack, outcomes, strict=True):
            if row.job in errors:
                continue
            if isinstance(outcome, Exception):
                try:
                    fallback = _on_cpu(row, samples, scaling, describe_exception(outcome))
                    results[row.job][row.spec.name] = fallback
                except Exception as exc:
                    errors[row.job] = failed_result(jobs[row.job], exc)
                continue
            results[row.job][row.spec.name] = measured_result(row.capture, outcome, "gpu")
        del stack
    return [
        errors.get(index) or FileResult(job.path, results[index]) for index, job in enumerate(jobs)
    ]


def _stacks(
    jobs: Sequence[FileJob],
    loaded: list[Any],
    results: list[dict[str, ItemResult]],
    errors: dict[int, FileResult],
) -> list[tuple[Scaling | None, list[_Row], Any]]:
    """The items of the loaded files stacked by length, stored dtype and scaling; the loaded
    samples are dropped (the stacks hold copies), so the batch holds each capture once."""
    import numpy as np

    from pytest_oscura.measurements import check_names

    groups: dict[tuple[int, str, Scaling | None], list[tuple[_Row, Any]]] = {}
    no_samples = np.empty(0)
    for index, (job, captures) in enumerate(zip(jobs, loaded, strict=True)):
        if isinstance(captures, FileResult):
            errors[index] = captures
            continue
        for spec in job.items:
            selected = select_samples(job, spec, captures)
            if isinstance(selected, ItemResult):
                results[index][spec.name] = selected
                continue
            try:
                names = check_names(spec.measurements)
            except KeyError as exc:  # the file's error, as on the CPU
                errors[index] = failed_result(job, exc)
                break
            capture, samples = selected
            samples = np.asarray(samples)
            # The row keeps the capture's facts, not its samples.
            facts = replace(capture, stored=no_samples)
            row = _Row(index, spec, facts, capture.sample_rate_hz, names)
            key = (samples.shape[0], samples.dtype.str, capture.scaling)
            groups.setdefault(key, []).append((row, samples))
    loaded.clear()
    stacks = []
    for (_, _, scaling), members in groups.items():
        kept = [(row, samples) for row, samples in members if row.job not in errors]
        if kept:
            stack = np.stack([samples for _, samples in kept])
            stacks.append((scaling, [row for row, _ in kept], stack))
        members.clear()
    return stacks


def _on_cpu(row: _Row, samples: Any, scaling: Scaling | None, why: str) -> ItemResult:
    from pytest_oscura.measurements import measure_detailed

    measured = measure_detailed(samples, row.rate, row.names, scaling=scaling)
    return measured_result(row.capture, measured, "cpu", gpu_fallback=why)


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
