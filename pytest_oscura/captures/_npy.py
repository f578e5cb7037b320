"""Header-only reading of ``.npy`` streams in pure Python (no numpy import at collection).

Follows the NPY format specification (numpy.lib.format): magic ``\\x93NUMPY``, a version byte
pair, a little-endian header length (2 bytes in v1, 4 bytes in v2/v3) and a Python dict literal
with ``descr``, ``fortran_order`` and ``shape``.
"""

from __future__ import annotations

import ast
import struct
from dataclasses import dataclass
from typing import IO

MAGIC = b"\x93NUMPY"
_MAX_HEADER_BYTES = 1 << 20


@dataclass(frozen=True)
class NpyHeader:
    descr: str
    fortran_order: bool
    shape: tuple[int, ...]
    data_offset: int


def read_npy_header(stream: IO[bytes]) -> NpyHeader:
    """Parse an NPY header from ``stream``; raise ``ValueError`` with a short reason."""
    prefix = stream.read(len(MAGIC) + 2)
    if len(prefix) < len(MAGIC) + 2 or not prefix.startswith(MAGIC):
        raise ValueError("not an NPY file (bad magic number)")
    major = prefix[len(MAGIC)]
    if major == 1:
        size_bytes, size_format = 2, "<H"
    elif major in (2, 3):
        size_bytes, size_format = 4, "<I"
    else:
        raise ValueError(f"unsupported NPY format version {major}")
    raw_size = stream.read(size_bytes)
    if len(raw_size) < size_bytes:
        raise ValueError("truncated NPY header")
    (header_len,) = struct.unpack(size_format, raw_size)
    if header_len > _MAX_HEADER_BYTES:
        raise ValueError(f"NPY header of {header_len} bytes is implausibly large")
    raw_header = stream.read(header_len)
    if len(raw_header) < header_len:
        raise ValueError("truncated NPY header")
    encoding = "utf-8" if major == 3 else "latin1"
    try:
        header = ast.literal_eval(raw_header.decode(encoding))
    except (ValueError, SyntaxError, UnicodeDecodeError) as exc:
        raise ValueError(f"corrupt NPY header ({exc.__class__.__name__})") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise ValueError("corrupt NPY header (missing descr, fortran_order or shape)")
    descr, fortran_order, shape = header["descr"], header["fortran_order"], header["shape"]
    if not isinstance(descr, str):
        raise ValueError(f"unsupported NPY dtype {descr!r} (structured arrays are not captures)")
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ValueError(f"corrupt NPY header (shape {shape!r})")
    return NpyHeader(descr, bool(fortran_order), shape, len(prefix) + size_bytes + header_len)


def item_size(descr: str) -> int:
    """Bytes per element of a simple NPY ``descr`` such as ``'<f8'`` or ``'|u1'``."""
    digits = descr.lstrip("<>|=")[1:]
    return int(digits) if digits.isdigit() else 0
