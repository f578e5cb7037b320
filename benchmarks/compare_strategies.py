"""Print the README's strategy table, measured in one run on this machine.

    python -m benchmarks.compare_strategies                 # 50 captures × 100,000 samples
    python -m benchmarks.compare_strategies 200 1000000     # captures, samples per capture
    python -m benchmarks.compare_strategies --dask 200 1000000   # adds Dask vs processes

Each row is the best of ``--rounds`` whole ``measure_files`` calls (pool start-up included);
"Processes (warm pool)" reuses one started pool to show what the start-up costs.

``--dask`` adds a second table: a local Dask cluster of 2 worker processes (one thread each,
started once, as a cluster is: its start-up is printed, not counted) against the process pool
with 2 workers, on the same batch. "Dask" connects a client and measures through the ``dask``
strategy (``measure_files(..., "dask", scheduler=...)``); "Dask (connected client)" reuses one
connected backend, as "Processes (warm pool)" reuses a started pool.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def dask_table(jobs: list[FileJob], rounds: int, workers: int = 2) -> list[str]:
    """Dask on a local cluster of ``workers`` processes against a process pool of as many."""
    from distributed import LocalCluster

    start = time.perf_counter()
    cluster_type: Any = LocalCluster  # distributed's constructor has no annotations
    cluster = cluster_type(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )
    started = time.perf_counter() - start
    try:
        address = cluster.scheduler_address
        measure_files(jobs[:workers], "dask", scheduler=address)  # workers import the engine
        dask = best_of(rounds, lambda: measure_files(jobs, "dask", scheduler=address))
        client = make_backend("dask", workers, 4 * workers, scheduler=address)
        connected = best_of(rounds, lambda: drive(jobs, client, 4 * workers))
        client.close()
    finally:
        cluster.close()
    window = 4 * workers
    pool = best_of(rounds, lambda: measure_files(jobs, "process", workers, window))
    backend = make_backend("process", workers, window)
    drive(jobs, backend, window)
    warm = best_of(rounds, lambda: drive(jobs, backend, window))
    backend.close()
    lines = [
        f"Dask vs processes, {workers} workers each (local cluster started in {started:.1f} s, "
        "not counted)",
        f"{'Method':<30}{'Time (s)':>9}  vs processes  vs warm pool",
    ]
    for label, seconds in (
        (f"Processes ({workers} workers)", pool),
        (f"Processes ({workers}, warm pool)", warm),
        (f"Dask ({workers} local workers)", dask),
        ("Dask (connected client)", connected),
    ):
        lines.append(
            f"{label:<30}{seconds:>9.3f}  {pool / seconds:>11.2f}x  {warm / seconds:>10.2f}x"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("captures", type=int, nargs="?", default=DEFAULT_SIZE[0])
    parser.add_argument("samples", type=int, nargs="?", default=DEFAULT_SIZE[1])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--dask", action="store_true", help="add Dask (2 local workers) vs processes"
    )
    parser.add_argument("--only-dask", action="store_true", help="only the Dask table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oscura-bench-") as folder:
        jobs = jobs_for(write_dataset(Path(folder), args.captures, args.samples))
        print(f"{args.captures} captures x {args.samples} samples, {cpu_count()} CPUs")
        if not args.only_dask:
            print("\n".join(table(jobs, args.rounds)))
        if args.dask or args.only_dask:
            print("\n".join(dask_table(jobs, args.rounds)))


if __name__ == "__main__":
    main()
