"""The unit of measuring work: one capture file, all its items. Pure: no pytest import.

A :class:`FileJob` says what to load and which measurements each item (channel or segment)
needs; :func:`run_job` loads the file once and measures every item. Jobs and results are
plain, picklable data, so any execution strategy (serial, threads, processes, GPU) and the
resume store can handle them without knowing about pytest.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_oscura.captures import LoadSettings
from pytest_oscura.errors import OscuraError

if TYPE_CHECKING:
    from pytest_oscura.captures import Capture
    from pytest_oscura.measurements import MeasurementResult


@dataclass(frozen=True)
class ItemSpec:
    """One test item of a file: its name, where its samples are, what to measure."""

    name: str
    channel_index: int
    segment: int | None
    measurements: tuple[str, ...]


@dataclass(frozen=True)
class FileJob:
    path: str
    display: str
    settings: LoadSettings
    items: tuple[ItemSpec, ...]


@dataclass(frozen=True)
class ItemResult:
    """What measuring one item gave: its measurements, in ``units``, or the one-line ``error``
    that prevented measuring it (then ``measured`` is ``None``).

    ``warnings`` and ``companions`` are the capture's (:class:`~pytest_oscura.captures.Capture`):
    facts about its file the item reports, and the companion files read with it.

    ``measured_on`` is ``"gpu"`` for a capture the GPU strategy measured on its device, else
    ``"cpu"``; ``gpu_fallback`` is why the GPU strategy measured this capture on the CPU
    instead (an exception on the device), ``None`` when it did not have to."""

    units: str = ""
    measured: MeasurementResult | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    companions: tuple[str, ...] = ()
    measured_on: str = "cpu"
    gpu_fallback: str | None = None

    @property
    def values(self) -> Mapping[str, float | None]:
        return {} if self.measured is None else self.measured.values

    @property
    def not_applicable(self) -> Mapping[str, str]:
        return {} if self.measured is None else self.measured.not_applicable


@dataclass(frozen=True)
class FileResult:
    """Every item's result, or ``error`` (one line) when the file could not be loaded.

    ``lost`` marks an error that is no fact about the file: a cluster lost the result (a worker
    died). A run with such a result writes no baseline.
    """

    path: str
    items: dict[str, ItemResult] = field(default_factory=dict)
    error: str | None = None
    lost: bool = False


class CaptureTimeout(BaseException):
    """Raised by the alarm of :func:`time_limit`; a BaseException so no loader swallows it."""


def can_time_out() -> bool:
    """Whether :func:`time_limit` works here: POSIX, in the main thread of the process."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`CaptureTimeout` in this (main) thread after ``seconds`` of wall time.

    Python code and numpy calls between C loops are interrupted; a no-op where
    :func:`can_time_out` is false or ``seconds`` is ``None``.

    SIGALRM has one timer per process, and pytest-timeout (signal method) uses it too
    (PITFALLS 15): the timer and handler found here are restored afterwards with the time they
    had left, and if that outer timer comes due first, its own handler gets the signal.
    """
    if not seconds or not can_time_out():
        yield
        return
    previous = signal.getsignal(signal.SIGALRM)
    outer_left, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    outer_due = time.monotonic() + outer_left if outer_left > 0 else None
    outer_first = outer_due is not None and outer_left <= seconds
    restored = False

    def restore() -> None:
        nonlocal restored
        if restored:
            return
        restored = True
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
        if outer_due is not None:
            # At least a microsecond: an outer timer that came due meanwhile still fires.
            left = max(outer_due - time.monotonic(), 1e-6)
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)

    def alarm(signum: int, frame: object) -> None:
        if outer_first:
            restore()  # the outer timer is due: its handler gets the signal a moment later
            return
        raise CaptureTimeout

    signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, outer_left if outer_first else seconds)
    try:
        yield
    finally:
        restore()


def timeout_result(job: FileJob, seconds: float) -> FileResult:
    return FileResult(job.path, error=f"{job.display}: timed out after {seconds:g} s")


def describe_exception(exc: BaseException) -> str:
    """``Type: first line of the message`` (the type alone for an empty message)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def failed_result(job: FileJob, exc: BaseException) -> FileResult:
    """The result of a job whose measuring raised: one line naming the file and the exception."""
    return FileResult(
        job.path, error=f"{job.display}: measuring failed ({describe_exception(exc)})"
    )


def run_job(job: FileJob, xp: Any = None, timeout_s: float | None = None) -> FileResult:
    """Load ``job``'s file once and measure each of its items, within ``timeout_s`` seconds.

    Never raises for bad input: a load problem becomes ``FileResult.error`` and a problem of
    one item (a missing segment) that item's ``error``, so one bad capture never costs the
    others their results. A job over its time limit gets the error ``timed out after N s``.
    """
    try:
        with time_limit(timeout_s):
            return _run_job(job, xp)
    except CaptureTimeout:
        assert timeout_s is not None
        return timeout_result(job, timeout_s)


def _run_job(job: FileJob, xp: Any) -> FileResult:
    from pytest_oscura.measurements import measure_detailed

    loaded = load_job(job)
    if isinstance(loaded, FileResult):
        return loaded
    results = {}
    for spec in job.items:
        selected = select_samples(job, spec, loaded)
        if isinstance(selected, ItemResult):
            results[spec.name] = selected
            continue
        capture, samples = selected
        # Logic samples are uint8, stored integers come with their scaling: the engine makes
        # this one channel's float64 copy here.
        measured = measure_detailed(
            samples, capture.sample_rate_hz, spec.measurements, xp=xp, scaling=capture.scaling
        )
        results[spec.name] = measured_result(capture, measured)
    return FileResult(job.path, results)


def measured_result(
    capture: Capture,
    measured: MeasurementResult,
    measured_on: str = "cpu",
    gpu_fallback: str | None = None,
) -> ItemResult:
    """The result of one measured item, with its capture's warnings and companions."""
    return ItemResult(
        capture.units,
        measured,
        None,
        capture.warnings,
        capture.companions,
        measured_on,
        gpu_fallback,
    )


def load_job(job: FileJob) -> list[Capture] | FileResult:
    """Every channel of ``job``'s file, or the failed :class:`FileResult` that says why not."""
    from pytest_oscura.captures import load_capture

    try:
        return load_capture(Path(job.path), job.settings, display=job.display)
    except OscuraError as exc:
        return FileResult(job.path, error=str(exc))


def select_samples(
    job: FileJob, spec: ItemSpec, captures: list[Capture]
) -> tuple[Capture, Any] | ItemResult:
    """The 1-D samples one item measures (its channel, or one segment of it), or its error.

    The samples are as stored (float64 analog, integers with ``capture.scaling``, uint8 logic):
    the measurement engine converts them when it measures, one item at a time."""
    if spec.channel_index >= len(captures):
        return ItemResult(error=f"{job.display}: no channel {spec.name}")
    capture = captures[spec.channel_index]
    samples = capture.stored
    if spec.segment is None and samples.ndim != 1:
        error = f"{job.display}: channel {capture.channel} holds segments, not one record"
        return ItemResult(error=error)
    if spec.segment is not None:
        if samples.ndim != 2 or spec.segment > samples.shape[0]:
            error = f"{job.display}: channel {capture.channel} has no segment {spec.segment}"
            return ItemResult(error=error)
        samples = samples[spec.segment - 1]
    return capture, samples
