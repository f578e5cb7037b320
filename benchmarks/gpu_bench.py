"""The GPU strategy against the process pool, with the host-to-device bandwidth of the same run.

    python -m benchmarks.gpu_bench                        # 200 captures × 1,000,000 samples
    python -m benchmarks.gpu_bench --captures 50 --samples 100000 --rounds 1

Needs CuPy and a CUDA device (``benchmarks/gpu_check.sh`` installs and runs everything). Writes
noisy square-wave ``.npy`` captures (``benchmarks.dataset``, float64: 8 bytes a sample) to a
temporary folder, then, best of ``--rounds`` after one untimed warm-up (CUDA context, cuFFT
plans, kernel compilation):

* ``measure_files(jobs, "process")``: a pool of one process per CPU, pool start included;
* ``measure_files(jobs, "gpu")``: files loaded on the CPU (one thread per CPU), stacked, measured
  on the device, batches of ``--chunk`` files;
* the host-to-device bandwidth, ``cupy.asarray`` of a 256 MiB pageable numpy array (what the
  strategy does), and of a pinned one (the hardware's rate).

Throughput is in GB/s of input, the captures' samples as stored. The transfers per stack are
counted on one batch, and the GPU's values are compared with the CPU's.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.dataset import jobs_for, write_dataset
from pytest_oscura.jobs import FileJob, FileResult
from pytest_oscura.strategies import cpu_count, measure_files, probe_gpu


def best_of(rounds: int, run: Callable[[], object]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(rounds):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def bandwidth(cupy: Any, nbytes: int = 256 * 2**20) -> tuple[float, float]:
    """Host-to-device GB/s from a pageable and from a pinned numpy array of ``nbytes``."""
    host = np.ones(nbytes // 8)
    pinned_memory = cupy.cuda.alloc_pinned_memory(nbytes)
    pinned = np.frombuffer(pinned_memory, np.float64, nbytes // 8)
    pinned[:] = 1.0
    rates = []
    for source in (host, pinned):
        device = cupy.empty(source.shape, dtype=source.dtype)
        device.set(source)  # warm-up
        cupy.cuda.runtime.deviceSynchronize()
        seconds = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            device.set(source)
            cupy.cuda.runtime.deviceSynchronize()
            seconds = min(seconds, time.perf_counter() - start)
        rates.append(nbytes / seconds / 1e9)
    return rates[0], rates[1]


def compare(cpu: list[FileResult], gpu: list[FileResult]) -> tuple[int, float, int]:
    """Values compared, the largest relative difference, captures measured on the CPU."""
    compared, worst, fallbacks = 0, 0.0, 0
    for expected, found in zip(cpu, gpu, strict=True):
        for name, item in expected.items.items():
            other = found.items[name]
            fallbacks += other.measured_on != "gpu"
            for key, value in item.values.items():
                got = other.values.get(key)
                if value is None or got is None or not value:
                    continue
                compared += 1
                worst = max(worst, abs(got - value) / abs(value))
    return compared, worst, fallbacks


def transfers_per_stack(jobs: list[FileJob], cupy: Any) -> str:
    from pytest_oscura.measurements.batch import Device
    from pytest_oscura.strategies.gpu import measure_batch

    device = Device(cupy)
    measure_batch(jobs, cupy, load_workers=cpu_count(), device=device)
    t = device.transfers
    return (
        f"{t.to_device} up ({t.bytes_to_device / 1e6:.0f} MB), {t.to_host} down "
        f"({t.bytes_to_host / 1e6:.1f} MB) for one stack of {len(jobs)} captures"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=200)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=None, help="files per GPU batch")
    parser.add_argument("--tests", default="", help="the on-device tests' result, for the table")
    args = parser.parse_args()
    cupy, why = probe_gpu()
    if cupy is None:
        raise SystemExit(f"no GPU: {why}")
    device_name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    with tempfile.TemporaryDirectory(prefix="oscura-gpu-bench-") as folder:
        jobs = jobs_for(write_dataset(Path(folder), args.captures, args.samples))
        input_gb = args.captures * args.samples * 8 / 1e9
        measure_files(jobs[: min(len(jobs), 8)], "gpu", chunk_size=args.chunk)  # warm-up
        gpu_s, gpu = best_of(args.rounds, lambda: measure_files(jobs, "gpu", chunk_size=args.chunk))
        process_s, cpu = best_of(args.rounds, lambda: measure_files(jobs, "process"))
        pageable, pinned = bandwidth(cupy)
        compared, worst, fallbacks = compare(cpu, gpu)
        stack = transfers_per_stack(jobs[: args.chunk or 32], cupy)
    rows = [
        ("device", f"{device_name}, CuPy {cupy.__version__}, {cpu_count()} CPUs"),
        ("batch", f"{args.captures} captures x {args.samples:,} samples ({input_gb:.2f} GB)"),
        ("on-device tests", args.tests or "not run"),
        ("process pool", f"{process_s:7.3f} s {input_gb / process_s:7.2f} GB/s of input"),
        ("gpu strategy", f"{gpu_s:7.3f} s {input_gb / gpu_s:7.2f} GB/s, {process_s / gpu_s:.2f}x"),
        ("host->device", f"{pageable:6.2f} GB/s pageable, {pinned:6.2f} GB/s pinned (256 MiB)"),
        ("transfers", stack),
        ("gpu vs cpu", f"{compared} values, largest relative difference {worst:.1e}"),
        ("fallbacks", f"{fallbacks} capture(s) measured on the CPU"),
    ]
    width = max(len(label) for label, _ in rows)
    rule = "-" * (width + 64)
    print(rule)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print(rule)
    if fallbacks:
        raise SystemExit("the GPU fell back to the CPU: see the warnings above")


if __name__ == "__main__":
    main()
