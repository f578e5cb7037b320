"""Hostile input (issue 12, the capture-file rows): each file ends in a one-line error naming it,
before anything large is allocated. All files are synthetic, written to ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pytest_oscura._files import read_json
from pytest_oscura.captures import load_capture, read_header
from pytest_oscura.errors import CaptureError, ConfigError

HOSTILE_JSON = {
    "invalid-utf8": (b'{"units": "\xff\xfe"}', r"not UTF-8 text \(byte 0xff at offset 11\)"),
    "deep-nesting": (b"[" * 100_000 + b"]" * 100_000, r"invalid JSON \(nested too deeply\)"),
    "huge-integer": (b'{"sample_rate_hz": ' + b"9" * 5000 + b"}", "a number too long to convert"),
    "not-json": (b"{units: V}", r"invalid JSON \(Expecting property name"),
}


class TestReadJson:
    @pytest.mark.parametrize("case", sorted(HOSTILE_JSON))
    def test_one_line_error_naming_the_file(self, tmp_path: Path, case: str) -> None:
        data, match = HOSTILE_JSON[case]
        path = tmp_path / "x.json"
        path.write_bytes(data)
        with pytest.raises(ConfigError, match=match) as info:
            read_json(path, ConfigError)
        assert str(info.value).startswith(f"{path}: ")
        assert "\n" not in str(info.value)

    def test_size_cap(self, tmp_path: Path) -> None:
        path = tmp_path / "big.json"
        path.write_text("[" + "0," * 1000 + "0]")
        assert len(read_json(path, ConfigError)) == 1001
        with pytest.raises(ConfigError, match="larger than 100 bytes"):
            read_json(path, ConfigError, max_bytes=100)

    def test_missing_file_is_none(self, tmp_path: Path) -> None:
        assert read_json(tmp_path / "none.json", ConfigError) is None

    def test_unreadable_file(self, tmp_path: Path) -> None:
        (tmp_path / "dir.json").mkdir()
        with pytest.raises(ConfigError, match=r"dir\.json: cannot read"):
            read_json(tmp_path / "dir.json", ConfigError)


# --- VCD time spans (row 3) ------------------------------------------------------------------


def _vcd(path: Path, stamps: list[int], wires: int = 1) -> Path:
    idents = [chr(33 + k) for k in range(wires)]
    head = "$timescale 1 ns $end\n"
    head += "".join(f"$var wire 1 {i} w{k} $end\n" for k, i in enumerate(idents))
    body = "".join(
        f"#{t}\n" + "".join(f"{n % 2}{i}\n" for i in idents) for n, t in enumerate(stamps)
    )
    path.write_text(head + "$enddefinitions $end\n" + body)
    return path


def _refused_within(path: Path, match: str, max_bytes: int = 4 << 20) -> None:
    import time
    import tracemalloc

    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(CaptureError, match=match) as info:
            load_capture(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 2.0
    assert peak < max_bytes
    assert "\n" not in str(info.value)


class TestVcdSpan:
    def test_a_90_byte_dump_spanning_20_million_samples_is_refused(self, tmp_path: Path) -> None:
        path = _vcd(tmp_path / "short.vcd", [0, 1, 20_000_000])
        assert path.stat().st_size < 100
        _refused_within(
            path,
            r"time stamps #0…#20000000 span 20000001 samples per channel: "
            r"the dump would decode to 19\.1 MiB from a \d+-byte file, above the limit of "
            r"32768 bytes per input byte \(4\.0 MiB for any file\)",
        )

    def test_a_100_byte_dump_declaring_4e9_ticks_is_refused(self, tmp_path: Path) -> None:
        path = _vcd(tmp_path / "long.vcd", [0, 3, 4_000_000_000])
        assert path.stat().st_size <= 100
        _refused_within(path, "above the limit of 268435456 samples per channel")

    def test_time_stamps_beyond_int64_are_refused(self, tmp_path: Path) -> None:
        _refused_within(_vcd(tmp_path / "big.vcd", [0, 10**30]), "beyond 2\\*\\*62 time units")

    def test_a_long_sparse_dump_loads_as_uint8(self, tmp_path: Path) -> None:
        # 16 wires, 1 Mi samples, a few changes: 1 byte per sample and wire, no float64 copy.
        path = _vcd(tmp_path / "la.vcd", [0, 1, 1000, 2000, (1 << 20) - 1], wires=16)
        loaded = load_capture(path)
        assert len(loaded) == 16
        for capture in loaded:
            assert capture.kind == "logic"
            assert capture.samples.dtype == np.uint8
            assert capture.samples.shape == (1 << 20,)
        assert loaded[0].samples[[0, 1, 999, 1000, 2000]].tolist() == [0, 1, 1, 0, 1]


# --- sidecars (row 1) --------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(HOSTILE_JSON))
def test_hostile_sidecar_is_this_captures_config_error(tmp_path: Path, case: str) -> None:
    np.save(tmp_path / "a.npy", np.ones(8))
    (tmp_path / "a.npy.json").write_bytes(HOSTILE_JSON[case][0])
    for call in (read_header, load_capture):
        with pytest.raises(ConfigError, match=HOSTILE_JSON[case][1]) as info:
            call(tmp_path / "a.npy")
        assert str(info.value).startswith(str(tmp_path / "a.npy.json"))
        assert "\n" not in str(info.value)


def test_a_sidecar_number_too_large_for_a_float_is_a_config_error(tmp_path: Path) -> None:
    # Valid JSON (400 digits parse as an int); a float cannot hold it: one line, no
    # OverflowError traceback.
    np.save(tmp_path / "a.npy", np.ones(8))
    (tmp_path / "a.npy.json").write_text('{"sample_rate_hz": ' + "9" * 400 + "}")
    for call in (read_header, load_capture):
        with pytest.raises(ConfigError, match="sample_rate_hz must be finite, got 9999") as info:
            call(tmp_path / "a.npy")
        assert "\n" not in str(info.value)


# --- .npz members (rows 1 and 11) ------------------------------------------------------------


def _corrupt_member(path: Path, member: str) -> None:
    """Overwrite the start of ``member``'s deflate stream: inflating it raises zlib.error."""
    import struct

    data = bytearray(path.read_bytes())
    header = data.find(b"PK\x03\x04")
    while data[header + 30 : header + 30 + len(member)] != member.encode():
        header = data.find(b"PK\x03\x04", header + 4)
    name_length, extra_length = struct.unpack("<HH", data[header + 26 : header + 30])
    start = header + 30 + name_length + extra_length
    data[start : start + 16] = b"\xff" * 16
    path.write_bytes(bytes(data))


