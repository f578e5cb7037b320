"""The process pool starts while collection runs, and only a plan that wants it keeps it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_oscura.runtime import Runtime
from pytest_oscura.strategies import choice
from pytest_oscura.strategies.backends import PoolBackend
from pytest_oscura.strategies.choice import early_pool
from tests.unit.test_strategies import make_jobs


class TestEarlyPool:
    def test_process_by_name_starts_at_once(self) -> None:
        assert early_pool("process", n_files=0, total_bytes=0, work_seconds=0.0)

    def test_auto_starts_once_the_batch_so_far_would_pick_processes(self, monkeypatch) -> None:
        monkeypatch.setattr(choice, "gpu_installed", lambda: False)
        seconds = choice.PROCESS_MIN_SECONDS
        assert not early_pool("auto", n_files=10, total_bytes=1, work_seconds=seconds / 2, cpus=2)
        assert early_pool("auto", n_files=10, total_bytes=1, work_seconds=seconds, cpus=2)
        assert not early_pool("auto", n_files=3, total_bytes=1, work_seconds=seconds, cpus=2)
        assert not early_pool("auto", n_files=10, total_bytes=1, work_seconds=seconds, cpus=1)
        assert not early_pool(
            "auto", n_files=10, total_bytes=1, work_seconds=seconds, cpus=2, xdist_worker=True
        )

    def test_never_for_other_strategies_nor_auto_with_cupy(self, monkeypatch) -> None:
        monkeypatch.setattr(choice, "gpu_installed", lambda: True)
        for strategy in ("auto", "serial", "thread", "gpu"):
            assert not early_pool(strategy, n_files=99, total_bytes=10**10, work_seconds=99.0)


@pytest.fixture
def started(monkeypatch) -> list[PoolBackend]:
    """Pools started early, recorded instead of started."""
    pools: list[PoolBackend] = []

    def record(self: PoolBackend) -> PoolBackend:
        pools.append(self)
        return self

    monkeypatch.setattr(PoolBackend, "start", record)
    monkeypatch.setattr(choice, "gpu_installed", lambda: False)
    return pools


def _runtime(strategy: str, **kwargs: object) -> Runtime:
    return Runtime([], strategy=strategy, workers=2, **kwargs)  # type: ignore[arg-type]


def test_auto_starts_the_pool_during_collection_and_the_plan_takes_it(
    tmp_path: Path, started, monkeypatch
) -> None:
    monkeypatch.setattr(choice, "cpu_count", lambda: 2)
    jobs = make_jobs(tmp_path / "caps", 9)
    runtime = _runtime("auto")
    runtime.collecting()
    assert started == []
    monkeypatch.setattr(choice, "SECONDS_PER_BYTE", {".npy": 1e-4})  # 9 small files: "long"
    for job in jobs:
        runtime.collected(job.path)
    assert len(started) == 1
    try:
        runtime.start(jobs)
        assert runtime.plan is not None
        assert runtime.plan.strategy == "process"
        assert runtime.prefetcher is not None
        assert runtime.prefetcher.backend is started[0]
    finally:
        runtime.close(interrupted=True)


def test_a_pool_of_one_worker_per_cpu_serves_fewer_files(
    tmp_path: Path, started, monkeypatch
) -> None:
    monkeypatch.setattr(choice, "cpu_count", lambda: 4)
    monkeypatch.setattr("pytest_oscura.runtime.cpu_count", lambda: 4)
    jobs = make_jobs(tmp_path / "caps", 2)
    runtime = Runtime([], strategy="process")  # one worker per CPU, as no --oscura-workers
    runtime.collecting()
    assert [pool.workers for pool in started] == [4]
    try:
        runtime.start(jobs)
        assert runtime.plan is not None
        assert runtime.plan.workers == 2  # capped at the number of files
        assert runtime.prefetcher is not None
        assert runtime.prefetcher.backend is started[0]  # not shut down and started again
    finally:
        runtime.close(interrupted=True)


def test_a_pool_the_plan_does_not_want_is_shut_down(tmp_path: Path, started, monkeypatch) -> None:
    jobs = make_jobs(tmp_path / "caps", 9)
    closed: list[bool] = []
    monkeypatch.setattr(PoolBackend, "close", lambda self, cancel=False: closed.append(cancel))
    runtime = _runtime("process")
    runtime.collecting()
    assert len(started) == 1
    runtime.strategy = "serial"  # as if the batch turned out to need no pool
    runtime.start(jobs)
    assert closed == [True]
    assert runtime.prefetcher is None


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, 1),
        ({"measures": False}, 0),  # --collect-only
        ({"xdist_workers": 2}, 0),  # the xdist controller measures nothing
        ({"xdist_workers": 2, "xdist_worker": True}, 1),  # an explicit pool in a worker
    ],
)
def test_only_a_process_that_measures_starts_one(started, kwargs, expected) -> None:
    runtime = _runtime("process", **kwargs)
    runtime.collecting()
    runtime.collecting()  # once
    assert len(started) == expected
    runtime.close(interrupted=True)


def test_a_started_pool_measures_like_run_job(tmp_path: Path) -> None:
    from pytest_oscura.jobs import run_job

    jobs = make_jobs(tmp_path / "caps", 4)
    backend = PoolBackend("process", 2).start()
    try:
        futures = backend.submit(jobs)
        assert [backend.result(j, f) for j, f in zip(jobs, futures, strict=True)] == [
            run_job(j) for j in jobs
        ]
    finally:
        backend.close()


def test_a_pool_shut_down_while_it_starts_does_not_wait_for_it(monkeypatch) -> None:
    import threading
    import time

    release = threading.Event()
    pool = PoolBackend._pool

    def slow_pool(self):  # a fork server that takes its time importing
        release.wait(5)
        return pool(self)

    monkeypatch.setattr(PoolBackend, "_pool", slow_pool)
    backend = PoolBackend("process", 1).start()
    start = time.monotonic()
    backend.close(cancel=True)
    assert time.monotonic() - start < 1.0  # not the fork server's start
    starter = threading.enumerate()
    release.set()
    for thread in starter:
        if thread.name == "oscura-pool-start":
            thread.join(10)
    assert backend._executor is None  # the starter stopped the pool it made
