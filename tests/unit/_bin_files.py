"""Synthetic Keysight/Agilent ``AGxx`` and Rigol ``RGxx`` ``.bin`` files, built from the published
layout (Keysight InfiniiVision user's guide, "Binary Data (.bin) Format"; Rigol MSO5000 and
DHO1000 user guides): a file header, then per waveform a 140-byte header and per buffer a data
header (12 bytes, 16 in version 03) and its bytes."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Waveform header: header size, waveform type, buffer count, points, count, x display range,
# x display origin, x increment, x origin, x units, y units, date, time, frame, label,
# time tag, segment index.
WAVEFORM_HEADER = struct.Struct("<5if3d2i16s16s24s16sdI")
assert WAVEFORM_HEADER.size == 140

NORMAL, PEAK, LOGIC = 1, 2, 6  # waveform types
FLOAT, MAXIMUM, MINIMUM, COUNTS, DIGITAL = 1, 2, 3, 4, 6  # Keysight buffer types
SECONDS, VOLTS, HERTZ = 2, 1, 6  # units


@dataclass
class Buf:
    buffer_type: int
    data: bytes
    bytes_per_point: int


def floats(values: np.ndarray, buffer_type: int = FLOAT) -> Buf:
    return Buf(buffer_type, np.asarray(values, "<f4").tobytes(), 4)


def pod(words: np.ndarray, buffer_type: int = DIGITAL) -> Buf:
    return Buf(buffer_type, np.asarray(words, "<u1").tobytes(), 1)


@dataclass
class Wave:
    label: str
    buffers: list[Buf]
    waveform_type: int = NORMAL
    x_increment: float = 1e-6
    x_origin: float = -5e-4
    x_units: int = SECONDS
    y_units: int = VOLTS
    frame: str = "DSO-X 3034A:MY00000000"
    segment: int = 0
    points: int | None = None  # default: from the first buffer
    extra: dict[str, int] = field(default_factory=dict)

    def encode(self, wide: bool) -> bytes:
        first = self.buffers[0]
        points = len(first.data) // first.bytes_per_point if self.points is None else self.points
        header = WAVEFORM_HEADER.pack(
            140,
            self.waveform_type,
            len(self.buffers),
            points,
            1,
            float(points * self.x_increment),
            self.x_origin,
            self.x_increment,
            self.x_origin,
            self.x_units,
            self.y_units,
            b"1 DEC 2026",
            b"12:00:00",
            self.frame.encode(),
            self.label.encode(),
            0.0,
            self.segment,
        )
        body = b""
        for buf in self.buffers:
            if wide:
                body += struct.pack(
                    "<ihhq", 16, buf.buffer_type, buf.bytes_per_point, len(buf.data)
                )
            else:
                body += struct.pack(
                    "<ihhi", 12, buf.buffer_type, buf.bytes_per_point, len(buf.data)
                )
            body += buf.data
        return header + body


def bin_bytes(
    waves: list[Wave], cookie: bytes = b"AG10", declared: int | None = None, tail: bytes = b""
) -> bytes:
    wide = cookie.endswith(b"03")
    body = b"".join(w.encode(wide) for w in waves) + tail
    head_size = 16 if wide else 12
    size = head_size + len(body) if declared is None else declared
    if wide:
        head = cookie + struct.pack("<qi", size, len(waves))
    else:
        head = cookie + struct.pack("<ii", size, len(waves))
    return head + body


def write_bin(path: Path, waves: list[Wave], **kwargs: object) -> Path:
    path.write_bytes(bin_bytes(waves, **kwargs))  # type: ignore[arg-type]
    return path


def square(n: int = 1000, period: int = 50, low: float = 0.0, high: float = 3.3) -> np.ndarray:
    return np.where((np.arange(n) % period) < period // 2, high, low).astype("<f4")
