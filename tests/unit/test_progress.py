"""Progress line, throughput and ETA on a fake clock."""

from __future__ import annotations

import pytest

from pytest_oscura.progress import Progress, format_duration


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_eta_follows_recent_pace_and_waits_for_enough_samples() -> None:
    clock = FakeClock()
    progress = Progress(total=1000, clock=clock)
    progress.start()
    for _ in range(4):
        clock.now += 0.5
        progress.item_done(passed=True)
    assert progress.eta_seconds() is None
    assert "ETA --" in progress.line()
    for _ in range(96):
        clock.now += 0.5  # 2 captures/s
        progress.item_done(passed=True)
    assert progress.throughput() == pytest.approx(2.0)
    assert progress.eta_seconds() == pytest.approx(450.0)
    for _ in range(60):
        clock.now += 0.1  # the pace changes to 10 captures/s: the window forgets the old pace
        progress.item_done(passed=False)
    assert progress.throughput() == pytest.approx(10.0)
    assert progress.eta_seconds() == pytest.approx(84.0)


def test_line_format() -> None:
    clock = FakeClock()
    progress = Progress(total=1000, clock=clock)
    progress.start()
    for index in range(618):
        clock.now += 0.119
        progress.item_done(passed=index >= 2)
    line = progress.line()
    assert line.startswith(
        "Processing: [████████████░░░░░░░░] 62% | 618/1000 | ETA 45s | 8.4 captures/s"
    )
    assert line.endswith("ok 616 · failed 2")


def test_format_duration() -> None:
    assert [format_duration(s) for s in (0, 45, 204, 3720)] == ["0s", "45s", "3m24s", "1h02m"]
