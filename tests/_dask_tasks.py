"""Tasks that Dask workers run in the dask strategy's tests. No pytest import: spawned worker
processes import this module by name to unpickle them."""

from __future__ import annotations

import os
import time
from pathlib import Path

from pytest_oscura.jobs import FileJob, FileResult
from pytest_oscura.strategies.dask_backend import run_on_worker


def die_once(job: FileJob, timeout_s: float | None) -> FileResult:
    """Kill this worker process the first time any worker runs ``job``, then measure it.

    The marker file beside the capture says whether a first attempt already happened.
    """
    marker = Path(job.path + ".attempted")
    if job.path.endswith("cap_03.npy") and not marker.exists():
        marker.write_text("killed a worker")
        os._exit(1)
    return run_on_worker(job, timeout_s)


def always_die(job: FileJob, timeout_s: float | None) -> FileResult:
    """Kill the worker for ``cap_03.npy`` every time: the scheduler gives up (KilledWorker)."""
    if job.path.endswith("cap_03.npy"):
        os._exit(1)
    return run_on_worker(job, timeout_s)


def slow(job: FileJob, timeout_s: float | None) -> FileResult:
    """Take 8 s over ``cap_01.npy``; measure the others at once."""
    if job.path.endswith("cap_01.npy"):
        time.sleep(8)
    return run_on_worker(job, timeout_s)
