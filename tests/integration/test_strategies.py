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


# numpy standing in for a CUDA device: the plugin's GPU strategy runs its device code path.
NUMPY_DEVICE = """
import numpy
import pytest_oscura.strategies.batch as batch

batch.probe_gpu = lambda: (numpy, "numpy standing in for a CUDA device")
"""
DEVICE_FAILS = """
from pytest_oscura.measurements import batch as engine


def out_of_memory(*args):
    raise RuntimeError("CUDA_ERROR_OUT_OF_MEMORY: out of memory\\nat line 2")


engine._shared = out_of_memory
"""


def test_gpu_on_its_device_path_gives_the_verdicts_and_values_of_serial(
    pytester: pytest.Pytester, suite
) -> None:
    pytester.makeconftest(NUMPY_DEVICE)
    result = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-strategy", "gpu", "--oscura-report", "r.json"
    )
    result.assert_outcomes(passed=ITEMS - 1, failed=1, errors=1)
    result.stdout.fnmatch_lines(["oscura: measuring with gpu (batches of 32 files): as requested"])
    serial = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-strategy", "serial", "--oscura-report", "s.json"
    )
    gpu, cpu = read_json(pytester.path / "r.json"), read_json(pytester.path / "s.json")
    assert {c["key"]: c["measured_on"] for c in gpu["captures"] if not c["error"]} == {
        c["key"]: "gpu" for c in cpu["captures"] if not c["error"]
    }
    assert [(c["key"], c["outcome"], c["measurements"]) for c in gpu["captures"]] == [
        (c["key"], c["outcome"], c["measurements"]) for c in cpu["captures"]
    ]
    assert serial.ret == result.ret


def test_an_error_on_the_device_is_reported_never_swallowed(
    pytester: pytest.Pytester, suite
) -> None:
    pytester.makeconftest(NUMPY_DEVICE + DEVICE_FAILS)
    result = pytester.runpytest(
        "--oscura-captures",
        "caps",
        "--oscura-strategy",
        "gpu",
        "--oscura-report",
        "r.json",
        "-W",
        "default",
    )
    # The captures are still measured (on the CPU) and judged: same verdicts as serial.
    result.assert_outcomes(passed=ITEMS - 1, failed=1, errors=1, warnings=ITEMS)
    why = "RuntimeError: CUDA_ERROR_OUT_OF_MEMORY: out of memory"
    result.stdout.fnmatch_lines(
        [
            f"*GpuFallbackWarning: caps/psu/rail.npy::CH1: measured on the CPU: the GPU strategy "
            f"failed on it ({why})",
            f"Note: {ITEMS} capture item(s) measured on the CPU after an error on the GPU*",
        ]
    )
    report = read_json(pytester.path / "r.json")
    measured = [c for c in report["captures"] if not c["error"]]
    assert {(c["measured_on"], c["gpu_fallback"]) for c in measured} == {("cpu", why)}
    assert any(
        "measured on the CPU after an error on the GPU" in n for n in report["summary"]["notes"]
    )
