"""Which strategy measures a batch: the names, the GPU probe and the ``auto`` rule. Pure.

Importing this module is cheap (no numpy, no CuPy): the plugin's options import it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

AUTO = "auto"
STRATEGIES: tuple[str, ...] = ("serial", "thread", "process", "gpu")
# Strategies that need a cluster someone else runs: only ever chosen by name, never by auto.
CLUSTER_STRATEGIES: tuple[str, ...] = ("dask",)
CHOICES: tuple[str, ...] = (AUTO, *STRATEGIES, *CLUSTER_STRATEGIES)

# The auto rule's constants (see :func:`choose`), measured through the plugin with
# ``python -m benchmarks.plugin_strategies`` (each strategy as a fresh pytest run, net of
# --collect-only, best of N) on the project's 2-CPU machine with the default measurement set.
# That script fits "net time = start-up + seconds per byte × bytes" per strategy and prints
# these constants: paste its last three lines here to recalibrate for another machine.
#
# Serial cost per byte of capture file (load + measure): binary formats 3.6 ns (7 ns before the
# allocator was tuned, strategies/worker.py), CSV (parsed text) about 15 ns. Threads start for
# free and beat serial from about 0.1 s of work; a process pool starts during collection but
# still costs about 0.3 s of CPU (its fork server imports numpy and the engine), and passes
# threads from about 1.5 s of work (measured between 0.7 s, where threads won, and 2.9 s).
PROCESS_MIN_SECONDS = 1.5
THREAD_MIN_SECONDS = 0.1
PROCESS_MIN_FILES = 4
GPU_MIN_BYTES = 256 * 2**20
DEFAULT_GPU_CHUNK = 32
SECONDS_PER_BYTE = {".csv": 15e-9}
DEFAULT_SECONDS_PER_BYTE = 3.6e-9


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def probe_gpu() -> tuple[Any | None, str]:
    """``(cupy, description)`` when CuPy imports and sees a CUDA device, else ``(None, why)``.

    Never raises: a missing CuPy, a broken CUDA install or a machine without a device are all
    answers, not errors.
    """
    try:
        import cupy
    except ImportError:
        return None, "CuPy is not installed (pip install 'pytest-oscura[gpu]')"
    except Exception as exc:  # a CuPy that fails to import (driver mismatch) is no GPU either
        return None, f"CuPy failed to import ({type(exc).__name__}: {exc})"
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:
        return None, f"no usable CUDA device ({type(exc).__name__}: {exc})"
    if count < 1:
        return None, "no CUDA device"
    return cupy, f"CuPy {cupy.__version__}, {count} CUDA device(s)"


@functools.cache
def gpu_installed() -> bool:
    """Whether a CuPy package is importable at all, without importing it (cheap; once, as
    the run's collection asks for every file it collects)."""
    import importlib.util

    return importlib.util.find_spec("cupy") is not None


@dataclass(frozen=True)
class Plan:
    """A chosen strategy: its name, how many workers, the window of jobs in flight, and why."""

    strategy: str
    workers: int
    chunk_size: int
    reason: str

    def describe(self) -> str:
        if self.strategy in ("thread", "process"):
            return f"{self.strategy} ({self.workers} workers, chunks of {self.chunk_size})"
        if self.strategy == "gpu":
            return f"gpu (batches of {self.chunk_size} files)"
        if self.strategy == "dask":
            return f"dask ({self.workers} worker threads, {self.chunk_size} files in flight)"
        return self.strategy


def default_chunk(strategy: str, workers: int) -> int:
    """Jobs in flight at once: four per pool worker keeps each busy; a GPU batch is bigger."""
    if strategy == "gpu":
        return DEFAULT_GPU_CHUNK
    if strategy == "serial":
        return 1
    return max(4 * workers, 2)


def choose(
    requested: str = AUTO,
    workers: int | None = None,
    chunk_size: int | None = None,
    *,
    n_files: int,
    total_bytes: int,
    work_seconds: float | None = None,
    cpus: int | None = None,
    gpu_available: bool | None = None,
    xdist_worker: bool = False,
) -> Plan:
    """Resolve ``requested`` (a strategy or ``"auto"``) into a :class:`Plan` for one batch.

    The ``auto`` rule, first match wins:

    1. inside a pytest-xdist worker: ``serial`` (xdist already runs one process per CPU; a pool
       in each worker would oversubscribe the machine N × M times);
    2. fewer than :data:`PROCESS_MIN_FILES` files, or one CPU: ``serial``;
    3. a usable CUDA device with CuPy, and at least :data:`GPU_MIN_BYTES` (256 MiB) of capture
       files: ``gpu``;
    4. an estimated serial time of at least :data:`PROCESS_MIN_SECONDS` (1.5 s; about 420 MB
       of ``.npy`` files or 100 MB of CSV, see :func:`batch_size`): ``process``, one worker
       per CPU (capped at the number of files);
    5. an estimated serial time of at least :data:`THREAD_MIN_SECONDS` (0.1 s): ``thread``
       (numpy releases the GIL in its large loops; threads cost nothing to start);
    6. otherwise ``serial``: the batch is done before a pool would pay for itself.

    ``auto`` never picks ``dask`` (:data:`CLUSTER_STRATEGIES`): a cluster is something a user
    runs and names (``--oscura-dask-scheduler``), not a property of this machine.

    Processes cost a fork server's start (about 0.3 s of CPU, during collection) but do not
    share the GIL, so they win over threads on long batches and where measuring is
    Python-heavy (CSV parsing). The estimate and the choice are in :attr:`Plan.reason`, which
    the plugin prints at the end of collection.

    ``gpu_available`` is probed (:func:`probe_gpu`) only when rule 3 could apply, so a small run
    never pays for importing CuPy. An explicitly requested strategy is kept as is (the GPU
    fallback happens where the batch is measured, with a warning).

    Args:
        requested: one of :data:`CHOICES`.
        workers: pool size for ``thread``/``process``; default one per CPU.
        chunk_size: jobs in flight at once (a GPU batch); default from :func:`default_chunk`.
        n_files: number of capture files in the batch.
        total_bytes: their total size on disk, in bytes.
        work_seconds: estimated serial measuring time; default from ``total_bytes`` at
            :data:`DEFAULT_SECONDS_PER_BYTE`.
        cpus: CPUs available; default :func:`cpu_count`.
        gpu_available: whether the GPU strategy can run; default probed when needed.
        xdist_worker: whether this process is a pytest-xdist worker.
    """
    if requested not in CHOICES:
        raise ValueError(f"unknown strategy {requested!r}; choose one of {', '.join(CHOICES)}")
    if workers is not None and workers < 1:
        raise ValueError(f"{workers=} must be at least 1")
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"{chunk_size=} must be at least 1")
    cpus = cpus or cpu_count()
    if requested != AUTO:
        strategy, reason = requested, "as requested"
    else:
        if work_seconds is None:
            work_seconds = total_bytes * DEFAULT_SECONDS_PER_BYTE
        strategy, reason = _auto(
            n_files, total_bytes, work_seconds, cpus, gpu_available, xdist_worker
        )
    size = workers or max(1, min(cpus, n_files))
    if strategy == "serial":
        size = 1
    return Plan(strategy, size, chunk_size or default_chunk(strategy, size), reason)


