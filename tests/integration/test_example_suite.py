"""The example suite the README's first command runs: it passes, and its regression set fails."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import REPO


def test_example_suite_passes_against_its_committed_baseline(pytester: pytest.Pytester) -> None:
    shutil.copytree(REPO / "example_suite" / "captures", pytester.path / "captures")
    result = pytester.runpytest("--oscura-captures", "captures", "-n", "2")
    result.assert_outcomes(passed=28)
    result.stdout.fnmatch_lines(["Gate: passed*"])


def test_regression_set_fails_with_readable_tables(pytester: pytest.Pytester) -> None:
    shutil.copytree(REPO / "example_suite" / "regression", pytester.path / "regression")
    result = pytester.runpytest("--oscura-captures", "regression")
    result.assert_outcomes(passed=25, failed=3)
    result.stdout.fnmatch_lines(
        [
            "clocks/clk_03.npz::CLK: 2 of 14 measurements out of bounds",
            "*duty_cycle*0.54*0.5*+0.04*",
            "Accept the new values with: pytest --oscura-captures regression --oscura-update-baseline",
        ]
    )
    assert "Traceback" not in result.stdout.str()
