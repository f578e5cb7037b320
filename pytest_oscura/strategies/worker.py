"""What a measuring process sets up once: its allocator, and how pool workers start. Pure.

Two costs measured through the plugin on the project's 2-core machine (``docs/ARCHITECTURE.md``,
"Speed"), each fixed here:

* **Fresh pages for every temporary.** The engine's temporaries of a 1,000,000-sample capture
  are 8 MB arrays. glibc's malloc gives such blocks back to the kernel when they are freed
  (its mmap and trim thresholds adapt to a few MB), so the next capture faults every page in
  again, zero-filled by the kernel: 7,000 page faults and about 45 % of the CPU time of a
  capture was kernel time. :func:`tune_allocator` raises both thresholds (``mallopt``) so
  freed blocks are reused; the capture then costs about half the CPU time, and measuring
  threads no longer serialise on the process's page-table lock.
* **Starting workers.** A ``spawn`` worker is a new interpreter that imports numpy, this
  package and, under the ``pytest`` console script, pytest itself (``multiprocessing`` runs
  the parent's ``__main__`` in every child): about 0.3 s of CPU per worker, on the CPUs the
  batch is waiting for. :func:`pool_context` uses a ``forkserver`` where the platform has one:
  one server process imports all that once, and each worker is a fork of it, ready in
  milliseconds. The server is a fresh interpreter, not a fork of the parent, so it is as safe
  after CUDA was initialised in the parent as ``spawn`` is (PITFALLS 11).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from multiprocessing.context import BaseContext

#: glibc ``mallopt`` parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: The largest mmap threshold glibc accepts on 64-bit systems: blocks up to 32 MiB (4 Mi
#: float64 samples) come from the heap and are reused.
MMAP_THRESHOLD = 32 * 2**20
#: Free memory at the top of the heap kept for reuse instead of returned to the kernel.
TRIM_THRESHOLD = 256 * 2**20
#: What the fork server imports once, so that every worker forked from it starts ready.
PRELOAD = ("pytest_oscura.strategies._preload",)

_tuned: bool | None = None


def tune_allocator() -> bool:
    """Make glibc's malloc reuse large freed blocks in this process; whether it could.

    A no-op (``False``) where the C library is not glibc (macOS, Windows, musl). Idempotent.
    The memory a run holds at its peak stays held until the process ends instead of going back
    to the kernel between captures, up to :data:`TRIM_THRESHOLD` per malloc arena.
    """
    global _tuned
    if _tuned is None:
        _tuned = _mallopt()
    return _tuned


def _mallopt() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(
            libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
            and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        )
    except (OSError, AttributeError):
        return False


def pool_context() -> BaseContext:
    """The ``multiprocessing`` context of the process pool: ``forkserver`` (with
    :data:`PRELOAD`) where available, else ``spawn``. Never ``fork`` (PITFALLS 11)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # "__main__" first, as multiprocessing's own default: the server runs the parent's main
        # script once (the pytest console script imports pytest), so no worker runs it again.
        context.set_forkserver_preload(["__main__", *PRELOAD])
        return context
    return multiprocessing.get_context("spawn")


def init_worker() -> None:
    """A pool worker's initializer: leave Ctrl-C to the parent, tune the allocator, and load
    :data:`PRELOAD` (already loaded where the worker was forked from the server)."""
    # Ctrl-C goes to the whole process group: let only the parent handle it (it cancels what
    # is queued and shuts the pool down), so no worker dies half-way and hangs the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tune_allocator()
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)


def ready() -> int:
    """A no-op task: submitting one per worker starts them all before the first capture."""
    return os.getpid()
