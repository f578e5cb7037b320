"""Print the README's strategy table, measured in one run on this machine.

    python -m benchmarks.compare_strategies                 # 50 captures × 100,000 samples
    python -m benchmarks.compare_strategies 200 1000000     # captures, samples per capture

Each row is the best of ``--rounds`` whole ``measure_files`` calls (pool start-up included);
"Processes (warm pool)" reuses one started pool to show what the start-up costs.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.dataset import DEFAULT_SIZE, jobs_for, write_dataset
from pytest_oscura.jobs import FileJob
from pytest_oscura.strategies import cpu_count, drive, make_backend, measure_files, probe_gpu


def best_of(rounds: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def table(jobs: list[FileJob], rounds: int) -> list[str]:
    rows: list[tuple[str, float | None]] = []
    for label, strategy in (("Serial", "serial"), ("Threads", "thread"), ("Processes", "process")):
        rows.append((label, best_of(rounds, functools.partial(measure_files, jobs, strategy))))
    backend = make_backend("process", cpu_count(), 4 * cpu_count())
    drive(jobs, backend, 4 * cpu_count())  # start the workers
    warm = best_of(rounds, lambda: drive(jobs, backend, 4 * cpu_count()))
    backend.close()
    rows.append(("Processes (warm pool)", warm))
    gpu_available = probe_gpu()[0] is not None
    gpu = best_of(rounds, lambda: measure_files(jobs, "gpu")) if gpu_available else None
    rows.append(("GPU", gpu))
    serial = rows[0][1]
    assert serial is not None
    lines = [f"{'Method':<22}{'Time (s)':>9}{'Speedup':>9}  Throughput (captures/s)"]
    for label, seconds in rows:
        if seconds is None:
            lines.append(f"{label:<22}{'n/a (no GPU)':>9}")
            continue
        lines.append(
            f"{label:<22}{seconds:>9.3f}{serial / seconds:>8.2f}x  {len(jobs) / seconds:>10.1f}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("captures", type=int, nargs="?", default=DEFAULT_SIZE[0])
    parser.add_argument("samples", type=int, nargs="?", default=DEFAULT_SIZE[1])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oscura-bench-") as folder:
        jobs = jobs_for(write_dataset(Path(folder), args.captures, args.samples))
        print(f"{args.captures} captures x {args.samples} samples, {cpu_count()} CPUs")
        print("\n".join(table(jobs, args.rounds)))


if __name__ == "__main__":
    main()
