"""The GPU strategy's code path on the CPU: numpy (or numpy dressed as CuPy) as the device.

Batched work must give what measuring each capture alone gives, with one copy of each stack to
the device (integers as integers) and two back; a failure on the device is never silent; the
per-capture time limit applies to GPU batches.
"""

from __future__ import annotations

import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from pytest_oscura.jobs import FileJob, FileResult, ItemSpec
from pytest_oscura.measurements import batch as batch_module
from pytest_oscura.measurements.batch import Device
from pytest_oscura.strategies import GpuFallbackWarning, make_backend, measure_files
from pytest_oscura.strategies.gpu import measure_batch
from tests._gpu_captures import FakeCupy, serial_results, write_captures

N = 20_000


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> list[FileJob]:
    return write_captures(tmp_path_factory.mktemp("gpu"), N)


@pytest.fixture(scope="module")
def serial(captures: list[FileJob]) -> dict[str, FileResult]:
    return serial_results(captures)


def _assert_same(got: list[FileResult], serial: dict[str, FileResult], measured_on: str) -> None:
    for result in got:
        expected = serial[result.path]
        assert result.error is None, result.error
        assert result.items.keys() == expected.items.keys()
        for name, item in expected.items.items():
            found = result.items[name]
            assert found.measured_on == measured_on, (result.path, name, found.gpu_fallback)
            assert found.units == item.units
            assert found.not_applicable.keys() == item.not_applicable.keys()
            # The stated tolerance of the numpy path; every value here is in fact identical.
            numbers = {k: v for k, v in item.values.items() if v is not None}
            assert {k: found.values[k] for k in numbers} == pytest.approx(numbers, rel=1e-9, abs=0)


class TestBatchedEqualsAlone:
    def test_the_full_default_set_of_every_kind_of_capture(self, captures, serial) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = measure_batch(captures, np)
        _assert_same(got, serial, "gpu")
        for result in got:  # in fact bit for bit, the not-applicable reasons too
            for name, item in result.items.items():
                assert item.measured == serial[result.path].items[name].measured

    def test_on_a_namespace_that_is_not_numpy(self, captures, serial) -> None:
        got = measure_batch(captures, FakeCupy())  # asnumpy for every copy back, as CuPy
        for result in got:
            for name, item in result.items.items():
                assert item.measured_on == "gpu"
                assert item.measured == serial[result.path].items[name].measured

    def test_through_measure_files_in_chunks(self, captures, serial) -> None:
        got = measure_files(captures, "gpu", chunk_size=4, xp=np)
        _assert_same(got, serial, "gpu")


class TestTransfers:
    def test_one_copy_of_each_stack_up_as_stored_and_two_down(self, captures) -> None:
        xp = FakeCupy()
        device = Device(xp)
        results = measure_batch(captures, xp, device=device)
        assert all(r.error is None for r in results)
        # Stacks by length, dtype and scaling: 9 float64 captures, 2 logic channels (uint8),
        # 1 int16 .npy, 2 channels of a 16-bit .wav (int16, another scaling): integers travel
        # as integers.
        assert sorted(xp.uploads) == sorted(
            [((9, N), "<f8"), ((2, N), "|u1"), ((1, N), "<i2"), ((2, N), "<i2")]
        )
        assert device.transfers.to_device == 4
        # Per stack: the batched results, then the transition scans; and for the one capture
        # with a glitch 3000 amplitudes away, its histogram re-passes (two at this length), one
        # copy each.
        assert device.transfers.to_host == 4 * 2 + 2
        assert len(xp.downloads) == device.transfers.to_host
        assert xp.scalar_reads == 0  # no hidden synchronising reads of device values

    def test_the_basic_statistics_need_one_copy_back(self, captures) -> None:
        basic = ("mean", "rms", "ac_rms", "min", "max", "vpp")
        jobs = [
            FileJob(j.path, j.display, j.settings, (ItemSpec("CH1", 0, None, basic),))
            for j in captures[:4]
        ]
        xp = FakeCupy()
        device = Device(xp)
        measure_batch(jobs, xp, device=device)
        assert (device.transfers.to_device, device.transfers.to_host) == (1, 1)
        assert xp.downloads == [((4, 5), "<f8")]


