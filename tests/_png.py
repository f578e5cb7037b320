"""A small PNG reader for the tests (8-bit grey/RGB/RGBA, not interlaced): no Pillow needed.

Rows filtered with None, Sub and Up are reconstructed with numpy; Average and Paeth rows, whose
bytes depend on the reconstructed byte before them, byte by byte.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def read_png(path: Path) -> np.ndarray:
    """The image as a ``height × width × channels`` array of ``uint8``."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG file")
    pos, idat = 8, []
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or interlace or colour not in _CHANNELS:
                raise ValueError(f"{path}: unsupported PNG (depth {depth}, colour {colour})")
            channels = _CHANNELS[colour]
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    stride = width * channels
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    previous = np.zeros(stride, np.uint8)
    for y in range(height):
        filter_type = int(raw[y, 0])
        row = raw[y, 1:]
        if filter_type == 0:
            current = row.copy()
        elif filter_type == 1:
            current = np.cumsum(row.reshape(width, channels), axis=0, dtype=np.uint8).ravel()
        elif filter_type == 2:
            current = row + previous
        else:
            current = _sequential(filter_type, row.tolist(), previous.tolist(), channels)
        out[y] = current
        previous = current
    return out.reshape(height, width, channels)


def _sequential(kind: int, row: list[int], above: list[int], channels: int) -> np.ndarray:
    for i in range(len(row)):
        a = row[i - channels] if i >= channels else 0
        b = above[i]
        if kind == 3:
            row[i] = (row[i] + (a + b) // 2) & 0xFF
            continue
        c = above[i - channels] if i >= channels else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    return np.asarray(row, np.uint8)
