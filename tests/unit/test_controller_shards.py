"""The controller's end of the run, without pytest: the baseline update rule, shards, lost
results and the report's ``run`` section."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pytest_oscura.baseline import Baseline, BaselineEntry, file_sha256
from pytest_oscura.controller import Controller
from pytest_oscura.finish import update_baseline_entries, write_baseline
from pytest_oscura.records import RECORD_PROPERTY, SOURCE_PROPERTY, CaptureRecord
from pytest_oscura.shards import Shard
from pytest_oscura.suite import CaptureRoot


def record(key: str, value: float = 1.0, **fields) -> CaptureRecord:
    return CaptureRecord(
        key=key,
        root="caps",
        group="caps",
        channel="CH1",
        measurements={"rms": value},
        nodeid=f"caps/{key}",
        **fields,
    )


OLD = Baseline(
    {
        "a.npy::CH1": BaselineEntry({"rms": 1.0}, "caps", "V"),
        "b.npy::CH1": BaselineEntry({"rms": 2.0}, "caps", "V"),
        "gone.npy::CH1": BaselineEntry({"rms": 3.0}, "caps", "V"),
    }
)


def test_update_sets_measured_entries_keeps_errors_and_drops_stale_only_when_whole() -> None:
    batch = [
        record("a.npy::CH1", 1.5, outcome="failed"),
        record("b.npy::CH1", error="broken", outcome="error"),
        record("new.npy::CH1", 4.0),
        record("skipped.npy::CH1", outcome="skipped"),
    ]
    whole = update_baseline_entries(OLD, batch, ["gone.npy::CH1"], whole_suite=True)
    assert whole.entries == {
        "a.npy::CH1": BaselineEntry({"rms": 1.5}, "caps", "V"),
        "b.npy::CH1": OLD.captures["b.npy::CH1"],
        "new.npy::CH1": BaselineEntry({"rms": 4.0}, "caps", "V"),
    }
    assert (whole.changes.added, whole.changes.changed, whole.changes.removed) == (
        ("new.npy::CH1",),
        ("a.npy::CH1",),
        ("gone.npy::CH1",),
    )
    assert whole.errors == ["b.npy::CH1"]
    assert whole.needed
    partial = update_baseline_entries(OLD, batch, ["gone.npy::CH1"], whole_suite=False)
    assert "gone.npy::CH1" in partial.entries
    same = update_baseline_entries(OLD, [record("a.npy::CH1", 1.0)], [], whole_suite=False)
    assert not same.needed
    assert update_baseline_entries(None, [], [], whole_suite=True).needed  # no file yet


def test_write_baseline_only_when_needed(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    assert write_baseline(path, update_baseline_entries(OLD, [], [], whole_suite=False)) == (
        "unchanged"
    )
    assert not path.exists()
    assert write_baseline(path, update_baseline_entries(None, [], [], whole_suite=True)) == (
        "written"
    )
    assert path.exists()


@pytest.fixture
def root(tmp_path: Path) -> CaptureRoot:
    caps = tmp_path / "caps"
    caps.mkdir()
    (caps / "oscura.toml").write_text("[defaults]\nsample_rate_hz = 1e5\n")
    for index in range(12):
        np.save(caps / f"c{index:02d}.npy", np.ones(10))
    entries = {f"c{i:02d}.npy::CH1": BaselineEntry({"rms": 1.0}, "caps", "") for i in range(12)}
    entries.update({f"gone{i}.npy::CH1": BaselineEntry({"rms": 1.0}, "caps", "") for i in range(6)})
    batch = [record(key) for key in entries]
    write_baseline(
        caps / "oscura-baseline.json", update_baseline_entries(None, batch, [], whole_suite=True)
    )
    return CaptureRoot.open(caps, "caps", None)


def feed(controller: Controller, records: list[CaptureRecord], source: str = "measured") -> None:
    for rec in records:
        controller.on_report(rec.nodeid, "setup", "passed", [(SOURCE_PROPERTY, source)])
        controller.on_report(
            rec.nodeid, "call", "passed", [(RECORD_PROPERTY, json.dumps(rec.to_dict()))]
        )


def test_a_shard_judges_the_stale_keys_of_its_own_files_only(root: CaptureRoot) -> None:
    everything = sorted(f"gone{i}.npy::CH1" for i in range(6))
    seen: list[str] = []
    for index in (1, 2, 3):
        shard = Shard(index, 3)
        controller = Controller([root], False, None, root.path.parent, shard=shard)
        present = [f"c{i:02d}.npy::CH1" for i in range(12)]
        feed(controller, [record(key) for key in present if shard.holds_key(key)])
        controller.finish(stopped=None, whole_suite=True)
        stale = controller.stale_keys["caps"]
        assert all(shard.holds_key(key) for key in stale)
        seen += stale
    assert sorted(seen) == everything


def test_lost_results_block_the_baseline_and_are_in_the_report(root: CaptureRoot) -> None:
    before = root.baseline_path.read_bytes()
    report = root.path.parent / "r.json"
    controller = Controller([root], True, report, root.path.parent)
    feed(controller, [record("c00.npy::CH1", 2.0)])
    feed(controller, [replace(record("c01.npy::CH1"), error="lost", measurements={})], "lost")
    controller.finish(stopped=None, whole_suite=False)
    assert controller.lost_items == ["caps/c01.npy::CH1"]
    assert any("NOT written: the Dask cluster lost results" in line for line in controller.lines)
    assert root.baseline_path.read_bytes() == before
    run = json.loads(report.read_text())["run"]
    assert run["lost_results"] == 1
    assert any(
        "the Dask cluster lost the results of 1 item(s)" in line
        for line in controller.summary_lines
    )


def test_run_section_names_the_baseline_it_was_checked_against(root: CaptureRoot) -> None:
    report = root.path.parent / "r.json"
    before = file_sha256(root.baseline_path)
    controller = Controller([root], True, report, root.path.parent, shard=None)
    feed(controller, [record(f"c{i:02d}.npy::CH1", 5.0) for i in range(12)])
    controller.finish(stopped=None, whole_suite=True)  # rewrites the baseline
    data = json.loads(report.read_text())
    assert data["shard"] is None
    assert data["merged_from"] is None
    assert data["run"]["roots"] == [
        {
            "display": "caps",
            "baseline": "caps/oscura-baseline.json",
            "baseline_sha256": before,
            "config_sha256": file_sha256(root.path / "oscura.toml"),
            "stale": sorted(f"gone{i}.npy::CH1" for i in range(6)),
            "path": str(root.path),
            "waveforms": str(root.path / "oscura-baseline.waveforms"),
        }
    ]
    assert file_sha256(root.baseline_path) != before
    html_facts = ("roots", "strategy", "duration_s", "accept_command", "tolerances")
    assert {k: v for k, v in data["run"].items() if k not in html_facts} == {
        "outliers": "mad",
        "gate": "none",
        "update_baseline": True,
        "interrupted": False,
        "lost_workers": [],
        "lost_results": 0,
        "whole_suite": True,
    }
