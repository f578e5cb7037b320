"""``--oscura-html`` and ``--oscura-baseline-waveforms`` through pytest itself (pytester)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import sine
from tests.html_check import assert_self_contained, parse
from tests.integration.conftest import XDIST_MODES, make_suite

ITEMS = 5


@pytest.fixture(autouse=True)
def _fixed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795824000")


@pytest.mark.parametrize("xdist", XDIST_MODES)
def test_the_page_at_the_end_of_the_run(pytester: pytest.Pytester, xdist: list[str]) -> None:
    caps = make_suite(pytester.path / "caps")
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    np.save(caps / "psu" / "rail.npy", 3.4 + 0.01 * sine())
    result = pytester.runpytest(
        "--oscura-captures",
        "caps",
        "--oscura-html",
        "out/report.html",
        "--oscura-report",
        "out/report.json",
        *xdist,
    )
    result.assert_outcomes(passed=ITEMS - 1, failed=1)
    result.stdout.fnmatch_lines(["oscura: HTML report written to *out/report.html (* kB)"])
    html = (pytester.path / "out" / "report.html").read_text()
    page = parse(html)
    assert_self_contained(page)
    assert "caps/psu/rail.npy::CH1" in page.text
    assert [f["data-key"] for f in page.figures("capture-plot")] == ["psu/rail.npy::CH1"]
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    groups = {f["data-group"] for f in page.figures("group-plot")}
    assert groups == set(report["summary"]["groups"]) == {"caps [FS]", "caps [V]"}
    expected = "serial in each of 2 xdist workers" if xdist else "serial (auto)"
    assert report["run"]["strategy"] == expected
    assert expected in page.text
    # python -m pytest_oscura html renders the same page from the JSON report
    again = pytester.path / "again.html"
    done = subprocess.run(
        [sys.executable, "-m", "pytest_oscura", "html", "out/report.json", "-o", str(again)],
        cwd=pytester.path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert again.read_text() == html


@pytest.mark.parametrize("strategy", ["serial", "thread", "process"])
def test_the_page_after_a_resumed_run_with_any_strategy(
    pytester: pytest.Pytester, strategy: str
) -> None:
    caps = make_suite(pytester.path / "caps")
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    np.save(caps / "psu" / "rail.npy", 3.4 + 0.01 * sine())
    args = ["--oscura-captures", "caps", "--oscura-resume", "--oscura-strategy", strategy]
    pytester.runpytest(*args).assert_outcomes(passed=ITEMS - 1, failed=1)
    resumed = pytester.runpytest(*args, "--oscura-html", "report.html")
    resumed.assert_outcomes(passed=ITEMS - 1, failed=1)
    resumed.stdout.fnmatch_lines(["*resumed 5 item(s) from stored results*"])
    page = parse((pytester.path / "report.html").read_text())
    assert_self_contained(page)
    assert [f["data-key"] for f in page.figures("capture-plot")] == ["psu/rail.npy::CH1"]


@pytest.mark.parametrize("xdist", XDIST_MODES)
def test_baseline_waveforms_are_stored_once_and_drawn(
    pytester: pytest.Pytester, xdist: list[str]
) -> None:
    caps = make_suite(pytester.path / "caps")
    folder = caps / "oscura-baseline.waveforms"
    update = ["--oscura-captures", "caps", "--oscura-update-baseline", *xdist]
    pytester.runpytest(*update).assert_outcomes(passed=ITEMS)
    assert not folder.exists()  # only with the option
    first = pytester.runpytest(*update, "--oscura-baseline-waveforms")
    first.stdout.fnmatch_lines(
        ["oscura: baseline waveforms *oscura-baseline.waveforms: 5 written, 0 unchanged, 0 removed"]
    )
    files = sorted(folder.iterdir())
    assert len(files) == ITEMS
    assert all(p.suffix == ".json" and p.stat().st_size < 8000 for p in files)
    stored = {p.name: p.read_bytes() for p in files}
    again = pytester.runpytest(*update, "--oscura-baseline-waveforms")
    again.stdout.fnmatch_lines(["*: 0 written, 5 unchanged, 0 removed"])
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == stored

    np.save(caps / "psu" / "rail.npy", 3.4 + 0.01 * sine())
    check = pytester.runpytest("--oscura-captures", "caps", "--oscura-html", "r.html", *xdist)
    check.assert_outcomes(passed=ITEMS - 1, failed=1)
    card = parse((pytester.path / "r.html").read_text()).cards()["c-caps-psu-rail.npy--CH1"]
    assert 'class="acc' in card
    assert "accepted" in card

    (caps / "sig" / "scope.csv").unlink()
    removed = pytester.runpytest(*update, "--oscura-baseline-waveforms")
    removed.stdout.fnmatch_lines(["*: 1 written, 3 unchanged, 1 removed"])
    assert len(list(folder.iterdir())) == ITEMS - 1


def test_a_check_run_with_the_option_stores_nothing(pytester: pytest.Pytester) -> None:
    caps = make_suite(pytester.path / "caps")
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    result = pytester.runpytest("--oscura-captures", "caps", "--oscura-baseline-waveforms")
    result.assert_outcomes(passed=ITEMS)
    assert not (caps / "oscura-baseline.waveforms").exists()


def test_the_ini_option(pytester: pytest.Pytester) -> None:
    make_suite(pytester.path / "caps")
    pytester.makeini("[pytest]\noscura_captures = caps\noscura_html = night/report.html\n")
    result = pytester.runpytest()
    result.assert_outcomes(failed=ITEMS)  # no baseline yet
    page = parse((pytester.path / "night" / "report.html").read_text())
    assert_self_contained(page)
    assert "not in baseline" in page.text


def test_usage_errors(pytester: pytest.Pytester) -> None:
    make_suite(pytester.path / "caps")
    (pytester.path / "out").mkdir()
    folder = pytester.runpytest("--oscura-captures", "caps", "--oscura-html", "out")
    folder.stderr.fnmatch_lines(["*--oscura-html *out: is a directory; name the file*"])
    same = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-html", "r.json", "--oscura-report", "r.json"
    )
    same.stderr.fnmatch_lines(["*--oscura-html and --oscura-report name the same file*"])
