"""Hostile input (issue 12, the capture-file rows): each file ends in a one-line error naming it,
before anything large is allocated. All files are synthetic, written to ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pytest_oscura._files import read_json
from pytest_oscura.captures import load_capture
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
