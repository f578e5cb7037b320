"""Run progress: completed/total, ETA, throughput, outcome counts. Pure: no pytest import.

The ETA divides the items left by the recent throughput, measured over a sliding window of
the last :data:`WINDOW` completions (wall clock), so it follows the current pace — under xdist
too, where items finish in parallel — and is shown only once :data:`MIN_SAMPLES` items are in
the window, never extrapolated from the first item.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

WINDOW = 50
MIN_SAMPLES = 5
BAR_WIDTH = 20


def format_duration(seconds: float) -> str:
    """``3m24s``, ``1h02m``, ``45s``."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


@dataclass
class Progress:
    """Counts items as their final reports arrive and renders the progress line."""

    total: int = 0
    clock: Callable[[], float] = time.monotonic
    completed: int = 0
    ok: int = 0
    failed: int = 0
    _finish_times: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW))
    _started: float | None = None

    def start(self) -> None:
        if self._started is None:
            self._started = self.clock()

    def item_done(self, passed: bool) -> None:
        self.start()
        self.completed += 1
        if passed:
            self.ok += 1
        else:
            self.failed += 1
        self._finish_times.append(self.clock())

    def throughput(self) -> float | None:
        """Items per second over the recent window, or ``None`` until there are enough."""
        times = self._finish_times
        if len(times) < MIN_SAMPLES:
            return None
        span = times[-1] - times[0]
        if len(times) < WINDOW and self._started is not None:
            # Early in the run the window is still filling: count from the start, which
            # includes the first item's time instead of ignoring it.
            span = times[-1] - self._started
            return len(times) / span if span > 0 else None
        return (len(times) - 1) / span if span > 0 else None

    def eta_seconds(self) -> float | None:
        rate = self.throughput()
        if rate is None or rate <= 0:
            return None
        return max(0, self.total - self.completed) / rate

    def line(self) -> str:
        total = max(self.total, self.completed)
        fraction = self.completed / total if total else 1.0
        filled = round(fraction * BAR_WIDTH)
        bar = "█" * filled + "░" * (BAR_WIDTH - filled)
        rate = self.throughput()
        eta = self.eta_seconds()
        return (
            f"Processing: [{bar}] {fraction * 100:.0f}% | {self.completed}/{total} | "
            f"ETA {format_duration(eta) if eta is not None else '--'} | "
            f"{f'{rate:.1f}' if rate is not None else '--'} captures/s | "
            f"ok {self.ok} · failed {self.failed}"
        )
