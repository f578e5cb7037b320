"""Every strategy gives the same results, in order, streamed, isolated per file, bounded."""

from __future__ import annotations

import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

from pytest_oscura.captures import LoadSettings
from pytest_oscura.jobs import FileJob, FileResult, ItemSpec, run_job
from pytest_oscura.strategies import (
    GpuFallbackWarning,
    Prefetcher,
    choose,
    make_backend,
    measure_files,
    probe_gpu,
)
from pytest_oscura.strategies import batch as batch_module
from tests.conftest import sine

NAMES = ("mean", "rms", "ac_rms", "min", "max", "vpp")
CPU_STRATEGIES = ["serial", "thread", "process"]


def make_jobs(folder: Path, count: int = 9) -> list[FileJob]:
    """Captures of three lengths (so the GPU path stacks groups), one with two channels."""
    folder.mkdir(exist_ok=True)
    jobs = []
    for index in range(count):
        path = folder / f"cap_{index:02d}.npy"
        n = (1000, 2000, 3000)[index % 3]
        samples = sine(n=n, amplitude=1 + index / 10, offset=index / 3)
        items: tuple[ItemSpec, ...]
        if index == 4:
            np.save(path, np.vstack([samples, -samples]))
            items = (ItemSpec("CH1", 0, None, NAMES), ItemSpec("CH2", 1, None, NAMES))
        else:
            np.save(path, samples)
            items = (ItemSpec("CH1", 0, None, NAMES),)
        jobs.append(FileJob(str(path), path.name, LoadSettings(sample_rate_hz=1e5), items))
    return jobs


@pytest.fixture
def jobs(tmp_path: Path) -> list[FileJob]:
    return make_jobs(tmp_path / "caps")


@pytest.mark.parametrize("strategy", CPU_STRATEGIES)
def test_cpu_strategies_are_bit_identical_to_run_job(jobs, strategy) -> None:
    expected = [run_job(job) for job in jobs]
    got = measure_files(jobs, strategy, workers=2, chunk_size=3)
    assert got == expected  # dataclass equality: every float compared exactly
    assert [r.path for r in got] == [job.path for job in jobs]


def test_results_come_back_in_input_order_whatever_finishes_first(jobs, monkeypatch) -> None:
    import time

    from pytest_oscura.strategies import backends

    def slow_first(job: FileJob, *args: object) -> FileResult:
        if job is jobs[0]:
            time.sleep(0.2)
        return run_job(job)

    monkeypatch.setattr(backends, "run_job", slow_first)
    order: list[int] = []
    got = measure_files(jobs, "thread", workers=2, on_result=lambda i, r: order.append(i))
    assert [r.path for r in got] == [job.path for job in jobs]
    assert order[-1] == 0  # streamed as completed, not in input order
    assert sorted(order) == list(range(len(jobs)))


@pytest.mark.parametrize("strategy", [*CPU_STRATEGIES, "gpu"])
def test_on_result_is_called_once_per_job_with_its_result(jobs, strategy) -> None:
    seen: dict[int, FileResult] = {}

    def on_result(index: int, result: FileResult) -> None:
        assert index not in seen
        seen[index] = result

    xp = np if strategy == "gpu" else None
    got = measure_files(jobs, strategy, workers=2, chunk_size=4, on_result=on_result, xp=xp)
    assert [seen[i] for i in range(len(jobs))] == got


@pytest.mark.parametrize("strategy", [*CPU_STRATEGIES, "gpu"])
def test_a_bad_file_errors_alone(jobs, strategy) -> None:
    Path(jobs[3].path).write_bytes(b"not a capture")
    xp = np if strategy == "gpu" else None
    got = measure_files(jobs, strategy, workers=2, chunk_size=4, xp=xp)
    assert got[3].error == "cap_03.npy: not an NPY file (bad magic number)"
    assert all(r.error is None and r.items for i, r in enumerate(got) if i != 3)


def test_an_exception_while_measuring_becomes_that_files_error(jobs, monkeypatch) -> None:
    from pytest_oscura.strategies import backends

    def explode_on_2(job: FileJob, *args: object) -> FileResult:
        if job is jobs[2]:
            raise RuntimeError("boom\nsecond line")
        return run_job(job)

    monkeypatch.setattr(backends, "run_job", explode_on_2)
    for strategy in ("serial", "thread"):
        got = measure_files(jobs, strategy, workers=2)
        assert got[2] == FileResult(
            jobs[2].path, error="cap_02.npy: measuring failed (RuntimeError: boom)"
        )
        assert all(r.error is None for i, r in enumerate(got) if i != 2)


def test_an_unknown_measurement_is_that_files_error_in_every_strategy(jobs) -> None:
    bad = FileJob(
        jobs[1].path, jobs[1].display, jobs[1].settings, (ItemSpec("CH1", 0, None, ("nope",)),)
    )
    mixed = [jobs[0], bad, jobs[2]]
    errors = {
        strategy: measure_files(mixed, strategy, workers=2, xp=np if strategy == "gpu" else None)[
            1
        ].error
        for strategy in (*CPU_STRATEGIES, "gpu")
    }
    assert len(set(errors.values())) == 1, errors
    assert str(errors["serial"]).startswith("cap_01.npy: measuring failed (KeyError: ")


