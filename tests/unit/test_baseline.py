"""Baseline file: deterministic text, atomic writes, diffs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pytest_oscura._files import write_atomically
from pytest_oscura.baseline import (
    SCHEMA,
    BaselineEntry,
    build,
    diff,
    read_baseline,
    render,
)
from pytest_oscura.errors import BaselineError


def entries() -> dict[str, BaselineEntry]:
    return {
        "b.npy::CH1": BaselineEntry({"rms": 0.1 + 0.2, "thd": None}, "g", "V"),
        "a.npy::CH1": BaselineEntry({"vpp": 2.0, "mean": -1e-17}, "g", "V"),
    }


def test_render_is_deterministic_sorted_and_round_trips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795824000")
    baseline = build(entries(), {}, "9.9")
    text = render(baseline)
    reordered = build(dict(reversed(list(entries().items()))), {}, "9.9")
    assert render(reordered) == text
    data = json.loads(text)
    assert data["schema"] == SCHEMA
    assert data["provenance"]["date"] == "2026-11-28"
    assert data["provenance"]["plugin_version"] == "9.9"
    assert data["provenance"]["measurements"] == ["mean", "rms", "thd", "vpp"]
    assert list(data["captures"]) == ["a.npy::CH1", "b.npy::CH1"]
    assert '"rms": 0.30000000000000004' in text
    path = tmp_path / "base.json"
    write_atomically(path, text)
    again = read_baseline(path)
    assert again is not None
    assert again.captures == entries()


def test_atomic_write_leaves_old_file_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "base.json"
    path.write_text("old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.json"]


def test_diff() -> None:
    old = entries()
    new = dict(old)
    new["c.npy::CH1"] = BaselineEntry({"rms": 1.0})
    new["a.npy::CH1"] = BaselineEntry({"vpp": 2.5, "mean": -1e-17}, "g", "V")
    del new["b.npy::CH1"]
    changes = diff(old, new)
    assert (changes.added, changes.changed, changes.removed) == (
        ("c.npy::CH1",),
        ("a.npy::CH1",),
        ("b.npy::CH1",),
    )
    assert not diff(old, dict(old)).any


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "invalid JSON"),
        ("[]", "not a pytest-oscura baseline"),
        ('{"schema": "other/1"}', "schema 'other/1'"),
        (
            json.dumps({"schema": SCHEMA, "captures": {"a::CH1": {"measurements": {"rms": "x"}}}}),
            "entry 'a::CH1'",
        ),
    ],
)
def test_corrupt_baselines(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "b.json").write_text(text)
    with pytest.raises(BaselineError, match=message):
        read_baseline(tmp_path / "b.json")


def test_missing_baseline_is_none(tmp_path: Path) -> None:
    assert read_baseline(tmp_path / "nope.json") is None
