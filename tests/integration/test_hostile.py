"""Hostile input and everyday pytest usage: the run goes on, invents nothing, loses no entries.

Each test names the row of issue 12 it proves.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import sine
from tests.integration.conftest import XDIST_MODES, make_suite, read_json

ITEMS = 5  # make_suite: rail.npy::CH1, pair.npz::CLK, pair.npz::DATA, scope.csv::CH1, tone.wav::CH1
KEYS = [
    "psu/rail.npy::CH1",
    "sig/pair.npz::CLK",
    "sig/pair.npz::DATA",
    "sig/scope.csv::CH1",
    "sig/tone.wav::CH1",
]
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, symlinks and flock are POSIX")


def strict_json(path: Path) -> Any:
    """The file's JSON, failing on NaN/Infinity, which strict JSON readers refuse."""
    return json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"{path}: {c}"))


def update(pytester: pytest.Pytester, *args: str, **kwargs):
    return pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-update-baseline", *args, **kwargs
    )


@pytest.mark.parametrize("xdist", XDIST_MODES)
def test_row2_one_extreme_sample_costs_no_baseline_entry(
    pytester: pytest.Pytester, xdist: list[str]
) -> None:
    caps = make_suite(pytester.path / "caps")
    extreme = 3.3 + 0.01 * sine()
    extreme[5] = 1e300
    np.save(caps / "psu" / "spike.npy", extreme)
    result = update(pytester, "--oscura-report", "r.json", *xdist)
    result.assert_outcomes(passed=ITEMS + 1)
    assert "Traceback" not in result.stdout.str()
    baseline = strict_json(caps / "oscura-baseline.json")
    assert sorted(baseline["captures"]) == sorted([*KEYS, "psu/spike.npy::CH1"])
    spike = baseline["captures"]["psu/spike.npy::CH1"]["measurements"]
    assert spike["max"] == 1e300
    assert spike["rms"] is None  # its square overflows: not applicable, with a reason
    report = strict_json(pytester.path / "r.json")
    (entry,) = [c for c in report["captures"] if c["key"] == "psu/spike.npy::CH1"]
    assert entry["not_applicable"]["rms"] == "result is not a finite number"
    assert report["summary"]["groups"]["caps [V]"]["measurements"]["max"]["std"] > 1e299


@POSIX
@pytest.mark.parametrize("xdist", XDIST_MODES)
def test_row5_special_files_are_never_opened(pytester: pytest.Pytester, xdist: list[str]) -> None:
    caps = make_suite(pytester.path / "caps")
    os.mkfifo(caps / "sig" / "stream.bin")  # .bin: sniffing would open it
    (caps / "build").mkdir()
    os.mkfifo(caps / "build" / "pipe.wfm")  # in a norecursedirs folder: the end-of-run scan
    os.mkfifo(caps / "psu" / "rail.npy.json")  # a sidecar: read at collection
    result = update(pytester, *xdist, timeout=120)
    result.assert_outcomes(passed=ITEMS - 1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*caps/psu/rail.npy.json: is a FIFO, not a regular file (never read)*",
            "oscura: 1 special file(s) below caps never opened (not regular files): "
            "caps/sig/stream.bin (a FIFO)",
        ]
    )


@POSIX
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "oscura.toml: is a FIFO, not a regular file (never read)"),
        (b"[defaults]\nunits = '\xff'\n", "oscura.toml: not UTF-8 text (byte 20)"),
        (b"a = " + b"[" * 100_000, "oscura.toml: nested too deeply"),
        (b"[defaults]\nsample_rate_hz = 1" + b"0" * 5000, "oscura.toml: invalid TOML (Exceeds"),
        (
            b"[defaults]\nsample_rate_hz = 1" + b"0" * 400,
            "oscura.toml: 'sample_rate_hz' must be a finite number, got 1000",
        ),
    ],
    ids=["fifo", "not-utf8", "deep", "5000-digits", "400-digits"],
)
def test_row16_a_bad_oscura_toml_is_a_usage_error_naming_it(
    pytester: pytest.Pytester, content: bytes | None, message: str
) -> None:
    caps = make_suite(pytester.path / "caps")
    (caps / "oscura.toml").unlink()
    if content is None:
        os.mkfifo(caps / "oscura.toml")
    else:
        (caps / "oscura.toml").write_bytes(content)
    result = pytester.runpytest("--oscura-captures", "caps", timeout=60)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert message in output
    assert "INTERNALERROR" not in output
    assert "--oscura-update-baseline" not in output  # that hint is for the baseline only


