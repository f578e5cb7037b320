"""Hostile input (issue 12, the capture-file rows): each file ends in a one-line error naming it,
before anything large is allocated. All files are synthetic, written to ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_oscura._files import read_json
from pytest_oscura.errors import ConfigError

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
        with pytest.raises(ConfigError, match="dir.json: cannot read"):
            read_json(tmp_path / "dir.json", ConfigError)