class TestFallbackIsLoud:
    def test_a_failing_stack_is_measured_on_the_cpu_and_says_why(
        self, captures, serial, monkeypatch
    ) -> None:
        def out_of_memory(*args: object) -> None:
            raise MemoryError("Out of memory allocating 1,048,576 bytes\nsecond line")

        monkeypatch.setattr(batch_module, "_shared", out_of_memory)
        with pytest.warns(GpuFallbackWarning, match=r"\d+ capture\(s\) measured on the CPU") as w:
            got = measure_files(captures, "gpu", xp=np)
        assert len(w) == 1
        _assert_same(got, serial, "cpu")
        reasons = {item.gpu_fallback for r in got for item in r.items.values()}
        assert reasons == {"MemoryError: Out of memory allocating 1,048,576 bytes"}

    def test_one_failing_capture_falls_back_alone(self, captures, serial, monkeypatch) -> None:
        from pytest_oscura.measurements import measure_signal as real

        def fails_on_the_ramp(signal, names):
            if signal.maximum == pytest.approx((N - 1) / N):
                raise RuntimeError("CUDA_ERROR_ILLEGAL_ADDRESS")
            return real(signal, names)

        monkeypatch.setattr(batch_module, "measure_signal", fails_on_the_ramp)
        got = measure_batch(captures, np)
        fallen = [
            (Path(r.path).name, name, item.gpu_fallback)
            for r in got
            for name, item in r.items.items()
            if item.measured_on == "cpu"
        ]
        assert fallen == [("ramp.npy", "CH1", "RuntimeError: CUDA_ERROR_ILLEGAL_ADDRESS")]
        for result in got:
            for name, item in result.items.items():
                assert item.measured == serial[result.path].items[name].measured

    def test_a_capture_the_cpu_cannot_measure_either_is_its_files_error(
        self, captures, monkeypatch
    ) -> None:
        def broken(signal, names):
            raise ZeroDivisionError("a bug in a measurement")

        monkeypatch.setattr(batch_module, "measure_signal", broken)
        monkeypatch.setattr("pytest_oscura.measurements.measure_signal", broken)
        got = measure_batch(captures[:2], np)
        assert [r.error for r in got] == [
            f"{j.display}: measuring failed (ZeroDivisionError: a bug in a measurement)"
            for j in captures[:2]
        ]


class TestTimeLimit:
    def test_a_stuck_batch_times_out_and_the_next_one_runs(self, captures, monkeypatch) -> None:
        from pytest_oscura.strategies import gpu

        real = gpu.measure_batch

        def first_batch_hangs(jobs, xp, load_workers=1):
            if jobs[0] is captures[0]:
                time.sleep(3.5)
            return real(jobs, xp, load_workers)

        monkeypatch.setattr(gpu, "measure_batch", first_batch_hangs)
        monkeypatch.setattr("pytest_oscura.strategies.backends.STUCK_GRACE_S", 0.2)
        backend = make_backend("gpu", 1, 2, np, timeout_s=0.5)
        try:
            first = backend.submit(captures[:2])
            second = backend.submit(captures[2:4])
            start = time.monotonic()
            results = [backend.result(job, f) for job, f in zip(captures[:2], first, strict=True)]
            assert time.monotonic() - start < 2.5  # 2 files × 0.5 s + grace, not 3.5 s
            assert [r.error for r in results] == [
                f"{j.display}: timed out after 0.5 s" for j in captures[:2]
            ]
            later = [backend.result(job, f) for job, f in zip(captures[2:4], second, strict=True)]
            assert all(r.error is None for r in later)
        finally:
            backend.close(cancel=True)

    def test_no_limit_waits_for_the_batch(self, captures) -> None:
        backend = make_backend("gpu", 1, 2, np)
        try:
            futures = backend.submit(captures[:2])
            assert all(
                backend.result(j, f).error is None
                for j, f in zip(captures[:2], futures, strict=True)
            )
        finally:
            backend.close()


def test_a_capture_whose_range_overflows_leaves_its_stack_on_the_device(
    tmp_path: Path, captures
) -> None:
    # Finite samples of ±1e308 (their range overflows a float) in the same stack as others:
    # that capture's levels are not applicable, as measured alone; the others stay on the GPU.
    from pytest_oscura.jobs import run_job

    wide = np.zeros(N)
    wide[::2], wide[1::2] = 1e308, -1e308
    path = tmp_path / "wide.npy"
    np.save(path, wide)
    jobs = [FileJob(str(path), path.name, captures[0].settings, captures[0].items), captures[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no GpuFallbackWarning
        got = measure_batch(jobs, np)
    alone = [run_job(job) for job in jobs]
    for result, expected in zip(got, alone, strict=True):
        (item,) = result.items.values()
        assert item.measured_on == "gpu"
        assert item.measured == next(iter(expected.items.values())).measured
    (wide_item,) = got[0].items.values()
    assert wide_item.not_applicable["top"] == "sample range overflows a float"


def test_closing_with_a_stuck_batch_keeps_to_the_time_limit(captures, monkeypatch) -> None:
    # -x or --maxfail: the run stops with a batch in flight and asks for none of its results;
    # closing waits for the batch's limit (2 files x 0.5 s + grace), not for the stuck call.
    from pytest_oscura.strategies import gpu

    release = threading.Event()
    real = gpu.measure_batch

    def stuck(jobs, xp, load_workers=1):
        release.wait(10)
        return real(jobs, xp, load_workers)

    monkeypatch.setattr(gpu, "measure_batch", stuck)
    monkeypatch.setattr("pytest_oscura.strategies.backends.STUCK_GRACE_S", 0.2)
    backend = make_backend("gpu", 1, 2, np, timeout_s=0.5)
    futures = backend.submit(captures[:2])
    start = time.monotonic()
    try:
        backend.close()
        assert time.monotonic() - start < 5  # 1.2 s limit; the stuck call would take 10 s
        assert [f.result().error for f in futures] == [
            f"{j.display}: timed out after 0.5 s" for j in captures[:2]
        ]
    finally:
        release.set()
