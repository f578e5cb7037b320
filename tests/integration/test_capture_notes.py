"""What a capture's file says besides its samples reaches the item's report: a size field that
disagrees with the file is a warning, companion files are named and never collected."""

from __future__ import annotations

import numpy as np
import pytest

from tests.integration.conftest import XDIST_MODES, read_json
from tests.unit._bin_files import Wave, bin_bytes, floats, write_bin


def write_scope_folder(pytester: pytest.Pytester) -> int:
    caps = pytester.mkdir("caps")
    waves = [Wave("1", [floats(np.sin(np.arange(2000) / 20.0))])]
    size = len(bin_bytes(waves))
    write_bin(caps / "scope.bin", waves, declared=size - 300)  # off by a few hundred bytes
    (caps / "scope.txt").write_text("Setup info\nCh 1 1.00 V/div, AC coupling\n")
    (caps / "scope.csv").write_text("Setting,Value\nTimebase,100 us/div\nTrigger,Ch 1 rising\n")
    return size


@pytest.mark.parametrize("xdist", XDIST_MODES)
def test_size_warning_and_companions_in_the_report(
    pytester: pytest.Pytester, xdist: list[str]
) -> None:
    size = write_scope_folder(pytester)
    result = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-update-baseline", "--oscura-report", "r.json", *xdist
    )
    result.assert_outcomes(passed=1, warnings=1)
    warning = (
        f"caps/scope.bin: header declares a {size - 300}-byte file, the file has {size} "
        "bytes; the 1 waveform(s) it describes are complete and were read"
    )
    result.stdout.fnmatch_lines(["*CaptureWarning: " + warning])
    (entry,) = read_json(pytester.path / "r.json")["captures"]
    assert entry["key"] == "scope.bin::CH1"
    assert entry["warnings"] == [warning.removeprefix("caps/scope.bin: ")]
    assert entry["companions"] == ["scope.csv", "scope.txt"]
    assert "Traceback" not in result.stdout.str()


def test_companions_are_not_collected(pytester: pytest.Pytester) -> None:
    write_scope_folder(pytester)
    result = pytester.runpytest("--oscura-captures", "caps", "--co", "-q")
    result.stdout.fnmatch_lines(["caps/scope.bin::CH1", "1 test collected*"])
    assert "scope.csv" not in result.stdout.str()


def test_report_section_names_warnings_and_companions(pytester: pytest.Pytester) -> None:
    write_scope_folder(pytester)
    result = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-update-baseline", "-rA", "-W", "ignore"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*Captured oscura call*",
            "warning: header declares a *-byte file*",
            "companion file read with it: scope.csv",
            "companion file read with it: scope.txt",
        ]
    )
