"""The dask strategy on a real local cluster: a scheduler and two worker processes on 127.0.0.1.

One cluster per test module (about 2–4 s to start here); every test compares with ``serial``.
Nothing but loopback is contacted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_oscura.jobs import FileJob, run_job
from pytest_oscura.strategies import measure_files, open_strategy
from pytest_oscura.strategies.dask_backend import ClusterError, DaskBackend, connect, run_on_worker
from pytest_oscura.strategies.prefetch import Prefetcher, Window
from tests import _dask_tasks
from tests.integration.conftest import make_suite, read_json
from tests.unit.test_strategies import make_jobs

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.dask


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A LocalCluster of two single-thread worker processes; a task may kill one worker and
    still be run again (allowed-failures 1), a second death is a KilledWorker."""
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            # The scheduler always serves HTTP (metrics); a free loopback port, so that two
            # xdist workers' clusters do not compete for 8787.
            dashboard_address="127.0.0.1:0",
        )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def _backend(scheduler: str, task=run_on_worker, timeout_s=None) -> DaskBackend:
    return DaskBackend(scheduler, timeout_s, grace_s=0.1, task=task)


def _drive(backend: DaskBackend, jobs: list[FileJob], window: int = 4) -> list:
    from pytest_oscura.strategies import drive

    try:
        return drive(jobs, backend, window)
    finally:
        backend.close()


def test_dask_is_bit_identical_to_serial_and_streams(tmp_path: Path, scheduler: str) -> None:
    jobs = make_jobs(tmp_path / "caps")
    broken = tmp_path / "caps" / "broken.npy"
    broken.write_bytes(b"not a capture")
    jobs.append(FileJob(str(broken), broken.name, jobs[0].settings, jobs[0].items))
    seen: list[int] = []
    got = measure_files(
        jobs, "dask", chunk_size=3, scheduler=scheduler, on_result=lambda i, r: seen.append(i)
    )
    assert got == measure_files(jobs, "serial")  # every float, and the bad file's error
    assert got[-1].error is not None
    assert not got[-1].lost
    assert sorted(seen) == list(range(len(jobs)))


def test_plan_counts_the_cluster_threads_and_bounds_the_window(tmp_path: Path, scheduler) -> None:
    jobs = make_jobs(tmp_path / "caps")
    backend, plan = open_strategy(jobs, "dask", scheduler=scheduler)
    try:
        assert (plan.strategy, plan.workers, plan.chunk_size) == ("dask", 2, 8)
        assert "scheduler tcp://127.0.0.1:" in plan.reason
        window = Window(jobs, backend, 3)
        window.fill()
        assert len(window.pending) == 3  # bounded in-flight work
        assert window.take(0) == run_job(jobs[0])
    finally:
        backend.close(cancel=True)


def test_a_file_the_workers_cannot_read_says_so(tmp_path: Path, scheduler: str) -> None:
    job = make_jobs(tmp_path / "caps", count=1)[0]
    Path(job.path).unlink()  # as if the workers did not share this file system
    (result,) = _drive(_backend(scheduler), [job])
    assert result.error is not None
    assert "cannot be read on the Dask worker tcp://127.0.0.1:" in result.error
    assert "the same path (a shared file system)" in result.error
    assert not result.lost


def test_timeout_gives_the_timeout_error_of_the_other_strategies(tmp_path, scheduler) -> None:
    # The plugin's path: the prefetcher asks for each file's result in turn, and waits at most
    # the time limit (plus the grace) for it.
    jobs = make_jobs(tmp_path / "caps", count=3)
    _drive(_backend(scheduler), jobs)  # warm: the workers have imported the engine
    start = time.perf_counter()
    backend = DaskBackend(scheduler, 0.5, grace_s=2.0, task=_dask_tasks.slow)
    prefetcher = Prefetcher(jobs, backend, 4)
    try:
        got = [prefetcher(job) for job in jobs]
    finally:
        prefetcher.close()
    assert got[1].error == f"{jobs[1].display}: timed out after 0.5 s"
    assert not got[1].lost
    assert got[0] == run_job(jobs[0]), got[0].error
    assert got[2] == run_job(jobs[2]), got[2].error
    assert time.perf_counter() - start < 7  # the slow task takes 8 s