@pytest.mark.parametrize("strategy", ["serial", "thread"])
def test_chunking_bounds_the_jobs_in_flight(jobs, monkeypatch, strategy) -> None:
    in_flight = 0
    most = 0
    lock = threading.Lock()
    real = make_backend

    class Counting:
        def __init__(self, backend) -> None:
            self.inner, self.batch, self.name = backend, backend.batch, backend.name

        def submit(self, block):
            nonlocal in_flight, most
            with lock:
                in_flight += len(block)
                most = max(most, in_flight)
            return self.inner.submit(block)

        def result(self, job, future):
            nonlocal in_flight
            with lock:
                in_flight -= 1
            return self.inner.result(job, future)

        def close(self, *, cancel=False):
            self.inner.close(cancel=cancel)

    monkeypatch.setattr(batch_module, "make_backend", lambda *a: Counting(real(*a)))
    got = measure_files(jobs * 3, strategy, workers=2, chunk_size=3)
    assert len(got) == 27
    assert in_flight == 0
    assert most == 3  # never more than chunk_size submitted and not yet taken


def test_gpu_batch_with_numpy_matches_serial_within_1e_9(jobs) -> None:
    serial = measure_files(jobs, "serial")
    gpu = measure_files(jobs, "gpu", chunk_size=5, xp=np)
    assert [r.path for r in gpu] == [r.path for r in serial]
    for cpu_result, gpu_result in zip(serial, gpu, strict=True):
        assert gpu_result.items.keys() == cpu_result.items.keys()
        for name, item in cpu_result.items.items():
            assert gpu_result.items[name].units == item.units
            assert gpu_result.items[name].values == pytest.approx(item.values, rel=1e-9, abs=0)


def test_gpu_falls_back_to_the_cpu_with_one_warning_without_cupy(jobs, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", None)  # "import cupy" now raises ImportError
    assert probe_gpu() == (None, "CuPy is not installed (pip install 'pytest-oscura[gpu]')")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = measure_files(jobs, "gpu")
    assert [w.category for w in caught] == [GpuFallbackWarning]
    assert "CuPy is not installed" in str(caught[0].message)
    assert got == [run_job(job) for job in jobs]


def test_prefetcher_keeps_a_window_ahead_and_waits_for_the_asked_job(jobs) -> None:
    backend = make_backend("thread", 2, 3)
    prefetch = Prefetcher(jobs, backend, window=3)
    try:
        assert prefetch(jobs[0]) == run_job(jobs[0])
        assert prefetch.in_flight == 2  # jobs 1 and 2 measuring while job 0 is compared
        assert prefetch(jobs[1]) == run_job(jobs[1])
        assert prefetch.in_flight == 2
        assert prefetch(jobs[5]) == run_job(jobs[5])  # skipping ahead submits up to it
        assert prefetch(jobs[0]) == run_job(jobs[0])  # asked again: measured directly
        unknown = FileJob("elsewhere.npy", "elsewhere.npy", LoadSettings(), ())
        assert prefetch(unknown).error == "elsewhere.npy: no such file or directory"
    finally:
        prefetch.close(cancel=True)


def test_prefetcher_submits_gpu_batches_whole(jobs) -> None:
    backend = make_backend("gpu", 1, 4, np)
    prefetch = Prefetcher(jobs, backend, window=8)
    try:
        results = [prefetch(job) for job in jobs]
    finally:
        prefetch.close()
    assert [r.path for r in results] == [job.path for job in jobs]
    assert all(r.error is None for r in results)


class TestAuto:
    def test_xdist_worker_is_serial(self) -> None:
        plan = choose(n_files=1000, total_bytes=10**10, cpus=16, xdist_worker=True)
        assert plan.strategy == "serial"
        assert "xdist" in plan.reason

    def test_small_batch_is_serial(self) -> None:
        assert choose(n_files=28, total_bytes=10**6, cpus=2).strategy == "serial"
        assert choose(n_files=3, total_bytes=10**10, cpus=8).strategy == "serial"
        assert choose(n_files=100, total_bytes=10**10, cpus=1).strategy == "serial"

    def test_large_batch_uses_processes_one_per_cpu(self) -> None:
        plan = choose(n_files=200, total_bytes=1_600_000_000, cpus=2, gpu_available=False)
        assert (plan.strategy, plan.workers, plan.chunk_size) == ("process", 2, 8)
        assert choose(n_files=5, total_bytes=10**10, cpus=8, gpu_available=False).workers == 5

    def test_gpu_when_available_and_large(self) -> None:
        plan = choose(n_files=200, total_bytes=1_600_000_000, cpus=2, gpu_available=True)
        assert plan.strategy == "gpu"

    def test_work_estimate_decides_between_serial_and_process(self) -> None:
        strategies = [
            choose(n_files=200, total_bytes=10**8, work_seconds=s, cpus=2).strategy
            for s in (0.05, 1.0, 3.0)
        ]
        assert strategies == ["serial", "thread", "process"]

    def test_explicit_strategy_is_kept_and_bad_values_are_refused(self) -> None:
        assert choose("thread", 3, n_files=1, total_bytes=0).describe() == (
            "thread (3 workers, chunks of 12)"
        )
        with pytest.raises(ValueError, match="unknown strategy 'fast'"):
            choose("fast", n_files=1, total_bytes=0)
        with pytest.raises(ValueError, match="workers=0 must be at least 1"):
            choose("thread", 0, n_files=1, total_bytes=0)
