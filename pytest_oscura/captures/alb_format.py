"""Agilent/Keysight ``.alb`` ("AGILENT_BINARY_DATA"): our own reader (none exists on PyPI).

Layout: a text header from ``AGILENT_BINARY_DATA`` to ``HEADER_END\\n`` declaring tables
(``TABLE_BEGIN "name" ANALOG|DIGITAL`` … ``TABLE_END``), then each table's rows, one table after
another in the declared order. Analog tables hold one signed integer column
(``NBYTES``, ``BYTE_ORDER``); volts = (raw − ``Y_REF``) × ``Y_INC`` + ``Y_ORG``, sample rate
1 / ``X_INC``. Digital tables hold one integer per row; each ``LABEL "name" CHANNELS = "…[bit]"``
becomes a logic channel, sampled at 1 / ``PERIOD``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pytest_oscura.captures._limits import (
    MAX_CHANNELS,
    check_channels,
    check_decoded_size,
    check_samples,
    parse_float,
    parse_int,
)
from pytest_oscura.captures.model import CaptureHeader, ChannelHeader, RawChannel

MAGIC = b"AGILENT_BINARY_DATA"
_END = b"HEADER_END"
_MAX_HEADER = 256 * 1024
_LABEL_RE = re.compile(r'LABEL\s+"([^"]*)"\s+CHANNELS\s*=\s*"[^"]*\[(\d+)\]"')
_COLUMN_RE = re.compile(r'COLUMN\s+"([^"]*)".*NBYTES=(\d+)')
_KV_RE = re.compile(r"([A-Z_]+)\s*=\s*(\S+)")


def sniff(head: bytes) -> bool:
    return head.startswith(MAGIC)


@dataclass
class _Table:
    name: str
    kind: str
    rows: int = 0
    nbytes: int = 0
    column: str = ""
    big_endian: bool = True
    values: dict[str, str] = field(default_factory=dict)
    labels: list[tuple[str, int]] = field(default_factory=list)


def _parse(path: Path) -> tuple[list[_Table], int, int]:
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(_MAX_HEADER)
    if not head.startswith(MAGIC):
        raise ValueError("not an Agilent .alb file (bad magic)")
    end = head.find(_END)
    if end < 0:
        raise ValueError("truncated or corrupt header: no HEADER_END")
    data_offset = head.find(b"\n", end)
    data_offset = (data_offset + 1) if data_offset >= 0 else end + len(_END)
    tables: list[_Table] = []
    current: _Table | None = None
    for line in head[:end].decode("latin-1").splitlines():
        line = line.strip()
        if line.startswith("TABLE_BEGIN"):
            match = re.match(r'TABLE_BEGIN\s+"([^"]*)"\s+(\w+)', line)
            if match is None:
                raise ValueError(f"corrupt table line {line[:40]!r}")
            current = _Table(match.group(1), match.group(2).upper())
            tables.append(current)
        elif current is None or not line or line.startswith("#"):
            continue
        elif line.startswith("COLUMN"):
            column = _COLUMN_RE.search(line)
            if column is None:
                raise ValueError(f"corrupt column line {line[:40]!r}")
            current.column, current.nbytes = column.group(1), parse_int(column.group(2), "NBYTES")
        elif line.startswith("LABEL"):
            label = _LABEL_RE.search(line)
            if label is not None:
                current.labels.append((label.group(1), int(label.group(2))))
        else:
            for key, value in _KV_RE.findall(line):
                current.values[key] = value
    offset = data_offset
    for table in tables:
        table.rows = parse_int(table.values.get("NUM_ROWS", "-1"), "NUM_ROWS")
        table.big_endian = table.values.get("BYTE_ORDER", "BIG_ENDIAN").upper().startswith("BIG")
        if table.rows < 0 or table.nbytes not in (1, 2, 4, 8):
            raise ValueError(f"table {table.name!r}: bad NUM_ROWS or NBYTES")
        offset += table.rows * table.nbytes
    if offset > size:
        raise ValueError(f"truncated file: tables declare {offset} bytes, file has {size}")
    for table in tables:
        check_samples(table.rows, f"table {table.name!r}")
    if not tables or len(tables) > MAX_CHANNELS:
        raise ValueError(f"header declares {len(tables)} tables")
    check_channels(sum(max(len(t.labels), 1) for t in tables), "header")
    return tables, data_offset, size


def _name(text: str) -> str:
    match = re.fullmatch(r"ch(?:an)?\s*(\d+)", text, re.IGNORECASE)
    return f"CH{match.group(1)}" if match else text


def _channels(tables: list[_Table]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for table in tables:
        if table.kind == "ANALOG":
            out.append((_name(table.column or table.name), "analog"))
        elif table.kind == "DIGITAL":
            out.extend((label, "logic") for label, _ in table.labels)
    return out


def read_alb_file_header(path: Path) -> CaptureHeader:
    tables, _, _ = _parse(path)
    return CaptureHeader(tuple(ChannelHeader(n, k) for n, k in _channels(tables)))


def load_alb(path: Path) -> list[RawChannel]:
    import numpy as np

    tables, offset, _ = _parse(path)
    check_decoded_size(sum(8 * t.rows * max(len(t.labels), 1) for t in tables), ".alb file")
    out: list[RawChannel] = []
    with path.open("rb") as stream:
        for table in tables:
            stream.seek(offset)
            payload = stream.read(table.rows * table.nbytes)
            offset += table.rows * table.nbytes
            order = ">" if table.big_endian else "<"
            if table.kind == "ANALOG":
                raw = np.frombuffer(payload, dtype=f"{order}i{table.nbytes}").astype(np.float64)
                y_inc = parse_float(table.values.get("Y_INC", "1"), "Y_INC")
                y_org = parse_float(table.values.get("Y_ORG", "0"), "Y_ORG")
                y_ref = parse_float(table.values.get("Y_REF", "0"), "Y_REF")
                x_inc = parse_float(table.values.get("X_INC", "nan"), "X_INC")
                if not x_inc > 0:
                    raise ValueError(f"table {table.name!r}: X_INC is not a positive step")
                out.append(
                    RawChannel(
                        name=_name(table.column or table.name),
                        samples=(raw - y_ref) * y_inc + y_org,
                        sample_rate_hz=1.0 / x_inc,
                        units="V",
                        metadata={
                            "format": "alb",
                            "t0_s": parse_float(table.values.get("X_ORG", "0"), "X_ORG"),
                        },
                    )
                )
            elif table.kind == "DIGITAL":
                period = parse_float(table.values.get("PERIOD", "nan"), "PERIOD")
                if table.labels and not period > 0:
                    raise ValueError(f"table {table.name!r}: PERIOD is not a positive step")
                codes = np.frombuffer(payload, dtype=f"{order}u{table.nbytes}")
                for label, bit in table.labels:
                    bits = (codes >> bit) & 1
                    out.append(
                        RawChannel(
                            name=label,
                            samples=bits.astype(np.uint8),
                            sample_rate_hz=1.0 / period,
                            units="bit",
                            kind="logic",
                            metadata={"format": "alb", "bit": bit},
                        )
                    )
    return out
