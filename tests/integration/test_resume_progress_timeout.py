"""Progress output, resume after kill -9, per-capture timeouts, the retry list."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import sine
from tests.integration.conftest import XDIST_MODES, read_json

CAPTURES = 40

KILLER = """
import os, signal

done = 0

def pytest_runtest_logreport(report):
    global done
    kill_after = int(os.environ.get("KILL_AFTER", "0"))
    if kill_after and report.when == "call":
        done += 1
        if done == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture(autouse=True)
def _fixed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795824000")


def make_batch(pytester: pytest.Pytester, name: str = "caps") -> None:
    caps = pytester.mkdir(name)
    (caps / "oscura.toml").write_text("[defaults]\nsample_rate_hz = 1e5\n")
    for index in range(CAPTURES):
        np.save(caps / f"cap_{index:03d}.npy", sine(amplitude=1 + index / 100))


def test_killed_run_resumes_without_redoing_work_and_reports_like_a_clean_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_batch(pytester)
    pytester.makeconftest(KILLER)
    args = ["--oscura-captures", "caps", "-p", "no:randomly"]
    pytester.runpytest(*args, "--oscura-update-baseline")

    monkeypatch.setenv("KILL_AFTER", "15")
    killed = pytester.runpytest(*args, "--oscura-resume", "--oscura-report", "resumed.json")
    assert killed.ret == -9
    assert not (pytester.path / "resumed.json").exists()

    monkeypatch.delenv("KILL_AFTER")
    resumed = pytester.runpytest(*args, "--oscura-resume", "--oscura-report", "resumed.json")
    resumed.assert_outcomes(passed=CAPTURES)
    resumed.stdout.fnmatch_lines(["*resumed 15 item(s) from stored results, measured 25"])

    clean = pytester.runpytest(*args, "--oscura-report", "clean.json")
    clean.assert_outcomes(passed=CAPTURES)
    resumed_report = read_json(pytester.path / "resumed.json")
    clean_report = read_json(pytester.path / "clean.json")
    # "run" holds facts of each run (its duration, strategy), not results: left out here.
    assert resumed_report.pop("run")["roots"] == clean_report.pop("run")["roots"]
    assert resumed_report == clean_report

    np.save(pytester.path / "caps" / "cap_007.npy", sine(amplitude=5.0))  # edited between runs
    edited = pytester.runpytest(*args, "--oscura-resume")
    edited.assert_outcomes(passed=CAPTURES - 1, failed=1)
    edited.stdout.fnmatch_lines(["*resumed 39 item(s) from stored results, measured 1"])

    cleared = pytester.runpytest(*args, "--oscura-resume", "--cache-clear")
    assert "resumed" not in cleared.stdout.str()


def test_touching_a_capture_without_changing_it_still_resumes(pytester: pytest.Pytester) -> None:
    make_batch(pytester)
    args = ["--oscura-captures", "caps", "--oscura-update-baseline", "--oscura-resume"]
    pytester.runpytest(*args)
    target = pytester.path / "caps" / "cap_003.npy"
    target.write_bytes(target.read_bytes())  # new mtime, same bytes
    again = pytester.runpytest(*args)
    again.stdout.fnmatch_lines(["*resumed 40 item(s) from stored results, measured 0"])


def test_resume_under_xdist_workers_writing_at_once(pytester: pytest.Pytester) -> None:
    make_batch(pytester)
    args = ["--oscura-captures", "caps", "--oscura-update-baseline", "--oscura-resume", "-n", "2"]
    pytester.runpytest(*args).assert_outcomes(passed=CAPTURES)
    again = pytester.runpytest(*args)
    again.assert_outcomes(passed=CAPTURES)
    again.stdout.fnmatch_lines(["*resumed 40 item(s) from stored results, measured 0"])


@pytest.mark.parametrize("xdist", XDIST_MODES)
def test_progress_in_log_mode(pytester: pytest.Pytester, xdist: list[str]) -> None:
    make_batch(pytester)
    result = pytester.runpytest(
        "--oscura-captures",
        "caps",
        "--oscura-update-baseline",
        "--oscura-progress=log",
        "--oscura-progress-interval=0.001",
        *xdist,
    )
    lines = [line for line in result.stdout.lines if "Processing: [" in line]
    assert len(lines) >= 2
    assert lines[-1].startswith("Processing: [████████████████████] 100% | 40/40 | ETA 0s | ")
    assert lines[-1].endswith("captures/s | ok 40 · failed 0")


def test_progress_in_tty_mode_rewrites_one_line(pytester: pytest.Pytester) -> None:
    make_batch(pytester)
    result = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-update-baseline", "--oscura-progress=tty"
    )
    text = result.stdout.str()  # pytester splits lines at "\r" too: each rewrite is a line here
    assert text.count("Processing: [") >= 2
    assert "100% | 40/40" in text
    assert "caps/cap_000.npy ." not in text  # the live line replaces pytest's per-file lines


