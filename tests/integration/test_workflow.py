"""The whole user workflow through pytester, without xdist and with ``-n 2``."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.conftest import sine
from tests.integration.conftest import XDIST_MODES, make_suite, read_json

ITEMS = 5  # rail.npy::CH1, pair.npz::CLK, pair.npz::DATA, scope.csv::CH1, tone.wav::CH1


@pytest.fixture(autouse=True)
def _fixed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795824000")


@pytest.mark.parametrize("xdist", XDIST_MODES)
def test_no_baseline_update_pass_change_fail_update_pass(
    pytester: pytest.Pytester, xdist: list[str]
) -> None:
    caps = make_suite(pytester.path / "caps")
    args = ["--oscura-captures", "caps", *xdist]

    first = pytester.runpytest(*args)
    first.assert_outcomes(failed=ITEMS)
    first.stdout.fnmatch_lines(
        ["oscura: caps (no baseline yet: --oscura-update-baseline records oscura-baseline.json)"]
    )
    first.stdout.fnmatch_lines(["*psu/rail.npy::CH1: no baseline file oscura-baseline.json*"])
    first.stdout.fnmatch_lines(
        ["Record it with: pytest --oscura-captures caps --oscura-update-baseline"]
    )
    assert not (caps / "oscura-baseline.json").exists()

    update = pytester.runpytest(*args, "--oscura-update-baseline")
    update.assert_outcomes(passed=ITEMS)
    update.stdout.fnmatch_lines(
        ["*baseline*oscura-baseline.json written: 5 added, 0 changed, 0 removed"]
    )

    checked = pytester.runpytest(*args)
    checked.assert_outcomes(passed=ITEMS)
    checked.stdout.fnmatch_lines(
        ["oscura: caps (checking against the baseline oscura-baseline.json)"]
    )

    np.save(caps / "psu" / "rail.npy", 3.4 + 0.01 * sine())  # the rail moved up by 100 mV
    changed = pytester.runpytest(*args)
    changed.assert_outcomes(passed=ITEMS - 1, failed=1)
    changed.stdout.fnmatch_lines(
        [
            "psu/rail.npy::CH1: * of * measurements out of bounds",
            "*measurement*value*baseline*Δ*Δ%*allowed*unit",
            "*mean*3.4*3.3*+0.1*+3.03 %*±0.01 V*V",
            "Accept the new values with: pytest --oscura-captures caps --oscura-update-baseline",
        ]
    )
    assert "Traceback" not in changed.stdout.str()
    assert "def runtest" not in changed.stdout.str()

    again = pytester.runpytest(*args, "--oscura-update-baseline")
    again.assert_outcomes(passed=ITEMS)
    again.stdout.fnmatch_lines(["*written: 0 added, 1 changed, 0 removed"])
    pytester.runpytest(*args).assert_outcomes(passed=ITEMS)

    unchanged = pytester.runpytest(*args, "--oscura-update-baseline")
    unchanged.stdout.fnmatch_lines(["*unchanged: 0 added, 0 changed, 0 removed"])


def test_xdist_and_serial_write_identical_baselines_and_verdicts(pytester: pytest.Pytester) -> None:
    caps = make_suite(pytester.path / "caps")
    baseline = caps / "oscura-baseline.json"
    outputs = {}
    for mode in ([], ["-n", "2"]):
        baseline.unlink(missing_ok=True)
        pytester.runpytest(
            "--oscura-captures", "caps", "--oscura-update-baseline", *mode
        ).assert_outcomes(passed=ITEMS)
        np.save(caps / "psu" / "rail.npy", 3.3 + 0.01 * sine())
        result = pytester.runpytest(
            "--oscura-captures", "caps", "--oscura-report", "report.json", *mode
        )
        result.assert_outcomes(passed=ITEMS)
        report = read_json(pytester.path / "report.json")
        outputs[tuple(mode)] = (baseline.read_bytes(), report["captures"], report["summary"])
    assert outputs[()] == outputs[("-n", "2")]


@pytest.mark.parametrize("xdist", XDIST_MODES)
def test_json_report(pytester: pytest.Pytester, xdist: list[str]) -> None:
    caps = make_suite(pytester.path / "caps")
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    np.save(caps / "psu" / "rail.npy", 3.4 + 0.01 * sine())
    (caps / "sig" / "broken.npy").write_bytes(b"\x93NUMPY\x01\x00")
    pytester.runpytest("--oscura-captures", "caps", "--oscura-report", "out/report.json", *xdist)
    report = read_json(pytester.path / "out" / "report.json")
    assert report["schema"] == "pytest-oscura-report/1"
    by_id = {c["nodeid"]: c for c in report["captures"]}
    assert sorted(by_id) == [
        "caps/psu/rail.npy::CH1",
        "caps/sig/broken.npy::load",
        "caps/sig/pair.npz::CLK",
        "caps/sig/pair.npz::DATA",
        "caps/sig/scope.csv::CH1",
        "caps/sig/tone.wav::CH1",
    ]
    rail = by_id["caps/psu/rail.npy::CH1"]
    assert rail["outcome"] == "failed"
    assert rail["path"] == "caps/psu/rail.npy"
    assert rail["channel"] == "CH1"
    assert rail["measurements"]["mean"] == pytest.approx(3.4)
    mean_failure = next(f for f in rail["failures"] if f["measurement"] == "mean")
    assert mean_failure["kind"] == "tolerance"
    assert mean_failure["baseline"] == pytest.approx(3.3)
    assert mean_failure["value"] == pytest.approx(3.4)
    broken = by_id["caps/sig/broken.npy::load"]
    assert broken["outcome"] == "error"
    assert "broken.npy" in broken["error"]
    assert by_id["caps/sig/pair.npz::CLK"]["outcome"] == "passed"
    assert by_id["caps/sig/pair.npz::CLK"]["error"] is None
    # tone.wav is in FS (full scale), the others in V: the group is split by unit
    assert sorted(report["summary"]["groups"]) == ["caps [FS]", "caps [V]"]
    counts = report["summary"]["counts"]
    assert (counts["passed"], counts["failed"], counts["error"], counts["skipped"]) == (4, 1, 1, 0)
    # Added within schema 1 for the HTML page: the baseline each capture was judged against,
    # and the run's facts.
    assert rail["baseline"]["mean"] == pytest.approx(3.3)
    assert broken["baseline"] is None
    run = report["run"]
    (root,) = run["roots"]
    assert root["display"] == "caps"
    assert root["path"] == str(caps)
    assert root["waveforms"] == str(caps / "oscura-baseline.waveforms")
    assert run["accept_command"] == "pytest --oscura-captures caps --oscura-update-baseline"
    assert run["strategy"] == ("serial in each of 2 xdist workers" if xdist else "serial (auto)")
    assert run["duration_s"] >= 0
    assert run["update_baseline"] is False
    assert run["tolerances"]["caps"]["mean"] == {"abs": 0.01, "rel": 0.0}
    assert run["tolerances"]["caps"]["rms"] == {"abs": 0.0, "rel": 0.01}


def test_measurements_reach_junitxml(pytester: pytest.Pytester) -> None:
    make_suite(pytester.path / "caps")
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    pytester.runpytest("--oscura-captures", "caps", "-n", "2", "--junitxml", "junit.xml")
    xml = (pytester.path / "junit.xml").read_text()
    assert '<property name="vpp" value="2.0"' in xml or '<property name="vpp" value="1.99' in xml
    assert 'name="mean"' in xml


def test_collect_only_selection_and_last_failed(pytester: pytest.Pytester) -> None:
    caps = make_suite(pytester.path / "caps")
    collected = pytester.runpytest("--oscura-captures", "caps", "--co", "-q")
    collected.stdout.fnmatch_lines(
        [
            "caps/psu/rail.npy::CH1",
            "caps/sig/pair.npz::CLK",
            "caps/sig/pair.npz::DATA",
            "caps/sig/scope.csv::CH1",
            "caps/sig/tone.wav::CH1",
        ]
    )
    assert "Batch Summary" not in collected.stdout.str()  # nothing ran: nothing to summarise
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    pytester.runpytest("--oscura-captures", "caps", "-k", "CLK").assert_outcomes(passed=1)
    pytester.runpytest("--oscura-captures", "caps", "-m", "oscura").assert_outcomes(passed=ITEMS)
    pytester.runpytest("--oscura-captures", "caps", "-m", "not oscura").assert_outcomes()
    np.savez(
        caps / "sig" / "pair.npz",
        samples=np.vstack([sine(), 0.9 * sine(freq_hz=2e3)]),
        sample_rate_hz=np.float64(2e5),
        channels=np.array(["CLK", "DATA"]),
    )
    pytester.runpytest("--oscura-captures", "caps").assert_outcomes(passed=ITEMS - 1, failed=1)
    rerun = pytester.runpytest("--oscura-captures", "caps", "--lf")
    rerun.assert_outcomes(failed=1)
    rerun.stdout.fnmatch_lines(["*sig/pair.npz::DATA*"])


def test_stale_entries_are_reported_and_removed_only_by_a_whole_update(
    pytester: pytest.Pytester,
) -> None:
    caps = make_suite(pytester.path / "caps")
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    (caps / "sig" / "tone.wav").unlink()
    plain = pytester.runpytest("--oscura-captures", "caps")
    plain.assert_outcomes(passed=ITEMS - 1)
    plain.stdout.fnmatch_lines(
        [
            "*1 baseline entry of oscura-baseline.json in caps has no capture any more*sig/tone.wav::CH1"
        ]
    )

    filtered = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-update-baseline", "-k", "CLK"
    )
    filtered.stdout.fnmatch_lines(
        [
            "*unchanged: 0 added, 0 changed, 0 removed",
            "*kept, since this update run did not cover the whole suite*",
        ]
    )
    assert "sig/tone.wav::CH1" in read_json(caps / "oscura-baseline.json")["captures"]

    whole = pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    whole.stdout.fnmatch_lines(["*written: 0 added, 0 changed, 1 removed"])
    assert "sig/tone.wav::CH1" not in read_json(caps / "oscura-baseline.json")["captures"]


def test_keys_do_not_depend_on_rootdir_or_path_like_flags(pytester: pytest.Pytester) -> None:
    caps = make_suite(pytester.path / "caps")
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    expected = read_json(caps / "oscura-baseline.json")["captures"]
    elsewhere = pytester.mkdir("elsewhere")
    shutil.copy(caps / "oscura-baseline.json", elsewhere / "base.json")
    (elsewhere / "out").mkdir()
    (elsewhere / "out" / "report.json").write_text("{}")
    pytester.chdir()
    moved = pytester.runpytest(
        "--oscura-captures",
        str(caps),
        "--oscura-baseline",
        str(elsewhere / "base.json"),
        "--oscura-report",
        str(elsewhere / "out" / "report.json"),
    )
    moved.assert_outcomes(passed=ITEMS)
    assert read_json(elsewhere / "base.json")["captures"] == expected


def test_worker_crash_is_reported_and_blocks_the_baseline_update(pytester: pytest.Pytester) -> None:
    caps = make_suite(pytester.path / "caps")
    pytester.makeconftest(
        """
        import os

        def pytest_runtest_call(item):
            if item.name == "DATA" and os.environ.get("PYTEST_XDIST_WORKER"):
                os._exit(3)
        """
    )
    result = pytester.runpytest(
        "--oscura-captures",
        "caps",
        "--oscura-update-baseline",
        "-n",
        "2",
        "--oscura-report",
        "r.json",
    )
    result.stdout.fnmatch_lines(
        ["*xdist worker(s) crashed*", "*NOT written: an xdist worker crashed*"]
    )
    assert not (caps / "oscura-baseline.json").exists()
    # The report counts what pytest counts: xdist reports the crashed item as failed.
    pytest_failed = result.parseoutcomes()["failed"]
    report = read_json(pytester.path / "r.json")
    counts = report["summary"]["counts"]
    assert counts["failed"] == pytest_failed == 1
    assert counts["quality"] < 100
    (crashed,) = [c for c in report["captures"] if c["outcome"] == "failed"]
    assert crashed["key"] == "sig/pair.npz::DATA"
    assert "crashed" in crashed["error"]


def test_folders_skipped_by_norecursedirs_are_named(pytester: pytest.Pytester) -> None:
    caps = make_suite(pytester.path / "caps")
    (caps / "build").mkdir()
    np.save(caps / "build" / "hidden.npy", sine())
    result = pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    result.assert_outcomes(passed=ITEMS)
    result.stdout.fnmatch_lines(
        [
            "*1 capture file(s) in *caps/build were not collected: pytest's norecursedirs skips 'build'*"
        ]
    )
    pytester.makeini("[pytest]\nnorecursedirs = .*\n")
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline").assert_outcomes(
        passed=ITEMS + 1
    )
