"""Companion files are not captures; the capture they belong to names them. Also the R&S pair
and the digital channels RigolWFM decodes from a Rigol ``.wfm``."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from pytest_oscura.captures import format_for, load_capture, read_header, vendor_formats
from pytest_oscura.errors import CaptureError
from tests.unit._bin_files import Wave, floats, write_bin

RS_XML = b'<?xml version="1.0" encoding="UTF-8"?>\n<Database></Database>\n'


def _scope_bin(folder: Path, stem: str = "scope") -> Path:
    return write_bin(folder / f"{stem}.bin", [Wave("1", [floats(np.ones(16))])])


def test_rs_payload_next_to_its_header_is_no_capture(tmp_path: Path) -> None:
    (tmp_path / "rtp.bin").write_bytes(RS_XML)
    payload = tmp_path / "rtp.Wfm.bin"
    payload.write_bytes(b"\x04\x00\x00\x00" + bytes(60))
    assert format_for(payload) is None
    assert format_for(tmp_path / "rtp.bin") is not None
    with pytest.raises(CaptureError, match=r"companion file of rtp\.bin, read with it"):
        load_capture(payload)


def test_rs_header_without_its_payload_is_refused(tmp_path: Path) -> None:
    (tmp_path / "rtp.bin").write_bytes(RS_XML)
    for call in (read_header, load_capture):
        with pytest.raises(CaptureError, match=r"payload file rtp\.Wfm\.bin missing"):
            call(tmp_path / "rtp.bin")


def test_setup_csv_next_to_a_capture_is_its_companion(tmp_path: Path) -> None:
    path = _scope_bin(tmp_path)
    setup = tmp_path / "scope.csv"
    setup.write_text("Setting,Value\nTimebase,100 us/div\nProbe,10:1\n")
    (tmp_path / "scope.txt").write_text("Setup info\n")
    assert format_for(setup) is None
    (capture,) = load_capture(path)
    assert capture.companions == ("scope.csv", "scope.txt")


def test_waveform_csv_next_to_a_capture_stays_a_capture(tmp_path: Path) -> None:
    _scope_bin(tmp_path)
    table = tmp_path / "scope.csv"
    table.write_text("Time,CH1\n0,1\n1e-3,2\n")
    assert format_for(table) is not None
    assert load_capture(tmp_path / "scope.bin")[0].companions == ()


def test_setup_csv_alone_stays_a_capture_and_says_why_it_fails(tmp_path: Path) -> None:
    setup = tmp_path / "alone.csv"
    setup.write_text("Setting,Value\nTimebase,100 us/div\n")
    assert format_for(setup) is not None
    with pytest.raises(CaptureError, match="no numeric data rows"):
        read_header(setup)


def test_rigol_wfm_digital_channels_are_logic_items(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RigolWFM decodes an MSO1000Z's logic lanes into ``logic_channels``: they become logic
    items named as RigolWFM names them, next to the analog channels."""
    analog = SimpleNamespace(
        channel_number=1,
        seconds_per_point=1e-6,
        volts=np.linspace(0, 1, 8),
        times=np.arange(8) * 1e-6,
        unit=SimpleNamespace(name="v"),
    )
    wfm = SimpleNamespace(
        channels=[analog],
        logic_channels={"D10": np.ones(8, np.uint8), "D2": np.arange(8, dtype=np.uint8) % 2},
        logic_seconds_per_point=5e-7,
        logic_time_offset=-2e-6,
        parser_name="wfm1000z",
        header_name="MSO1104Z",
    )
    monkeypatch.setattr(vendor_formats, "_rigolwfm_parse", lambda path, **kwargs: wfm)
    path = tmp_path / "mso.wfm"
    path.write_bytes(bytes.fromhex("01ffffff") + bytes(60))
    header = read_header(path)
    assert [(c.name, c.kind) for c in header.channels] == [
        ("CH1", "analog"),
        ("D2", "logic"),
        ("D10", "logic"),
    ]
    ch1, d2, d10 = load_capture(path)
    assert d2.samples.dtype == np.uint8
    assert d2.samples.tolist() == [0, 1] * 4
    assert d2.sample_rate_hz == pytest.approx(2e6)
    assert d10.metadata["t0_s"] == pytest.approx(-2e-6)
    assert ch1.sample_rate_hz == pytest.approx(1e6)