def test_progress_off(pytester: pytest.Pytester) -> None:
    make_batch(pytester)
    result = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-update-baseline", "--oscura-progress=off"
    )
    assert "Processing:" not in result.stdout.str()


SLOW_MEASUREMENT = """
import time
from pytest_oscura.measurements import register

@register("slow", "s", "A measurement that hangs, to test timeouts")
def slow(signal):
    time.sleep(60)
    return 0.0
"""


@pytest.mark.parametrize("xdist", XDIST_MODES)
def test_timeout_fails_the_capture_and_the_run_goes_on(
    pytester: pytest.Pytester, xdist: list[str]
) -> None:
    make_batch(pytester)
    pytester.makeconftest(SLOW_MEASUREMENT)
    caps = pytester.path / "caps"
    (caps / "oscura.toml").write_text(
        "[defaults]\nsample_rate_hz = 1e5\n\n[[rules]]\nmatch = 'cap_01*'\nmeasurements = ['slow']\n"
    )
    result = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-update-baseline", "--oscura-timeout", "0.5", *xdist
    )
    result.assert_outcomes(passed=CAPTURES - 10, errors=10)
    result.stdout.fnmatch_lines(
        [
            "*caps/cap_010.npy: timed out after 0.5 s",
            "*10 capture item(s) to retry (10 timed out); --lf reruns exactly them: caps/cap_010.npy::CH1*",
        ]
    )
    assert result.duration < 30
    rerun = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-update-baseline", "--oscura-timeout", "0.5", "--lf"
    )
    rerun.assert_outcomes(errors=10)


STUCK_SITE = """
import os, signal, time
from pathlib import Path

from pytest_oscura.measurements import register


@register("stuck", "s", "Hangs where an alarm cannot reach it, to test worker termination")
def stuck(signal_):
    Path(os.environ["OSCURA_TEST_PIDS"], str(os.getpid())).touch()
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
    time.sleep(40)
    return 0.0
"""


def test_process_strategy_stops_a_stuck_worker(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    make_batch(pytester)
    site = pytester.mkdir("site")
    (site / "sitecustomize.py").write_text(STUCK_SITE)  # registers "stuck" in spawned workers too
    pids = pytester.mkdir("pids")
    monkeypatch.setenv("PYTHONPATH", f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    monkeypatch.setenv("OSCURA_TEST_PIDS", str(pids))
    (pytester.path / "caps" / "oscura.toml").write_text(
        "[defaults]\nsample_rate_hz = 1e5\n\n[[rules]]\nmatch = 'cap_005*'\nmeasurements = ['stuck']\n"
    )
    result = pytester.runpytest(
        "--oscura-captures",
        "caps",
        "--oscura-update-baseline",
        "--oscura-timeout",
        "1",
        "--oscura-strategy",
        "process",
        "--oscura-workers",
        "2",
    )
    result.assert_outcomes(passed=CAPTURES - 1, errors=1)
    result.stdout.fnmatch_lines(["*caps/cap_005.npy: timed out after 1 s"])
    assert result.duration < 30
    stuck_pids = [int(p.name) for p in pids.iterdir()]
    assert stuck_pids
    for pid in stuck_pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


SLEEPY_SITE = """
import time

from pytest_oscura.measurements import register


@register("sleepy", "s", "Sleeps 4 s, to test timeouts where the sleeper cannot be stopped")
def sleepy(signal_):
    time.sleep(4)
    return 0.0
"""


@pytest.mark.parametrize("strategy", ["thread", "gpu"])
def test_timeout_with_thread_and_gpu_strategies(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, strategy: str
) -> None:
    """Threads cannot be stopped: the capture still fails at its limit and the run goes on.

    Without CuPy the gpu strategy falls back to a CPU strategy, which applies the limit too.
    """
    import os

    make_batch(pytester)
    site = pytester.mkdir("site")
    (site / "sitecustomize.py").write_text(SLEEPY_SITE)
    monkeypatch.setenv("PYTHONPATH", f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    (pytester.path / "caps" / "oscura.toml").write_text(
        "[defaults]\nsample_rate_hz = 1e5\n\n[[rules]]\nmatch = 'cap_005*'\nmeasurements = ['sleepy']\n"
    )
    result = pytester.runpytest(
        "--oscura-captures",
        "caps",
        "--oscura-update-baseline",
        "--oscura-timeout",
        "0.5",
        "--oscura-strategy",
        strategy,
        "-W",
        "ignore::pytest_oscura.strategies.GpuFallbackWarning",
    )
    result.assert_outcomes(passed=CAPTURES - 1, errors=1)
    result.stdout.fnmatch_lines(["*caps/cap_005.npy: timed out after 0.5 s"])