def test_a_lost_worker_is_replaced_and_results_are_unchanged(tmp_path, scheduler) -> None:
    jobs = make_jobs(tmp_path / "caps", count=5)
    got = _drive(_backend(scheduler, _dask_tasks.die_once), jobs)
    assert Path(jobs[3].path + ".attempted").exists()  # a worker did die on it
    assert got == [run_job(job) for job in jobs]


def test_a_task_that_keeps_killing_workers_is_a_lost_result(tmp_path, scheduler) -> None:
    jobs = make_jobs(tmp_path / "caps", count=5)
    # One job in flight at a time: the scheduler counts a worker's death against every task
    # that worker held, so an innocent capture queued beside the killer on both dying workers
    # is a KilledWorker too (Dask's rule, seen in CI). Here only the killer is ever held.
    got = _drive(_backend(scheduler, _dask_tasks.always_die), jobs, window=1)
    assert got[3].lost
    assert got[3].error is not None
    assert "result lost on the Dask cluster (KilledWorker" in got[3].error
    assert [r for i, r in enumerate(got) if i != 3] == [
        run_job(job) for i, job in enumerate(jobs) if i != 3
    ]


def test_an_unreachable_scheduler_is_one_line_within_seconds() -> None:
    start = time.perf_counter()
    with pytest.raises(ClusterError, match=r"^Dask scheduler 'tcp://127.0.0.1:9': cannot connect"):
        connect("tcp://127.0.0.1:9", timeout_s=1.0)
    assert time.perf_counter() - start < 10


# -- through pytest ------------------------------------------------------------------------------


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["no-xdist", "xdist-2"])
def test_plugin_with_dask_reports_what_serial_reports(
    pytester: pytest.Pytester, scheduler: str, xdist: list[str]
) -> None:
    make_suite(pytester.path / "caps")  # no baseline: every item fails alike, "missing"
    serial = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-strategy", "serial", "--oscura-report", "s.json"
    )
    dask = pytester.runpytest(
        "--oscura-captures",
        "caps",
        "--oscura-strategy",
        "dask",
        "--oscura-dask-scheduler",
        scheduler,
        "--oscura-report",
        "d.json",
        *xdist,
    )
    assert serial.ret == dask.ret == pytest.ExitCode.TESTS_FAILED
    if not xdist:
        dask.stdout.fnmatch_lines(
            [
                f"oscura: strategy dask, scheduler {scheduler} (requested)",
                "oscura: measuring with dask (2 worker threads, 8 files in flight): as requested, "
                f"scheduler {scheduler}",
            ]
        )
    # Everything equal but how the run was made and how long it took.
    dask_report, serial_report = (
        read_json(pytester.path / "d.json"),
        read_json(pytester.path / "s.json"),
    )
    for report in (dask_report, serial_report):
        del report["run"]["strategy"], report["run"]["duration_s"]
    assert dask_report == serial_report


def test_plugin_scheduler_address_from_the_environment(
    pytester: pytest.Pytester, scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(pytester.path / "caps")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", scheduler)
    result = pytester.runpytest("--oscura-captures", "caps", "--oscura-strategy", "dask", "--co")
    assert result.ret == 0
    result.stdout.fnmatch_lines([f"oscura: strategy dask, scheduler {scheduler} (requested)"])


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["no-xdist", "xdist-2"])
def test_plugin_bad_scheduler_is_a_usage_error(pytester: pytest.Pytester, xdist) -> None:
    make_suite(pytester.path / "caps")
    result = pytester.runpytest(
        "--oscura-captures",
        "caps",
        "--oscura-strategy",
        "dask",
        "--oscura-dask-scheduler",
        "tcp://127.0.0.1:9",
        *xdist,
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --oscura-strategy dask: Dask scheduler 'tcp://127.0.0.1:9': cannot connect *"]
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_plugin_dask_without_an_address_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_suite(pytester.path / "caps")
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    result = pytester.runpytest("--oscura-captures", "caps", "--oscura-strategy", "dask")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --oscura-strategy dask needs the scheduler's address: --oscura-dask-scheduler*"]
    )
