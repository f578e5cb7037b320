"""On a CUDA device (CuPy): the GPU strategy measures the full default set as the CPU does.

Skipped, with the reason, without CuPy or a device; ``benchmarks/gpu_check.sh`` runs these on a
GPU machine (``pytest -m gpu``). The CPU side of the same code is tested with numpy as the
array namespace in ``tests/unit/test_gpu_batch.py``, where the results are bit for bit the
CPU's.

On a device the sums run in another order (CuPy's reductions, atomic ``bincount``) and the FFT
is cuFFT's, so values differ in their last digits. The stated tolerances, per measurement
(``scale`` is the capture's largest absolute sample value):

================================================  =====================================
mean, rms, ac_rms, min, max, vpp                  1e-12 relative, or 1e-12 · scale
top, base, amplitude                              1e-9 · scale
overshoot, undershoot (% of amplitude)            1e-6 (percentage points)
frequency, period, duty_cycle, pulse_width,       1e-9 relative
rise_time, fall_time
edge_count                                        exact
thd, snr, sinad, sfdr (dB, dBc); enob (bits)      1e-6
================================================  =====================================

and every capture must have the same measurements not applicable, with the same reasons.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from pytest_oscura.captures import load_capture
from pytest_oscura.jobs import FileJob, FileResult
from pytest_oscura.measurements.batch import Device
from pytest_oscura.strategies import GpuFallbackWarning, measure_files, probe_gpu
from pytest_oscura.strategies.gpu import measure_batch
from tests._gpu_captures import serial_results, write_captures

with warnings.catch_warnings():
    warnings.simplefilter("default")  # CuPy's import-time notices (no CUDA_PATH) are no failure
    CUPY, WHY = probe_gpu()
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(CUPY is None, reason=f"needs CuPy and a CUDA device: {WHY}"),
]

N = 1_000_000
STATS = {"mean", "rms", "ac_rms", "min", "max", "vpp"}
LEVELS = {"top", "base", "amplitude"}
PERCENT = {"overshoot", "undershoot"}
TIMES = {"frequency", "period", "duty_cycle", "pulse_width", "rise_time", "fall_time"}
DECIBELS = {"thd", "snr", "sinad", "sfdr", "enob"}


def tolerance(name: str, scale: float) -> tuple[float, float]:
    """(relative, absolute) tolerance of measurement ``name`` (see the module docstring)."""
    if name in STATS:
        return 1e-12, 1e-12 * scale
    if name in LEVELS:
        return 0.0, 1e-9 * scale
    if name in PERCENT or name in DECIBELS:
        return 0.0, 1e-6
    if name in TIMES:
        return 1e-9, 0.0
    return 0.0, 0.0  # edge_count, and anything else: exact


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> list[FileJob]:
    return write_captures(tmp_path_factory.mktemp("on-device"), N)


@pytest.fixture(scope="module")
def cpu(captures: list[FileJob]) -> dict[str, FileResult]:
    return serial_results(captures)


def _scale(job: FileJob) -> float:
    return max(float(np.max(np.abs(c.samples))) for c in load_capture(Path(job.path), job.settings))


def test_the_full_default_set_matches_the_cpu(captures, cpu) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", GpuFallbackWarning)  # a fallback would warn: none here
        got = measure_files(captures, "gpu", chunk_size=len(captures))
    compared = 0
    for job, result in zip(captures, got, strict=True):
        expected = cpu[job.path]
        assert result.error is None, result.error
        scale = _scale(job)
        for name, item in expected.items.items():
            found = result.items[name]
            assert (found.measured_on, found.gpu_fallback) == ("gpu", None)
            assert found.not_applicable == item.not_applicable, (job.display, name)
            for measurement, value in item.values.items():
                if value is None:
                    continue
                rel, absolute = tolerance(measurement, scale)
                assert found.values[measurement] == pytest.approx(value, rel=rel, abs=absolute), (
                    job.display,
                    name,
                    measurement,
                )
                compared += 1
    assert compared > 150  # pulses, tones, logic and integer captures all measured


def test_one_copy_of_each_stack_to_the_device_as_stored_and_two_back(captures) -> None:
    assert CUPY is not None
    device = Device(CUPY)
    results = measure_batch(captures, CUPY, device=device)
    assert all(r.error is None for r in results)
    # 9 float64 captures, 2 logic channels (uint8), an int16 .npy, a stereo 16-bit .wav
    assert device.transfers.to_device == 4
    assert device.transfers.bytes_to_device == N * (9 * 8 + 2 * 1 + 1 * 2 + 2 * 2)
    # two per stack, and one per histogram re-pass (at most three) of the capture with a glitch
    # far outside its waveform
    assert 4 * 2 < device.transfers.to_host <= 4 * 2 + 3
