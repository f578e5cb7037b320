"""Keysight/Agilent and Rigol ``.bin`` files of each layout our own reader handles, built from
the published format description (``tests/unit/_bin_files.py``). Where RigolWFM reads a layout,
our channels, rates and values must agree with it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pytest_oscura.captures import format_for, load_capture, read_header
from pytest_oscura.errors import CaptureError
from tests.unit._bin_files import (
    COUNTS,
    DIGITAL,
    HERTZ,
    LOGIC,
    MAXIMUM,
    MINIMUM,
    PEAK,
    Buf,
    Wave,
    bin_bytes,
    floats,
    pod,
    square,
    write_bin,
)

HAS_RIGOLWFM = importlib.util.find_spec("RigolWFM") is not None
NEEDS_RIGOLWFM = pytest.mark.skipif(not HAS_RIGOLWFM, reason="RigolWFM not installed ([formats])")


def _rigolwfm(path: Path) -> Any:
    """RigolWFM's reading of ``path`` (its leaked file handles closed)."""
    from pytest_oscura.captures.vendor_formats import _rigolwfm_parse

    return _rigolwfm_parse(path)


def _by_name(path: Path) -> dict[str, Any]:
    return {c.channel: c for c in load_capture(path)}


def _header(path: Path) -> list[tuple[str, str, int]]:
    return [(c.name, c.kind, c.segments) for c in read_header(path).channels]


def _refused(path: Path, match: str) -> None:
    for call in (read_header, load_capture):
        with pytest.raises(CaptureError, match=match) as info:
            call(path)
        assert "\n" not in str(info.value)


# --- Keysight: an analog channel plus a digital pod (issue row 2) -------------------------------