@pytest.mark.parametrize("xdist", XDIST_MODES)
def test_row7_node_ids_and_paths_narrow_an_update(
    pytester: pytest.Pytester, xdist: list[str]
) -> None:
    caps = make_suite(pytester.path / "caps")
    update(pytester).assert_outcomes(passed=ITEMS)
    before = read_json(caps / "oscura-baseline.json")["captures"]
    np.save(caps / "psu" / "rail.npy", 2.5 + 0.01 * sine())
    np.savez(
        caps / "sig" / "pair.npz",
        samples=np.vstack([0.5 * sine(), 0.25 * sine(freq_hz=2e3)]),
        sample_rate_hz=np.float64(2e5),
        channels=np.array(["CLK", "DATA"]),
    )
    result = pytester.runpytest(
        "caps/sig/pair.npz::CLK", "--oscura-captures", "caps", "--oscura-update-baseline", *xdist
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*written: 0 added, 1 changed, 0 removed*"])
    after = read_json(caps / "oscura-baseline.json")["captures"]
    assert after["sig/pair.npz::CLK"] != before["sig/pair.npz::CLK"]
    assert {k: v for k, v in after.items() if k != "sig/pair.npz::CLK"} == {
        k: v for k, v in before.items() if k != "sig/pair.npz::CLK"
    }
    narrower = pytester.runpytest(
        "caps/psu", "--oscura-captures", "caps", "--oscura-update-baseline", *xdist
    )
    narrower.assert_outcomes(passed=1)
    final = read_json(caps / "oscura-baseline.json")["captures"]
    assert final["psu/rail.npy::CH1"] != before["psu/rail.npy::CH1"]
    assert final["sig/pair.npz::DATA"] == before["sig/pair.npz::DATA"]


@pytest.mark.parametrize("xdist", XDIST_MODES)
@pytest.mark.parametrize("flag", ["-x", "--maxfail=1"])
def test_row8_exitfirst_writes_no_baseline(
    pytester: pytest.Pytester, xdist: list[str], flag: str
) -> None:
    caps = make_suite(pytester.path / "caps")
    with (caps / "oscura.toml").open("a") as config:
        config.write("\n[limits]\nmean = { max = 1.0 }\n")  # rail.npy (3.3 V) fails
    result = update(pytester, flag, *xdist)
    result.stdout.fnmatch_lines(
        [
            "*oscura: baseline *oscura-baseline.json NOT written: the run stopped early with "
            "-x/--maxfail (stopping after 1 failures), results are incomplete"
        ]
    )
    assert not (caps / "oscura-baseline.json").exists()


MARKERS = """
import pytest

def pytest_collection_modifyitems(items):
    for item in items:
        if item.name == "CLK":
            item.add_marker(pytest.mark.skip(reason="skipped by a conftest"))
        elif item.name == "DATA":
            item.add_marker(pytest.mark.skipif(True, reason="skipif by a conftest"))
        elif item.path.name == "rail.npy":
            item.add_marker(pytest.mark.xfail(reason="fails its limit", strict=True))
"""


@pytest.mark.parametrize("xdist", XDIST_MODES)
def test_row9_markers_from_a_conftest_work_on_capture_items(
    pytester: pytest.Pytester, xdist: list[str]
) -> None:
    caps = make_suite(pytester.path / "caps")
    with (caps / "oscura.toml").open("a") as config:
        config.write("\n[limits]\nmean = { max = 1.0 }\n")
    pytester.makeconftest(MARKERS)
    result = update(pytester, "-rsx", *xdist)
    result.assert_outcomes(passed=ITEMS - 3, skipped=2, xfailed=1)
    output = result.stdout.str()
    assert "INTERNALERROR" not in output
    result.stdout.fnmatch_lines(
        [
            "Batch Summary Report — 5 captures, *",
            "Passed 2 · failed 0 · errors 0 · skipped 3 · quality 100.0 %",
        ]
    )
    lines = result.stdout.lines
    assert "SKIPPED [1] caps/sig/pair.npz: skipped by a conftest" in lines
    assert "SKIPPED [1] caps/sig/pair.npz:1: skipif by a conftest" in lines
    assert "XFAIL caps/psu/rail.npy::CH1 - fails its limit" in lines
    assert sorted(read_json(caps / "oscura-baseline.json")["captures"]) == [
        "sig/scope.csv::CH1",
        "sig/tone.wav::CH1",
    ]


def test_row9_benchmark_only_skips_capture_items(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pytest_benchmark")
    # pytest-benchmark takes an inherited PYTEST_XDIST_WORKER (this suite under -n 2) for xdist
    # and refuses --benchmark-only then.
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    make_suite(pytester.path / "caps")
    result = pytester.runpytest("--oscura-captures", "caps", "--benchmark-only", "-p", "no:xdist")
    result.assert_outcomes(skipped=ITEMS)
    assert result.ret == pytest.ExitCode.OK
    assert "INTERNALERROR" not in result.stdout.str()


SLOW_MEASUREMENT = """
import time
from pytest_oscura.measurements import register

@register("slow", "s", "A measurement that hangs, to test timeouts")
def slow(signal):
    time.sleep(60)
    return 0.0
"""


def test_row10_pytest_timeout_still_fires_inside_a_capture(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_timeout")
    caps = make_suite(pytester.path / "caps")
    with (caps / "oscura.toml").open("a") as config:
        config.write("\n[[rules]]\nmatch = 'psu/*'\nmeasurements = ['slow']\n")
    pytester.makeconftest(SLOW_MEASUREMENT)
    # --oscura-timeout 50 used to reset pytest-timeout's SIGALRM timer: the item hung 50 s.
    result = pytester.runpytest(
        "--oscura-captures",
        "caps",
        "--oscura-update-baseline",
        "--oscura-strategy",
        "serial",
        "--oscura-timeout",
        "50",
        "--timeout",
        "3",
        "--timeout-method",
        "signal",
        "-p",
        "no:xdist",
    )
    result.assert_outcomes(passed=ITEMS - 1, errors=1)
    result.stdout.fnmatch_lines(["*Timeout (>3.0s) from pytest-timeout*"])
    assert result.duration < 40


@POSIX
def test_row12_file_names_with_the_node_id_separator_are_refused(
    pytester: pytest.Pytester,
) -> None:
    caps = make_suite(pytester.path / "caps")
    np.save(caps / "sig" / "a::b.npy", sine())
    result = update(pytester, "--junitxml", "junit.xml")
    result.assert_outcomes(passed=ITEMS)
    result.stdout.fnmatch_lines(
        [
            "oscura: 1 capture file(s) below caps not collected: '::' in a path is pytest's "
            "node-id separator (--lf, node-id arguments and JUnit would go wrong); rename: "
            "caps/sig/a::b.npy"
        ]
    )
    assert sorted(read_json(caps / "oscura-baseline.json")["captures"]) == KEYS
    assert "a::b" not in (pytester.path / "junit.xml").read_text()


HOLD_THE_LOCK = """
import fcntl, os, threading, time
from pathlib import Path

from pytest_oscura.baseline import BaselineEntry, build, render

CAPS = Path(__file__).parent / "caps"
LOCK = CAPS / ".oscura-baseline.json.lock"


def other_run():
    # Another update run: it holds the lock while the run under test finishes, then writes
    # its entry. The run under test must wait for it and merge, not overwrite.
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        time.sleep(2)
        entry = BaselineEntry({"mean": 1.0}, "other", "V")
        (CAPS / "oscura-baseline.json").write_text(render(build({"other/x.npy::CH1": entry}, {}, "0")))


def pytest_runtest_setup(item):
    if item.name == "CH1" and item.path.name == "tone.wav":
        threading.Thread(target=other_run, daemon=True).start()
        time.sleep(0.2)
"""


@POSIX
def test_row13_an_update_waits_for_another_and_keeps_its_entries(
    pytester: pytest.Pytester,
) -> None:
    caps = make_suite(pytester.path / "caps")
    pytester.makeconftest(HOLD_THE_LOCK)
    result = pytester.runpytest(
        "caps/sig", "--oscura-captures", "caps", "--oscura-update-baseline", "-p", "no:xdist"
    )
    result.assert_outcomes(passed=ITEMS - 1)
    captures = read_json(caps / "oscura-baseline.json")["captures"]
    assert sorted(captures) == ["other/x.npy::CH1", *KEYS[1:]]


NEVER_RELEASE = """
import fcntl
from pathlib import Path

HELD = []


def pytest_configure(config):
    lock = open(Path(__file__).parent / "caps" / ".oscura-baseline.json.lock", "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    HELD.append(lock)


def pytest_sessionstart(session):
    session.config.pluginmanager.get_plugin("oscura-controller").controller.lock_timeout_s = 0.5
"""


@POSIX
def test_row13_an_update_that_cannot_lock_fails_and_says_why(pytester: pytest.Pytester) -> None:
    caps = make_suite(pytester.path / "caps")
    pytester.makeconftest(NEVER_RELEASE)
    result = update(pytester, "-p", "no:xdist")
    result.stdout.fnmatch_lines(
        [
            "oscura: baseline *oscura-baseline.json NOT written: another update run is writing "
            "it (*.oscura-baseline.json.lock: held by another process for over 0.5 s); run "
            "again when it has finished"
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert not (caps / "oscura-baseline.json").exists()


@POSIX
def test_row14_outputs_keep_their_mode_or_follow_the_umask(pytester: pytest.Pytester) -> None:
    caps = make_suite(pytester.path / "caps")
    baseline = caps / "oscura-baseline.json"
    baseline.write_text("{}")  # unreadable as a baseline: the update replaces it
    baseline.chmod(0o640)
    umask = os.umask(0o022)
    os.umask(umask)
    update(pytester, "--oscura-report", "out/r.json").assert_outcomes(passed=ITEMS)
    assert stat.S_IMODE(baseline.stat().st_mode) == 0o640
    assert stat.S_IMODE((pytester.path / "out" / "r.json").stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in caps.iterdir() if p.name.endswith(".tmp")] == []


@POSIX
@pytest.mark.parametrize("xdist", XDIST_MODES)
def test_row15_a_symlink_loop_is_walked_once(pytester: pytest.Pytester, xdist: list[str]) -> None:
    caps = make_suite(pytester.path / "caps")
    (caps / "sig" / "loop").symlink_to("..")
    first = update(pytester, *xdist)
    first.assert_outcomes(passed=ITEMS)
    first.stdout.fnmatch_lines(
        [
            "oscura: symlinked folder caps/sig/loop (to caps) not entered: its real folder is "
            "below the captures root or on the way to it (a loop); each folder is collected once"
        ]
    )
    assert sorted(read_json(caps / "oscura-baseline.json")["captures"]) == KEYS
    # Entries an older run added through the loop are stale: a whole update removes them.
    data = read_json(caps / "oscura-baseline.json")
    data["captures"]["sig/loop/psu/rail.npy::CH1"] = data["captures"]["psu/rail.npy::CH1"]
    (caps / "oscura-baseline.json").write_text(json.dumps(data))
    update(pytester, *xdist).stdout.fnmatch_lines(["*written: 0 added, 0 changed, 1 removed*"])
