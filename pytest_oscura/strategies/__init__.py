"""Execution strategies: how a batch of capture files is measured. Pure: no pytest import.

``serial`` (this thread), ``thread`` (a thread pool), ``process`` (a process pool forked from a
fork server, ``spawn`` where there is none) and ``gpu`` (CuPy: equal-length captures stacked and
measured on the device) all produce the same :class:`~pytest_oscura.jobs.FileResult` per file,
in input order; ``auto`` picks one from the machine and the batch (:func:`choose`).

>>> from pytest_oscura.strategies import measure_files
>>> results = measure_files([], strategy="thread")
>>> results
[]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_oscura.strategies.choice import (
    AUTO,
    CHOICES,
    STRATEGIES,
    Plan,
    batch_size,
    choose,
    cpu_count,
    probe_gpu,
)

if TYPE_CHECKING:
    from pytest_oscura.strategies.backends import Backend, make_backend
    from pytest_oscura.strategies.batch import (
        GpuFallbackWarning,
        drive,
        measure_files,
        open_strategy,
    )
    from pytest_oscura.strategies.prefetch import Prefetcher

# Imported on first use: the plugin's options import this package on every pytest run, and
# the executors (concurrent.futures) are not needed by a run without captures.
_LAZY = {
    "Backend": "backends",
    "make_backend": "backends",
    "GpuFallbackWarning": "batch",
    "drive": "batch",
    "measure_files": "batch",
    "open_strategy": "batch",
    "Prefetcher": "prefetch",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)


__all__ = [
    "AUTO",
    "CHOICES",
    "STRATEGIES",
    "Backend",
    "GpuFallbackWarning",
    "Plan",
    "Prefetcher",
    "batch_size",
    "choose",
    "cpu_count",
    "drive",
    "make_backend",
    "measure_files",
    "open_strategy",
    "probe_gpu",
]
