"""Tektronix ``.isf`` (Internal Save Format): our own parser.

The file is the scope's answer to ``WFMPRE?;CURVE?``: an ASCII preamble of ``KEY value`` pairs
separated by ``;`` (long or short key spellings, optionally prefixed ``:WFMPRE:``), then
``:CURVE #<n><length>`` and ``length`` bytes of samples. The data block is located through that
IEEE 488.2 block header, never by searching for ``#``: binary payloads contain ``#`` bytes.

Samples honour ``ENCDG`` (``BIN``/``ASC``), ``BN_FMT`` (``RI`` signed, ``RP`` unsigned, ``FP``
float), ``BYT_NR`` and ``BYT_OR`` (``MSB``/``LSB``); values are
``(raw − YOFF) × YMULT + YZERO`` in ``YUNIT``; the sample rate is ``1 / XINCR``. A record whose
``XUNIT`` is ``Hz`` is a spectrum (RF/FFT trace), not a time capture, and is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pytest_oscura.captures._limits import (
    check_decoded_size,
    check_samples,
    parse_float,
    parse_int,
)
from pytest_oscura.captures.model import CaptureHeader, ChannelHeader, RawChannel

_MAX_PREAMBLE = 64 * 1024
_CURVE_RE = re.compile(rb":?CURV(?:E)?\s*#")
_CANONICAL = (
    "BYT_NR",
    "BIT_NR",
    "ENCDG",
    "BN_FMT",
    "BYT_OR",
    "NR_PT",
    "WFID",
    "PT_FMT",
    "XINCR",
    "XZERO",
    "PT_OFF",
    "XUNIT",
    "YMULT",
    "YZERO",
    "YOFF",
    "YUNIT",
)
_CHANNEL_RE = re.compile(r"^\s*(CH\d+|MATH\d*|REF\d+|D\d+)\b", re.IGNORECASE)


def sniff(head: bytes) -> bool:
    text = head.lstrip().upper()
    return text.startswith((b":WFMPRE", b"WFMPRE", b":WFMP", b"BYT_N", b":BYT_N", b":WFMOUTPRE"))


@dataclass(frozen=True)
class IsfHeader:
    fields: dict[str, str]
    data_offset: int
    data_length: int

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.fields.get(key, default)


def _canonical(key: str) -> str | None:
    key = key.strip().upper().lstrip(":")
    for prefix in ("WFMPRE:", "WFMP:", "WFMOUTPRE:", "WFMO:"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    if len(key) < 3:
        return None
    for name in _CANONICAL:
        if name.startswith(key) or (name == "BYT_NR" and key == "BYTE_NR"):
            return name
    return None


def _split_fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    for part in parts:
        part = part.strip()
        if not part:
            continue
        key, _, value = part.partition(" ")
        name = _canonical(key)
        if name is not None and name not in fields:
            fields[name] = value.strip().strip('"')
    return fields


def read_isf_header(path: Path, *, time_domain: bool = True) -> IsfHeader:
    """Preamble and data block position; refuses spectra unless ``time_domain`` is false."""
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(_MAX_PREAMBLE)
    match = _CURVE_RE.search(head)
    if match is None:
        raise ValueError("not a Tektronix ISF file (no :CURVE block in the preamble)")
    fields = _split_fields(head[: match.start()].decode("latin-1"))
    if "NR_PT" not in fields and "BYT_NR" not in fields:
        raise ValueError("not a Tektronix ISF file (preamble lacks NR_PT and BYT_NR)")
    pos = match.end()
    digits_text = head[pos : pos + 1]
    if not digits_text.isdigit() or digits_text == b"0":
        raise ValueError("corrupt ISF block header after :CURVE #")
    n_digits = int(digits_text)
    length_text = head[pos + 1 : pos + 1 + n_digits]
    if len(length_text) != n_digits or not length_text.isdigit():
        raise ValueError("corrupt ISF block header (length digits)")
    data_offset = pos + 1 + n_digits
    data_length = int(length_text)
    if data_offset + data_length > size:
        raise ValueError(
            f"truncated file: block declares {data_length} bytes, "
            f"{max(size - data_offset, 0)} present"
        )
    header = IsfHeader(fields, data_offset, data_length)
    if time_domain:
        _check_time_domain(header)
    return header


def _check_time_domain(header: IsfHeader) -> None:
    xunit = (header.get("XUNIT") or "s").strip().lower()
    if xunit in ("hz", "hertz"):
        raise ValueError('frequency-domain record (XUNIT "Hz"), not a time capture')
    if xunit not in ("s", "sec", "second", "seconds"):
        raise ValueError(f"x unit {xunit!r} is not time; not a time capture")


def _channel_name(header: IsfHeader) -> str:
    match = _CHANNEL_RE.match(header.get("WFID") or "")
    return match.group(1).upper() if match else "CH1"


def read_isf_file_header(path: Path) -> CaptureHeader:
    return CaptureHeader((ChannelHeader(_channel_name(read_isf_header(path))),))


def load_isf(path: Path, *, time_domain: bool = True) -> list[RawChannel]:
    """The record as one channel; ``time_domain=False`` also decodes spectra (x step in Hz)."""
    import numpy as np

    header = read_isf_header(path, time_domain=time_domain)
    check_decoded_size(header.data_length * 8, "ISF record")
    with path.open("rb") as stream:
        stream.seek(header.data_offset)
        payload = stream.read(header.data_length)
    encoding = (header.get("ENCDG") or "BIN").upper()
    if encoding.startswith("ASC"):
        try:
            raw = np.array([float(t) for t in payload.decode("latin-1").split(",") if t.strip()])
        except ValueError:
            raise ValueError("bad ASCII curve value") from None
    else:
        width = parse_int(header.get("BYT_NR") or "1", "BYT_NR")
        fmt = (header.get("BN_FMT") or "RI").upper()
        order = ">" if (header.get("BYT_OR") or "MSB").upper().startswith("MSB") else "<"
        kinds = {"RI": "i", "RP": "u", "FP": "f"}
        if fmt not in kinds:
            raise ValueError(f"unknown BN_FMT {fmt!r}")
        if (fmt == "FP" and width not in (4, 8)) or width not in (1, 2, 4, 8):
            raise ValueError(f"unsupported BYT_NR {width} for BN_FMT {fmt}")
        if header.data_length % width:
            raise ValueError(
                f"block of {header.data_length} bytes is not whole {width}-byte points"
            )
        raw = np.frombuffer(payload, dtype=f"{order}{kinds[fmt]}{width}").astype(np.float64)
    check_samples(int(raw.size), "the record")
    declared = header.get("NR_PT")
    if declared is not None and parse_int(declared, "NR_PT") != raw.size:
        raise ValueError(f"NR_PT {declared} disagrees with the {raw.size} points in the block")
    ymult = parse_float(header.get("YMULT") or "1", "YMULT")
    yoff = parse_float(header.get("YOFF") or "0", "YOFF")
    yzero = parse_float(header.get("YZERO") or "0", "YZERO")
    xincr = parse_float(header.get("XINCR") or "nan", "XINCR")
    if not xincr > 0:
        raise ValueError(f"XINCR {header.get('XINCR')!r} is not a positive step")
    values = (raw - yoff) * ymult + yzero
    return [
        RawChannel(
            name=_channel_name(header),
            samples=values,
            sample_rate_hz=1.0 / xincr,
            units=(header.get("YUNIT") or None),
            metadata={
                "format": "isf",
                "t0_s": parse_float(header.get("XZERO") or "0", "XZERO"),
                "wfid": header.get("WFID") or "",
            },
        )
    ]
