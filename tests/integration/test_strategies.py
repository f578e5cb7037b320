"""Every --oscura-strategy gives the same verdicts and records; the header names the strategy."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import sine
from tests.integration.conftest import make_suite, read_json

ITEMS = 5

RUNS = [
    pytest.param(["--oscura-strategy", "serial"], "strategy serial (requested)", id="serial"),
    pytest.param(
        ["--oscura-strategy", "thread"], "strategy thread, 2 workers (requested)", id="thread"
    ),
    pytest.param(
        ["--oscura-strategy", "process", "--oscura-workers", "2"],
        "strategy process, 2 workers (requested)",
        id="process",
    ),
    pytest.param(["--oscura-strategy", "gpu"], "strategy gpu (requested)", id="gpu"),
    pytest.param([], "strategy auto (*CPUs, *): chosen from the batch after collection", id="auto"),
    pytest.param(["-n", "2"], "strategy serial in each xdist worker*", id="xdist-2"),
]


@pytest.fixture
def suite(pytester: pytest.Pytester):
    """The integration suite with a baseline, then one rail drifted and one capture broken."""
    caps = make_suite(pytester.path / "caps")
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline").assert_outcomes(
        passed=ITEMS
    )
    np.save(caps / "psu" / "rail.npy", 3.4 + 0.01 * sine())
    broken = caps / "sig" / "broken.npy"  # its header reads, its samples do not: a run-time error
    np.save(broken, sine())
    broken.write_bytes(broken.read_bytes()[:400])
    return caps


@pytest.mark.parametrize(("args", "header"), RUNS)
def test_every_strategy_gives_the_same_verdicts(
    pytester: pytest.Pytester, suite, args: list[str], header: str
) -> None:
    result = pytester.runpytest("--oscura-captures", "caps", "--oscura-report", "r.json", *args)
    result.assert_outcomes(passed=ITEMS - 1, failed=1, errors=1)
    result.stdout.fnmatch_lines([f"oscura: {header}"])
    result.stdout.fnmatch_lines(["psu/rail.npy::CH1: * of * measurements out of bounds"])
    result.stdout.fnmatch_lines(["*sig/broken.npy: truncated*"])
    if "-n" not in args:
        result.stdout.fnmatch_lines(["oscura: measuring with *"])
    report = read_json(pytester.path / "r.json")
    outcomes = {c["key"]: (c["outcome"], c["measurements"]) for c in report["captures"]}
    reference = pytester.path / "reference.json"
    if not reference.exists():  # the first parameter writes it, every other must match it
        pytester.runpytest(
            "--oscura-captures",
            "caps",
            "--oscura-report",
            "reference.json",
            "--oscura-strategy",
            "serial",
        )
    expected = {
        c["key"]: (c["outcome"], c["measurements"]) for c in read_json(reference)["captures"]
    }
    assert outcomes == expected


def test_gpu_without_cupy_warns_once_and_measures_on_the_cpu(
    pytester: pytest.Pytester, suite
) -> None:
    result = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-strategy", "gpu", "-W", "default"
    )
    result.assert_outcomes(passed=ITEMS - 1, failed=1, errors=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "oscura: WARNING: pytest-oscura: the gpu strategy cannot run: CuPy is not installed*",
            "oscura: measuring with serial: GPU unavailable: CuPy is not installed*",
        ]
    )


def test_explicit_strategy_inside_xdist_workers_is_kept(pytester: pytest.Pytester, suite) -> None:
    result = pytester.runpytest(
        "--oscura-captures", "caps", "-n", "2", "--oscura-strategy", "thread"
    )
    result.assert_outcomes(passed=ITEMS - 1, failed=1, errors=1)
    result.stdout.fnmatch_lines(["oscura: strategy thread in each xdist worker (requested)"])


def test_bad_strategy_values_are_usage_errors(pytester: pytest.Pytester, suite) -> None:
    bad_cli = pytester.runpytest("--oscura-captures", "caps", "--oscura-strategy", "fast")
    assert bad_cli.ret == pytest.ExitCode.USAGE_ERROR
    bad_cli.stderr.fnmatch_lines(["*--oscura-strategy: invalid choice: 'fast'*"])
    pytester.makeini("[pytest]\noscura_strategy = fast\noscura_workers = 2\n")
    bad_ini = pytester.runpytest("--oscura-captures", "caps")
    assert bad_ini.ret == pytest.ExitCode.USAGE_ERROR
    bad_ini.stderr.fnmatch_lines(
        [
            "*oscura_strategy = 'fast' in the ini file: choose one of auto, serial, thread, process, gpu, dask"
        ]
    )
    pytester.makeini("[pytest]\noscura_strategy = thread\noscura_workers = none\n")
    bad_workers = pytester.runpytest("--oscura-captures", "caps")
    assert bad_workers.ret == pytest.ExitCode.USAGE_ERROR
    bad_workers.stderr.fnmatch_lines(
        ["*oscura_workers in the ini file: 'none' is not a positive whole number of workers"]
    )


def test_ini_twins_choose_the_strategy(pytester: pytest.Pytester, suite) -> None:
    pytester.makeini("[pytest]\noscura_strategy = thread\noscura_workers = 3\n")
    result = pytester.runpytest("--oscura-captures", "caps")
    result.assert_outcomes(passed=ITEMS - 1, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "oscura: strategy thread, 3 workers (requested)",
            "oscura: measuring with thread (3 workers, chunks of 12): as requested",
        ]
    )
