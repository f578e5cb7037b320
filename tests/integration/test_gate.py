"""Session aggregation and the gate through pytest: outliers, drift, quality; -n 2 == -n 0."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import sine
from tests.integration.conftest import read_json

N = 30
CONFIG = "[defaults]\nsample_rate_hz = 1e5\nmeasurements = ['rms', 'vpp', 'mean']\ntolerance = { rel = 0.01 }\n[tolerances]\nmean = { abs = 0.01 }\n"


@pytest.fixture(autouse=True)
def _fixed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795824000")


def write_batch(
    pytester: pytest.Pytester, scale: float = 1.0, outlier: float | None = None
) -> None:
    caps = pytester.path / "caps"
    caps.mkdir(exist_ok=True)
    (caps / "oscura.toml").write_text(CONFIG)
    rng = np.random.default_rng(7)
    amplitudes = 1.0 + rng.normal(0.0, 0.01, N)
    for index, amplitude in enumerate(amplitudes):
        if outlier is not None and index == 17:
            amplitude = outlier
        np.save(caps / f"cap_{index:02d}.npy", scale * amplitude * sine())


def test_outlier_gate_fails_the_session_while_items_pass(pytester: pytest.Pytester) -> None:
    write_batch(pytester, outlier=1.3)
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    result = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-gate", "outliers", "--oscura-report", "r.json"
    )
    result.assert_outcomes(passed=N)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "Batch Summary Report — 30 captures, 1 group*",
            "*Largest deviations: cap_17.npy::CH1*",
            "Gate: FAILED*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    summary = read_json(pytester.path / "r.json")["summary"]
    assert summary["gate"]["passed"] is False
    assert {o["key"] for o in summary["outliers"]["flagged"]} == {"cap_17.npy::CH1"}
    assert pytester.runpytest("--oscura-captures", "caps", "--oscura-gate", "none").ret == 0


def test_drift_below_every_tolerance_is_caught_and_identical_under_xdist(
    pytester: pytest.Pytester,
) -> None:
    write_batch(pytester)
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    write_batch(pytester, scale=1.008)  # every capture moved by 0.8 of its 1 % tolerance
    summaries = []
    for mode in ([], ["-n", "2"]):
        result = pytester.runpytest(
            "--oscura-captures",
            "caps",
            "--oscura-gate",
            "drift",
            "--oscura-report",
            "r.json",
            *mode,
        )
        result.assert_outcomes(passed=N)
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        result.stdout.fnmatch_lines(["Gate: FAILED*drift*"])
        summaries.append(read_json(pytester.path / "r.json")["summary"])
    assert summaries[0] == summaries[1]
    flagged = {c["measurement"] for c in summaries[0]["drift"]["cells"] if c["flagged"]}
    assert {"rms", "vpp"} <= flagged
    assert "mean" not in flagged


def test_clean_batch_stays_quiet(pytester: pytest.Pytester) -> None:
    write_batch(pytester)
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    result = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-gate", "outliers,drift,quality>=100", "-n", "2"
    )
    result.assert_outcomes(passed=N)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["Gate: passed*"])


def test_quality_gate_and_update_runs(pytester: pytest.Pytester) -> None:
    write_batch(pytester)
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    np.save(pytester.path / "caps" / "cap_03.npy", 2 * sine())
    result = pytester.runpytest("--oscura-captures", "caps", "--oscura-gate", "quality>=99")
    result.assert_outcomes(passed=N - 1, failed=1)
    result.stdout.fnmatch_lines(["Gate: FAILED*quality*"])
    update = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-gate", "outliers", "--oscura-update-baseline"
    )
    assert update.ret == 0
    update.stdout.fnmatch_lines(["*gate 'outliers' not applied: this run updates the baseline*"])


def test_bad_gate_is_a_usage_error(pytester: pytest.Pytester) -> None:
    write_batch(pytester)
    result = pytester.runpytest("--oscura-captures", "caps", "--oscura-gate", "outliers,speed")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--oscura-gate 'outliers,speed': *speed*"])