def _auto(
    n_files: int,
    total_bytes: int,
    work_seconds: float,
    cpus: int,
    gpu_available: bool | None,
    xdist_worker: bool,
) -> tuple[str, str]:
    mib = total_bytes / 2**20
    files = f"{n_files} file" + ("" if n_files == 1 else "s")
    size = f"{mib:.0f} MiB" if mib >= 1 else f"{total_bytes / 2**10:.0f} KiB"
    batch = f"{files}, {size}, about {work_seconds:.1f} s serial"
    if xdist_worker:
        return "serial", "inside an xdist worker (xdist already uses the CPUs)"
    if n_files < PROCESS_MIN_FILES or cpus < 2:
        return "serial", f"{batch}, {cpus} CPU(s): too small to share out"
    if total_bytes >= GPU_MIN_BYTES:
        if gpu_available is None:
            gpu_available = gpu_installed() and probe_gpu()[0] is not None
        if gpu_available:
            return "gpu", f"{batch} and a CUDA device"
    if work_seconds >= PROCESS_MIN_SECONDS:
        return "process", f"{batch}, {cpus} CPUs"
    if work_seconds >= THREAD_MIN_SECONDS:
        return "thread", f"{batch}, {cpus} CPUs: too short to pay for starting processes"
    return "serial", f"{batch}: too short to pay for a pool"


def early_pool(
    requested: str,
    *,
    n_files: int,
    total_bytes: int,
    work_seconds: float,
    cpus: int | None = None,
    xdist_worker: bool = False,
) -> bool:
    """Whether to start the process pool now, while collection still runs.

    For ``process`` asked by name, always; for ``auto``, as soon as the files collected so far
    make :func:`choose` pick ``process`` (the batch only grows while collecting), unless CuPy is
    installed (the GPU might win once the batch is complete). The choice after collection still
    decides: a pool it does not want is shut down unused.
    """
    if requested == "process":
        return True
    if requested != AUTO or gpu_installed():
        return False
    strategy, _ = _auto(
        n_files, total_bytes, work_seconds, cpus or cpu_count(), False, xdist_worker
    )
    return strategy == "process"


def file_cost(path: str) -> tuple[int, float]:
    """Size on disk of ``path`` in bytes (0 if missing) and its estimated serial measuring
    seconds, at its format's cost per byte (:data:`SECONDS_PER_BYTE`)."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return 0, 0.0
    suffix = os.path.splitext(path)[1].lower()
    return size, size * SECONDS_PER_BYTE.get(suffix, DEFAULT_SECONDS_PER_BYTE)


def batch_size(paths: Iterable[str]) -> tuple[int, float]:
    """Total size on disk of ``paths`` in bytes, and the estimated serial measuring seconds
    (:func:`file_cost` summed)."""
    total, seconds = 0, 0.0
    for path in paths:
        size, cost = file_cost(path)
        total += size
        seconds += cost
    return total, seconds
