"""CI shards through pytest: ``--oscura-shard K/N`` and ``python -m pytest_oscura merge``.

The central check: the same suite run once, and run as three shards whose reports are merged,
gives the same report, apart from the fields that name the shards. It is made without a
baseline, and with a baseline against a drifted batch with an outlier, so that the outlier
check, the drift check and the gate all fire; one shard runs under xdist.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pytest_oscura.shards import shard_of
from tests.conftest import sine
from tests.integration.conftest import read_json

N = 24  # single-channel captures, plus one two-channel npz
CONFIG = """\
[defaults]
sample_rate_hz = 1e5
measurements = ['rms', 'vpp', 'mean']
tolerance = { rel = 0.01 }

[tolerances]
mean = { abs = 0.01 }
"""
# The only fields of a merged report that may differ from a single run's: the date (fixed here
# anyway by SOURCE_DATE_EPOCH), the shard marker (null in both, but said for clarity), the
# list of reports it was merged from (null in a single run), and how each run measured (one
# shard runs under -n 2 here) and how long it took (the longest shard's, against the single
# run's).
SHARD_FIELDS = ("date", "shard", "merged_from")
RUN_FIELDS = ("duration_s", "strategy")


@pytest.fixture(autouse=True)
def _fixed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795824000")


def write_batch(root: Path, scale: float = 1.0, outlier: float | None = None) -> None:
    """N captures of one group in two folders, one outlier where asked, and a 2-channel npz."""
    for folder in ("a", "b"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "oscura.toml").write_text(CONFIG)
    amplitudes = 1.0 + np.random.default_rng(7).normal(0.0, 0.01, N)
    for index, amplitude in enumerate(amplitudes):
        if outlier is not None and index == 17:
            amplitude = outlier
        folder = "a" if index % 2 else "b"
        np.save(root / folder / f"cap_{index:02d}.npy", scale * amplitude * sine())
    np.savez(
        root / "a" / "pair.npz",
        samples=scale * np.vstack([sine(), 0.98 * sine()]),
        sample_rate_hz=np.float64(1e5),
        channels=np.array(["CLK", "DATA"]),
    )


def run_shards(pytester: pytest.Pytester, *args: str, xdist_shard: int | None = None) -> list[str]:
    names = []
    for index in (1, 2, 3):
        name = f"shard-{index}.json"
        xdist = ["-n", "2"] if index == xdist_shard else []
        pytester.runpytest(
            "--oscura-captures",
            "caps",
            "--oscura-shard",
            f"{index}/3",
            "--oscura-report",
            name,
            *args,
            *xdist,
        )
        names.append(name)
    return names


def merge(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.run(sys.executable, "-m", "pytest_oscura", "merge", *args)


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    same = {key: value for key, value in report.items() if key not in SHARD_FIELDS}
    same["run"] = {key: value for key, value in same["run"].items() if key not in RUN_FIELDS}
    return same


def test_items_of_other_shards_are_deselected_and_every_file_is_in_one_shard(
    pytester: pytest.Pytester,
) -> None:
    write_batch(pytester.path / "caps")
    total = N + 2
    seen: list[str] = []
    for index in (1, 2, 3):
        result = pytester.runpytest(
            "--oscura-captures", "caps", "--oscura-shard", f"{index}/3", "--oscura-report", "r.json"
        )
        outcomes = result.parseoutcomes()
        mine = read_json(pytester.path / "r.json")
        assert mine["shard"] == {"index": index, "count": 3}
        assert mine["run"]["whole_suite"] is True  # the shard is all it was asked to run
        nodeids = [c["nodeid"] for c in mine["captures"]]
        assert outcomes.get("failed", 0) == len(nodeids)  # no baseline yet: all fail
        assert outcomes["deselected"] == total - len(nodeids)
        assert "passed" not in outcomes
        for nodeid in nodeids:
            relative = nodeid.removeprefix("caps/").rpartition("::")[0]
            assert shard_of(relative, 3) == index
        seen += nodeids
        result.stdout.fnmatch_lines([f"oscura: shard {index}/3: capture files by a stable hash*"])
    assert len(seen) == len(set(seen)) == total
    pair = [n for n in seen if "pair.npz" in n]
    assert len(pair) == 2


def test_shard_options_usage_errors_and_ini_twin(pytester: pytest.Pytester) -> None:
    write_batch(pytester.path / "caps")
    bad = pytester.runpytest("--oscura-captures", "caps", "--oscura-shard", "4/3")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--oscura-shard: '4/3' is not a shard: write K/N with 1 <= K <= N*"])
    update = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-shard", "1/3", "--oscura-update-baseline"
    )
    assert update.ret == pytest.ExitCode.USAGE_ERROR
    update.stderr.fnmatch_lines(
        ["ERROR: --oscura-update-baseline with --oscura-shard 1/3 would write only this shard's*"]
    )
    pytester.makeini("[pytest]\noscura_shard = 2/3\n")
    ini = pytester.runpytest("--oscura-captures", "caps", "--co", "-q")
    ini.stdout.fnmatch_lines(["*deselected*"])
    ids = [line for line in ini.stdout.lines if line.startswith("caps/")]
    assert ids
    assert all(shard_of(i[5:].rpartition("::")[0], 3) == 2 for i in ids)


def test_three_shards_merged_equal_one_run_without_a_baseline(pytester: pytest.Pytester) -> None:
    write_batch(pytester.path / "caps", outlier=1.3)
    gate = ["--oscura-gate", "outliers"]
    single = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-report", "single.json", *gate
    )
    assert single.ret == pytest.ExitCode.TESTS_FAILED
    shards = run_shards(pytester, *gate)
    merged = merge(pytester, *shards, "--report", "merged.json")
    assert merged.ret == 1  # the outlier gate fails, as in the single run
    merged.stdout.fnmatch_lines(
        ["Merged 3 report(s), shards 1, 2, 3 of 3: 26 capture items", "Gate: FAILED*"]
    )
    one, many = read_json(pytester.path / "single.json"), read_json(pytester.path / "merged.json")
    assert {o["key"] for o in one["summary"]["outliers"]["flagged"]} == {"a/cap_17.npy::CH1"}
    assert comparable(many) == comparable(one)
    assert many["merged_from"] == [
        {"report": f"shard-{i}.json", "shard": {"index": i, "count": 3}} for i in (1, 2, 3)
    ]


def test_three_shards_merged_equal_one_run_with_drift_outliers_and_gate(
    pytester: pytest.Pytester,
) -> None:
    caps = pytester.path / "caps"
    write_batch(caps)
    np.save(caps / "b" / "gone.npy", sine())  # in the baseline, deleted below: a stale entry
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    (caps / "b" / "gone.npy").unlink()
    write_batch(caps, scale=1.008, outlier=1.3)  # drift below every tolerance, one outlier
    gate = ["--oscura-gate", "outliers,drift"]
    single = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-report", "single.json", *gate
    )
    assert single.ret == pytest.ExitCode.TESTS_FAILED
    shards = run_shards(pytester, *gate, xdist_shard=2)
    merged = merge(pytester, *shards, "--report", "merged.json")
    assert merged.ret == 1
    one, many = read_json(pytester.path / "single.json"), read_json(pytester.path / "merged.json")
    summary = one["summary"]
    assert summary["gate"]["passed"] is False
    assert {c["measurement"] for c in summary["drift"]["cells"] if c["flagged"]} >= {"rms", "vpp"}
    assert summary["outliers"]["flagged"]
    assert one["run"]["roots"][0]["stale"] == ["b/gone.npy::CH1"]
    assert comparable(many) == comparable(one)

    # --update-baseline from the merge writes the file a single update run writes, byte for byte.
    before = (caps / "oscura-baseline.json").read_bytes()
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    by_one_run = (caps / "oscura-baseline.json").read_bytes()
    (caps / "oscura-baseline.json").write_bytes(before)
    updated = merge(pytester, *shards, "--report", "merged.json", "--update-baseline")
    assert updated.ret == 0  # as in an update run, the gate is not applied
    updated.stdout.fnmatch_lines(
        [
            "*gate 'outliers,drift' not applied: this run updates the baseline*",
            "oscura: baseline caps/oscura-baseline.json written: 0 added, 26 changed, 1 removed",
        ]
    )
    assert (caps / "oscura-baseline.json").read_bytes() == by_one_run


def test_merge_refuses_mixed_baselines_and_incomplete_updates(pytester: pytest.Pytester) -> None:
    caps = pytester.path / "caps"
    write_batch(caps)
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    shards = run_shards(pytester)
    baseline = caps / "oscura-baseline.json"
    before = baseline.read_bytes()

    partial = merge(pytester, shards[0], shards[2], "--report", "m.json", "--update-baseline")
    assert partial.ret == 2
    partial.stderr.fnmatch_lines(
        [
            "python -m pytest_oscura merge: --update-baseline needs every shard: shard 2/3 "
            "missing; the baseline is unchanged"
        ]
    )
    assert not (pytester.path / "m.json").exists()
    incomplete = merge(pytester, shards[0], shards[2], "--report", "m.json")
    assert incomplete.ret == 0
    incomplete.stdout.fnmatch_lines(["*shard(s) 2/3 missing: the summary covers shards 1, 3 of 3*"])

    write_batch(caps, scale=1.1)
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline")
    pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-shard", "2/3", "--oscura-report", shards[1]
    )
    mixed = merge(pytester, *shards, "--report", "m2.json")
    assert mixed.ret == 2
    mixed.stderr.fnmatch_lines(
        [
            "python -m pytest_oscura merge: different baselines: shard-1.json and shard-2.json "
            "were checked against different versions of caps/oscura-baseline.json (sha256 *"
        ]
    )
    assert not (pytester.path / "m2.json").exists()

    shutil.copy(pytester.path / shards[0], pytester.path / "copy.json")
    twice = merge(pytester, shards[0], "copy.json", "--report", "m3.json")
    assert twice.ret == 2
    twice.stderr.fnmatch_lines(
        ["python -m pytest_oscura merge: shard 1/3 twice: shard-1.json and copy.json"]
    )
    changed = merge(pytester, shards[0], "--report", "m4.json")
    assert changed.ret == 2
    changed.stderr.fnmatch_lines(
        [
            "python -m pytest_oscura merge: caps/oscura-baseline.json: not the baseline the "
            "shards were checked against (sha256 *"
        ]
    )
    assert baseline.read_bytes() != before  # rewritten above by the scale 1.1 update run only