def _keysight_mso(path: Path, labels: tuple[str, ...] = ("D7-D0",)) -> Path:
    n = 1000
    words = (np.arange(n) // 5).astype(np.uint8)  # bit k toggles every 5·2^k samples
    waves = [Wave("1", [floats(square(n))])]
    waves += [Wave(label, [pod(words)], waveform_type=LOGIC) for label in labels]
    return write_bin(path, waves)


class TestKeysightDigital:
    def test_pod_becomes_eight_logic_channels_next_to_the_analog_one(self, tmp_path: Path):
        path = _keysight_mso(tmp_path / "mso.bin")
        assert _header(path) == [("CH1", "analog", 0)] + [(f"D{k}", "logic", 0) for k in range(8)]
        loaded = _by_name(path)
        words = (np.arange(1000) // 5).astype(np.uint8)
        for k in range(8):
            channel = loaded[f"D{k}"]
            assert (channel.kind, channel.units, channel.samples.dtype) == (
                "logic",
                "bit",
                np.uint8,
            )
            np.testing.assert_array_equal(channel.samples, (words >> k) & 1)
            assert channel.sample_rate_hz == pytest.approx(1e6)
        np.testing.assert_array_equal(loaded["CH1"].samples, square(1000).astype(np.float64))
        assert loaded["CH1"].metadata["t0_s"] == pytest.approx(-5e-4)

    @NEEDS_RIGOLWFM
    def test_analog_channel_agrees_with_rigolwfm(self, tmp_path: Path) -> None:
        path = _keysight_mso(tmp_path / "mso.bin")
        (theirs,) = _rigolwfm(path).channels  # RigolWFM reads the analog channel only
        ours = _by_name(path)["CH1"]
        assert ours.sample_rate_hz == pytest.approx(1 / theirs.seconds_per_point, rel=1e-12)
        assert ours.metadata["t0_s"] == pytest.approx(theirs.times[0])
        np.testing.assert_array_equal(ours.samples, np.asarray(theirs.volts, np.float32))

    @pytest.mark.parametrize(
        ("labels", "names"),
        [
            (("D7-D0", "D15-D8"), [f"D{k}" for k in range(16)]),
            (("D8-15", "D0-7"), [f"D{k}" for k in range(8, 16)] + [f"D{k}" for k in range(8)]),
            (("POD2",), [f"D{k}" for k in range(8, 16)]),
            (("", ""), [f"D{k}" for k in range(16)]),  # unlabelled pods: in file order
        ],
    )
    def test_pods_are_numbered_as_the_scope_labels_them(
        self, tmp_path: Path, labels: tuple[str, ...], names: list[str]
    ) -> None:
        path = _keysight_mso(tmp_path / "mso.bin", labels)
        assert [name for name, *_ in _header(path)] == ["CH1", *names]

    def test_same_pod_twice_is_refused(self, tmp_path: Path) -> None:
        _refused(_keysight_mso(tmp_path / "mso.bin", ("D7-D0", "D7-D0")), "'D0' that are not")


# --- Rigol MSO5000: a size field that disagrees with the file (issue row 1) ---------------------


def _rigol_4ch(path: Path, declared_offset: int = 0, tail: bytes = b"") -> Path:
    waves = [
        Wave(f"CH{k}", [floats(square(1000, 40 + 10 * k, -k, k))], frame="MSO5074:MS5A0000")
        for k in range(1, 5)
    ]
    size = len(bin_bytes(waves, cookie=b"RG01", tail=tail))
    return write_bin(path, waves, cookie=b"RG01", declared=size + declared_offset, tail=tail)


class TestRigolSizeField:
    @pytest.mark.parametrize("offset", [-300, 300])
    def test_size_field_off_by_hundreds_is_a_warning(self, tmp_path: Path, offset: int) -> None:
        path = _rigol_4ch(tmp_path / "mso5074.bin", offset)
        size = path.stat().st_size
        loaded = load_capture(path)
        assert [c.channel for c in loaded] == ["CH1", "CH2", "CH3", "CH4"]
        for capture in loaded:
            assert capture.warnings == (
                f"header declares a {size + offset}-byte file, the file has {size} bytes; "
                "the 4 waveform(s) it describes are complete and were read",
            )

    def test_trailing_bytes_are_a_warning(self, tmp_path: Path) -> None:
        path = _rigol_4ch(tmp_path / "t.bin", tail=b"\0" * 64)
        assert load_capture(path)[0].warnings == ("64 bytes after the last waveform ignored",)

    @NEEDS_RIGOLWFM
    @pytest.mark.parametrize("offset", [-300, 0, 300])
    def test_all_four_channels_agree_with_rigolwfm(self, tmp_path: Path, offset: int) -> None:
        path = _rigol_4ch(tmp_path / "mso5074.bin", offset)
        theirs = {f"CH{c.channel_number}": c for c in _rigolwfm(path).channels}
        ours = _by_name(path)
        assert list(theirs) == list(ours)
        for name, channel in theirs.items():
            assert ours[name].sample_rate_hz == pytest.approx(1 / channel.seconds_per_point)
            assert ours[name].metadata["t0_s"] == pytest.approx(channel.times[0])
            np.testing.assert_array_equal(ours[name].samples, channel.volts)

    def test_payload_past_the_end_is_refused(self, tmp_path: Path) -> None:
        data = _rigol_4ch(tmp_path / "full.bin").read_bytes()
        path = tmp_path / "cut.bin"
        path.write_bytes(data[:-100])
        _refused(path, r"truncated file: waveform 4 data runs to byte \d+, the file has \d+ bytes")


# --- Rigol logic analyzer words -----------------------------------------------------------------


def _rigol_la(path: Path, words: np.ndarray, bytes_per_point: int = 4, buffer_type: int = 5):
    data = (
        words.astype("<f4").tobytes()
        if bytes_per_point == 4
        else words.astype(f"<u{bytes_per_point}").tobytes()
    )
    wave = Wave("LA", [Buf(buffer_type, data, bytes_per_point)], waveform_type=LOGIC)
    wave.x_increment, wave.frame = 1e-9, "MSO5074:MS5A0000"
    return write_bin(path, [wave], cookie=b"RG01")


class TestRigolLogic:
    def test_float_words_give_d0_to_d15(self, tmp_path: Path) -> None:
        words = np.array([0, 1, 2, 4, 0x8000, 0xFFFF, 0], dtype=np.float64)
        path = _rigol_la(tmp_path / "la.bin", words)
        assert _header(path) == [(f"D{k}", "logic", 0) for k in range(16)]
        loaded = _by_name(path)
        assert loaded["D0"].samples.tolist() == [0, 1, 0, 0, 0, 1, 0]
        assert loaded["D15"].samples.tolist() == [0, 0, 0, 0, 1, 1, 0]
        assert loaded["D0"].sample_rate_hz == pytest.approx(1e9)

    def test_byte_words_give_d0_to_d7(self, tmp_path: Path) -> None:
        path = _rigol_la(tmp_path / "la.bin", np.array([1, 2, 3]), 1, 6)
        assert [n for n, *_ in _header(path)] == [f"D{k}" for k in range(8)]

    @pytest.mark.parametrize("bad", [2.5, -1.0, 70000.0, np.nan])
    def test_a_word_that_is_no_word_is_refused(self, tmp_path: Path, bad: float) -> None:
        path = _rigol_la(tmp_path / "la.bin", np.array([0.0, bad, 1.0]))
        with pytest.raises(CaptureError, match=r"waveform 1: point 1 holds .*, not a 16-bit word"):
            load_capture(path)

    @NEEDS_RIGOLWFM
    def test_low_byte_agrees_with_rigolwfm(self, tmp_path: Path) -> None:
        rng = np.random.default_rng(3)
        words = rng.integers(0, 256, 500).astype(np.float64)
        path = _rigol_la(tmp_path / "la.bin", words)
        theirs = _rigolwfm(path).logic_channels  # RigolWFM keeps the low byte: D0…D7
        ours = _by_name(path)
        assert sorted(theirs) == [f"D{k}" for k in range(8)]
        for name, trace in theirs.items():
            np.testing.assert_array_equal(ours[name].samples, trace)


# --- more layouts -------------------------------------------------------------------------------


class TestLayouts:
    def test_rg03_wide_headers_with_a_digital_buffer(self, tmp_path: Path) -> None:
        waves = [
            Wave("CH1", [floats(square(100))], frame="DHO1074:HDO0000"),
            Wave("", [pod(np.arange(100), buffer_type=5)], waveform_type=LOGIC),
        ]
        path = write_bin(tmp_path / "dho.bin", waves, cookie=b"RG03")
        assert format_for(path) is not None
        assert [n for n, *_ in _header(path)] == ["CH1"] + [f"D{k}" for k in range(8)]
        assert _by_name(path)["D1"].samples.tolist()[:4] == [0, 0, 1, 1]

    def test_segments_of_one_channel(self, tmp_path: Path) -> None:
        waves = [Wave("1", [floats(np.full(10, float(k)))], segment=k) for k in (1, 2, 3)]
        path = write_bin(tmp_path / "seg.bin", waves)
        assert _header(path) == [("CH1", "analog", 3)]
        (capture,) = load_capture(path)
        assert capture.samples.shape == (3, 10)
        assert capture.samples[:, 0].tolist() == [1.0, 2.0, 3.0]

    def test_repeated_name_without_segments_is_refused(self, tmp_path: Path) -> None:
        waves = [Wave("1", [floats(np.zeros(10))]), Wave("CH1", [floats(np.ones(10))])]
        _refused(write_bin(tmp_path / "dup.bin", waves), "two waveforms named 'CH1'")

    def test_segments_of_unequal_length_are_refused(self, tmp_path: Path) -> None:
        waves = [Wave("1", [floats(np.zeros(10 + k))], segment=k) for k in (1, 2)]
        _refused(write_bin(tmp_path / "seg.bin", waves), "segments of CH1 differ in length")

    def test_peak_detect_maximum_and_minimum(self, tmp_path: Path) -> None:
        buffers = [floats(np.ones(8), MAXIMUM), floats(-np.ones(8), MINIMUM)]
        path = write_bin(tmp_path / "pk.bin", [Wave("2", buffers, waveform_type=PEAK)])
        loaded = _by_name(path)
        assert list(loaded) == ["CH2 max", "CH2 min"]
        assert loaded["CH2 min"].samples.tolist() == [-1.0] * 8

    def test_counts_buffer_is_ignored_with_a_warning(self, tmp_path: Path) -> None:
        counts = Buf(COUNTS, np.ones(8, "<i4").tobytes(), 4)
        path = write_bin(tmp_path / "avg.bin", [Wave("1", [floats(np.ones(8)), counts])])
        (capture,) = load_capture(path)
        assert capture.channel == "CH1"
        assert capture.warnings == (
            "waveform 1 (1): buffer of type 4 with 4-byte points ignored (not analog or "
            "digital samples)",
        )

    def test_frequency_domain_waveform_is_skipped_with_a_warning(self, tmp_path: Path) -> None:
        waves = [Wave("1", [floats(np.ones(8))]), Wave("FFT", [floats(np.ones(8))], x_units=HERTZ)]
        (capture,) = load_capture(write_bin(tmp_path / "fft.bin", waves))
        assert "frequency-domain record (x unit Hz)" in capture.warnings[0]
        only = write_bin(tmp_path / "only.bin", [waves[1]])
        _refused(only, r"no analog or digital waveforms in the file \(waveform 1 \(FFT\) is a")

    def test_points_disagreeing_with_the_buffer(self, tmp_path: Path) -> None:
        wave = Wave("1", [floats(np.ones(8))], points=9)
        _refused(write_bin(tmp_path / "p.bin", [wave]), "buffer of 32 bytes does not hold 9 points")

    def test_keysight_digital_buffer_of_float_points_is_refused(self, tmp_path: Path) -> None:
        wave = Wave("D7-D0", [Buf(DIGITAL, np.ones(4, "<f4").tobytes(), 4)], waveform_type=LOGIC)
        _refused(write_bin(tmp_path / "d.bin", [wave]), "not a documented Keysight layout")

    def test_orphan_rs_payload_says_what_it_is(self, tmp_path: Path) -> None:
        path = tmp_path / "x.Wfm.bin"
        path.write_bytes(b"\x04\x00\x00\x00" + bytes(60))
        _refused(path, r"an R&S waveform payload without its XML header x\.bin next to it")