def test_npz_member_that_fails_to_inflate(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    np.savez_compressed(path, samples=np.arange(5000.0), sample_rate_hz=np.float64(1e3))
    _corrupt_member(path, "samples.npy")
    for call in (read_header, load_capture):
        with pytest.raises(
            CaptureError, match=r"a\.npz: member 'samples' is corrupt \(zlib\.error: Error -3 "
        ) as info:
            call(path)
        assert "\n" not in str(info.value)


def test_npz_duplicate_channel_names_are_refused_and_a_sidecar_renames_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.npz"
    np.savez(path, samples=np.ones((2, 8)), channels=np.array(["A", "A"]), sample_rate_hz=1e3)
    fix = r'rename the channels with "channels" in a\.npz\.json'
    with pytest.raises(CaptureError, match=rf"a\.npz: duplicate channel name 'A'; {fix}"):
        read_header(path)
    with pytest.raises(CaptureError, match="duplicate channel name 'A'"):
        load_capture(path)
    (tmp_path / "a.npz.json").write_text('{"channels": ["A", "B"]}')
    assert [c.name for c in read_header(path).channels] == ["A", "B"]
    assert [c.channel for c in load_capture(path)] == ["A", "B"]


@pytest.mark.parametrize("name", ["a::b", "tab\there", " "])
def test_channel_names_that_break_node_ids_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "a.npz"
    np.savez(path, samples=np.ones((2, 8)), channels=np.array(["ok", name]), sample_rate_hz=1e3)
    with pytest.raises(CaptureError, match=r"contains '::'|control characters|is empty"):
        read_header(path)
    (tmp_path / "a.npz.json").write_text('{"channels": ["ok", "renamed"]}')
    assert [c.name for c in read_header(path).channels] == ["ok", "renamed"]


def test_sidecar_names_with_separator_are_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.ones(8))
    (tmp_path / "a.npy.json").write_text('{"channels": ["x::y"]}')
    with pytest.raises(ConfigError, match="channel name 'x::y' contains '::'"):
        read_header(tmp_path / "a.npy")


# --- CSV (rows 4 and 18) -----------------------------------------------------------------------


def test_csv_with_a_million_columns_is_refused_at_collection(tmp_path: Path) -> None:
    import time
    import tracemalloc

    path = tmp_path / "wide.csv"
    columns = 1_000_000
    header = "Time," + ",".join(f"C{k}" for k in range(columns))
    row = "0," + ",".join("1" for _ in range(columns))
    path.write_text(f"{header}\n{row}\n{row.replace('0,', '1e-3,', 1)}\n")
    assert path.stat().st_size > 10 << 20
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(
            CaptureError, match="line 1 has 1000001 columns, above the limit of 4096"
        ):
            read_header(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 2.0
    assert peak < 64 << 20  # the 12 MB line itself, not a million parsed tokens


def test_csv_time_column_with_nan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("Time,CH1\n0,1\n1e-3,2\nnan,3\n3e-3,4\n")
    with pytest.raises(
        CaptureError, match=r"time column holds 1 NaN or infinite values \(first in data row 3\)"
    ):
        load_capture(path)


# --- WAV (row 6) -----------------------------------------------------------------------------


def _float_wav(path: Path, block_align: int, bits: int = 32, tag: int = 3) -> Path:
    import struct

    data = np.arange(100, dtype="<f4").tobytes()
    fmt = struct.pack("<HHIIHH", tag, 1, 8000, 8000 * 4, block_align, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data))
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body) + len(data)) + body + data)
    return path


def test_float_wav_with_absurd_block_align(tmp_path: Path) -> None:
    path = _float_wav(tmp_path / "ba.wav", 60000)
    for call in (read_header, load_capture):
        with pytest.raises(
            CaptureError,
            match=r"ba\.wav: header declares 60000-byte frames for 1 channel\(s\) of 32-bit "
            r"samples \(4 bytes\)$",
        ):
            call(path)
    assert load_capture(_float_wav(tmp_path / "ok.wav", 4), None)[0].samples[:3].tolist() == [
        0.0,
        1.0,
        2.0,
    ]


def test_float_wav_of_an_odd_width_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="float samples of 24 bits"):
        read_header(_float_wav(tmp_path / "f24.wav", 3, bits=24))
