"""What every measuring process sets up once (strategies/worker.py), and who asks for it."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import pytest

from pytest_oscura.strategies import worker
from pytest_oscura.strategies.dask_backend import run_on_worker
from tests.unit.test_strategies import make_jobs

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's; elsewhere the tuning is a no-op")
def test_the_allocator_is_tuned_once_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = worker._mallopt

    def counted() -> bool:
        calls.append(1)
        return real()

    monkeypatch.setattr(worker, "_tuned", None)
    monkeypatch.setattr(worker, "_mallopt", counted)
    assert worker.tune_allocator() is True
    assert worker.tune_allocator() is True
    assert calls == [1]


def test_a_dask_task_tunes_its_workers_allocator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Dask worker is not started by us, so the task itself has to do it (it measured 0.35x
    # the process pool on 200 x 1M captures without, 0.73-0.81x with).
    calls: list[str] = []

    def tune() -> bool:
        calls.append("tuned")
        return True

    monkeypatch.setattr(worker, "tune_allocator", tune)
    job = make_jobs(tmp_path / "caps", count=1)[0]
    result = run_on_worker(job)
    assert result.error is None
    assert calls == ["tuned"]
