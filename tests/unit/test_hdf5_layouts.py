"""HDF5 scope layouts: self-describing datasets, and an error that lists what was looked for."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pytest_oscura.captures import load_capture, read_header
from pytest_oscura.errors import CaptureError

h5py: Any = pytest.importorskip("h5py")


def _names(path: Path) -> list[str]:
    return [c.name for c in read_header(path).channels]


def test_tektronix_data_spacing_start_time(tmp_path: Path) -> None:
    path = tmp_path / "tek.h5"
    with h5py.File(path, "w") as handle:
        handle["Data"] = np.sin(np.arange(1000) / 10.0)
        handle["Spacing"] = 2e-6
        handle["StartTime"] = -1e-3
        handle["Data"].attrs["Units"] = "V"
    assert _names(path) == ["Data"]  # Spacing and StartTime are metadata, not channels
    (capture,) = load_capture(path)
    assert capture.sample_rate_hz == pytest.approx(5e5)
    assert capture.metadata["t0_s"] == pytest.approx(-1e-3)
    assert capture.units == "V"


def test_tektronix_layout_in_channel_groups(tmp_path: Path) -> None:
    path = tmp_path / "tek.h5"
    with h5py.File(path, "w") as handle:
        for k, spacing in ((1, 1e-6), (2, 4e-6)):
            handle[f"CH{k}/Data"] = np.arange(100.0)
            handle[f"CH{k}/Spacing"] = np.array([spacing])  # a one-element array is a scalar
    loaded = {c.channel: c.sample_rate_hz for c in load_capture(path)}
    assert loaded == pytest.approx({"CH1.Data": 1e6, "CH2.Data": 2.5e5})


@pytest.mark.parametrize(
    ("key", "value", "rate"),
    [
        ("XINCR", 1e-6, 1e6),
        ("dt", 2e-6, 5e5),
        ("sample_rate", 1e4, 1e4),
        ("SampleRate", 3e3, 3e3),
        ("wf_increment", 1e-3, 1e3),
        ("XInc", 1e-9, 1e9),
    ],
)
def test_rate_and_period_attributes(tmp_path: Path, key: str, value: float, rate: float) -> None:
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as handle:
        handle["wave"] = np.arange(10.0)
        handle["wave"].attrs[key] = value
    (capture,) = load_capture(path)
    assert capture.sample_rate_hz == pytest.approx(rate)


def test_nearest_declaration_wins(tmp_path: Path) -> None:
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["sample_rate"] = 1e3  # the file's default
        handle["group/own"] = np.arange(10.0)
        handle["group/own"].attrs["dt"] = 1e-6
        handle["group/inherits"] = np.arange(10.0)
        handle["group"].attrs["XINCR"] = 1e-5
        handle["top"] = np.arange(10.0)
    rates = {c.channel: c.sample_rate_hz for c in load_capture(path)}
    assert rates == pytest.approx({"group.inherits": 1e5, "group.own": 1e6, "top": 1e3})


def test_no_rate_says_what_was_looked_for(tmp_path: Path) -> None:
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as handle:
        handle["wave"] = np.arange(10.0)
    with pytest.raises(CaptureError) as info:
        load_capture(path)
    message = str(info.value)
    assert message.startswith(f"{path}: sample rate unknown (the file has none: looked for ")
    for name in ("sample_rate_hz", "sample_rate", "fs", "dt", "Spacing", "XInc", "XINCR"):
        assert name in message
    assert "declare sample_rate_hz in a.h5.json" in message


def test_logic_dataset_is_uint8(tmp_path: Path) -> None:
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as handle:
        handle["d0"] = (np.arange(100) % 10 < 3).astype(np.int16)
        handle["d0"].attrs["kind"] = "logic"
        handle.attrs["fs"] = 1e6
    (capture,) = load_capture(path)
    assert capture.kind == "logic"
    assert capture.samples.dtype == np.uint8


def test_sparse_dataset_declaring_far_more_than_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sparse.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("wave", shape=(10**8,), dtype="f8", chunks=(1024,))  # unwritten
        handle["wave"].attrs["dt"] = 1e-6
    assert path.stat().st_size < 10_000
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(CaptureError, match="bytes per input byte"):
            load_capture(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20
    assert time.perf_counter() - start < 2.0


def test_non_numeric_rate_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as handle:
        handle["wave"] = np.arange(10.0)
        handle["wave"].attrs["dt"] = "fast"
    with pytest.raises(CaptureError, match="sample period dt='fast' is not a number"):
        load_capture(path)
