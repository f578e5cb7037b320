"""Controller: what an update run merges and writes, and what it judges drift against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_oscura import controller as controller_module
from pytest_oscura import finish
from pytest_oscura.baseline import BaselineEntry, build, read_baseline, render
from pytest_oscura.controller import Controller
from pytest_oscura.records import CaptureRecord
from pytest_oscura.suite import CaptureRoot


def _write(path: Path, entries: dict[str, float]) -> None:
    captures = {key: BaselineEntry({"mean": value}, "g", "V") for key, value in entries.items()}
    path.write_text(render(build(captures, {}, "0")))


def _controller(root: Path) -> Controller:
    capture_root = CaptureRoot.open(root, "caps", None)
    controller = Controller([capture_root], True, None, root)
    record = CaptureRecord("a.npy::CH1", "caps", "g", "CH1", measurements={"mean": 2.0})
    controller.records["caps/a.npy::CH1"] = record
    controller.outcomes["caps/a.npy::CH1"] = "passed"
    return controller


def test_an_update_merges_what_another_run_wrote_meanwhile(tmp_path: Path) -> None:
    baseline = tmp_path / "oscura-baseline.json"
    _write(baseline, {"a.npy::CH1": 1.0})
    controller = _controller(tmp_path)
    controller.roots[0].baseline()  # read (and cached) when the run started
    _write(baseline, {"a.npy::CH1": 1.0, "b.npy::CH1": 5.0})  # another update run finished
    controller.finish(stopped=None, whole_suite=False)
    merged = read_baseline(baseline)
    assert merged is not None
    assert {k: e.measurements["mean"] for k, e in merged.captures.items()} == {
        "a.npy::CH1": 2.0,
        "b.npy::CH1": 5.0,
    }
    assert "written: 0 added, 1 changed, 0 removed" in "\n".join(controller.lines)


def test_drift_is_judged_against_the_baseline_the_run_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "oscura-baseline.json", {"a.npy::CH1": 1.0})
    seen: list[Any] = []
    real = finish.summarize_batch

    def spy(records: Any, baselines: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(baselines["caps"].captures["a.npy::CH1"].measurements["mean"])
        return real(records, baselines, *args, **kwargs)

    monkeypatch.setattr(controller_module, "summarize_batch", spy)
    _controller(tmp_path).finish(stopped=None, whole_suite=False)
    assert seen == [1.0]  # not the 2.0 this run has just written


def test_a_stopped_run_writes_nothing_and_says_why(tmp_path: Path) -> None:
    controller = _controller(tmp_path)
    controller.finish(
        stopped="the run stopped early (stopping after 1 failures)", whole_suite=False
    )
    assert not (tmp_path / "oscura-baseline.json").exists()
    assert any(
        "NOT written: the run stopped early (stopping after 1 failures), results are incomplete"
        in line
        for line in controller.lines
    )


def test_an_unwritable_baseline_or_report_fails_the_run_with_one_line(tmp_path: Path) -> None:
    controller = _controller(tmp_path)
    (tmp_path / "oscura-baseline.json").mkdir()  # os.replace cannot put a file there
    controller.report_path = tmp_path / "oscura-baseline.json" / "sub"
    (controller.report_path).mkdir()
    controller.finish(stopped=None, whole_suite=False)
    assert controller.write_failed
    not_written = [line for line in controller.lines if "NOT written" in line]
    assert len(not_written) == 2, controller.lines
