"""The controller's end of the run, without pytest: the baseline update rule."""

from __future__ import annotations

from pathlib import Path

from pytest_oscura.baseline import Baseline, BaselineEntry
from pytest_oscura.controller import update_baseline_entries, write_baseline
from pytest_oscura.records import CaptureRecord


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
