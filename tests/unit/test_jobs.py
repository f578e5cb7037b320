"""A file job loads once and measures each item; bad input becomes data, never an exception."""

from __future__ import annotations

import pickle
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from pytest_oscura.captures import LoadSettings
from pytest_oscura.jobs import (
    CaptureTimeout,
    FileJob,
    ItemSpec,
    can_time_out,
    run_job,
    time_limit,
)


def job(path: Path, *items: ItemSpec) -> FileJob:
    return FileJob(str(path), path.name, LoadSettings(sample_rate_hz=1e3), items)


def test_each_item_gets_its_measurements(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.array([[1.0, -1.0, 1.0, -1.0], [2.0, 2.0, 2.0, 2.0]]))
    result = run_job(
        job(
            tmp_path / "a.npy",
            ItemSpec("CH1", 0, None, ("rms", "vpp")),
            ItemSpec("CH2", 1, None, ("mean",)),
        )
    )
    assert result.error is None
    assert result.items["CH1"].values == {"rms": 1.0, "vpp": 2.0}
    assert result.items["CH2"].values == {"mean": 2.0}
    assert result.items["CH2"].units == "V"
    assert pickle.loads(pickle.dumps(result)) == result  # strategies send results across processes


def test_load_error_is_data(tmp_path: Path) -> None:
    (tmp_path / "a.npy").write_bytes(b"nope")
    result = run_job(job(tmp_path / "a.npy", ItemSpec("CH1", 0, None, ("rms",))))
    assert result.items == {}
    assert result.error == "a.npy: not an NPY file (bad magic number)"


def test_missing_segment_is_an_item_error(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.ones(4))
    result = run_job(job(tmp_path / "a.npy", ItemSpec("CH1#2", 0, 2, ("rms",))))
    assert result.items["CH1#2"].error == "a.npy: channel CH1 has no segment 2"


def test_logic_items_measure_as_their_float64_copy_would(tmp_path: Path) -> None:
    from pytest_oscura.measurements import PROFILES, measure_detailed

    bits = (np.arange(4000) % 40 < 13)[None, :].repeat(2, axis=0)
    bits[1, ::7] = True
    np.save(tmp_path / "la.npy", bits)  # bool: logic channels, held as uint8
    names = PROFILES["logic"]
    result = run_job(
        job(tmp_path / "la.npy", ItemSpec("CH1", 0, None, names), ItemSpec("CH2", 1, None, names))
    )
    for index, name in enumerate(("CH1", "CH2")):
        expected = measure_detailed(bits[index].astype(np.float64), 1e3, names)
        assert result.items[name].measured == expected


def test_items_carry_their_files_warnings_and_companions(tmp_path: Path) -> None:
    from tests.unit._bin_files import Wave, bin_bytes, floats, write_bin

    waves = [Wave("1", [floats(np.sin(np.arange(100.0)))])]
    size = len(bin_bytes(waves))
    path = write_bin(tmp_path / "scope.bin", waves, declared=size + 100)
    (tmp_path / "scope.txt").write_text("Setup info\nCh 1 1.00 V/div\n")
    result = run_job(job(path, ItemSpec("CH1", 0, None, ("rms",))))
    item = result.items["CH1"]
    assert item.warnings == (
        f"header declares a {size + 100}-byte file, the file has {size} bytes; the 1 "
        "waveform(s) it describes are complete and were read",
    )
    assert item.companions == ("scope.txt",)


def test_a_signal_is_freed_without_the_garbage_collector() -> None:
    """A cached not-applicable reason must not tie the signal into a reference cycle: the
    channels of a file are measured one after another, and each float64 copy must go."""
    import gc
    import weakref

    from pytest_oscura.measurements import Signal

    gc.disable()
    try:
        signal = Signal(np.zeros(100), 1e3)
        for shared in ("_edges", "_period", "_spectrum"):
            getattr(signal, shared)  # each caches a NotApplicable for a constant signal
        ref = weakref.ref(signal)
        del signal
        assert ref() is None
    finally:
        gc.enable()


class _Outer(Exception):
    """Raised by the stand-in for pytest-timeout's SIGALRM handler."""


@pytest.fixture
def outer_timer():
    """Arm an outer SIGALRM timer as pytest-timeout does; disarm and restore afterwards."""
    if not can_time_out():
        pytest.skip("SIGALRM timers are POSIX-only")

    def handler(signum, frame):
        raise _Outer

    previous = signal.signal(signal.SIGALRM, handler)

    def arm(seconds: float) -> None:
        signal.setitimer(signal.ITIMER_REAL, seconds)

    yield handler, arm
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


class TestTimeLimitKeepsAnOuterTimer:
    """PITFALLS 15: the per-capture limit must not switch pytest-timeout's timer off."""

    def test_restores_the_handler_and_the_time_left(self, outer_timer) -> None:
        handler, arm = outer_timer
        arm(10.0)
        with time_limit(5.0):
            time.sleep(0.1)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert signal.getsignal(signal.SIGALRM) is handler
        assert 9.0 < left <= 9.95

    def test_its_own_limit_still_fires_first(self, outer_timer) -> None:
        handler, arm = outer_timer
        arm(10.0)
        start = time.monotonic()
        with pytest.raises(CaptureTimeout), time_limit(0.2):
            time.sleep(5)
        assert time.monotonic() - start < 2
        assert signal.getsignal(signal.SIGALRM) is handler
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 8.0

    def test_an_outer_timer_due_first_gets_its_signal(self, outer_timer) -> None:
        handler, arm = outer_timer
        arm(0.2)
        start = time.monotonic()
        with pytest.raises(_Outer), time_limit(5.0):
            time.sleep(5)
        assert time.monotonic() - start < 2
        assert signal.getsignal(signal.SIGALRM) is handler

    def test_no_outer_timer_leaves_none(self) -> None:
        if not can_time_out():
            pytest.skip("SIGALRM timers are POSIX-only")
        before = signal.getsignal(signal.SIGALRM)
        with time_limit(5.0):
            pass
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        assert signal.getsignal(signal.SIGALRM) is before
