"""``.wav`` captures (RIFF/WAVE). Integer PCM is scaled to ±1.0 of full scale.

The header is parsed in pure Python for collection; samples are read with ``scipy.io.wavfile``,
which also handles WAVE_FORMAT_EXTENSIBLE, 24-bit and float data.
"""

from __future__ import annotations

import struct
from pathlib import Path

from pytest_oscura.captures.model import CaptureHeader, ChannelHeader, RawChannel

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


def _read_fmt(path: Path) -> tuple[int, int, int]:
    """Return (format tag, channels, sample rate in Hz) from the ``fmt `` chunk."""
    with path.open("rb") as stream:
        riff = stream.read(12)
        if len(riff) < 12 or riff[:4] not in (b"RIFF", b"RIFX") or riff[8:12] != b"WAVE":
            raise ValueError("not a RIFF/WAVE file (bad magic number)")
        while True:
            chunk = stream.read(8)
            if len(chunk) < 8:
                raise ValueError("no 'fmt ' chunk (truncated header)")
            chunk_id, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if chunk_id == b"fmt ":
                body = stream.read(min(size, 64))
                if len(body) < 16:
                    raise ValueError("truncated 'fmt ' chunk")
                tag, channels, rate = struct.unpack("<HHI", body[:8])
                if channels == 0 or rate == 0:
                    raise ValueError(f"header declares {channels} channels at {rate} Hz")
                return tag, channels, rate
            stream.seek(size + (size & 1), 1)


def read_wav_file_header(path: Path) -> CaptureHeader:
    _, channels, _ = _read_fmt(path)
    return CaptureHeader(tuple(ChannelHeader(f"CH{i + 1}") for i in range(channels)))


def load_wav(path: Path, full_scale: float | None = None) -> list[RawChannel]:
    import numpy as np
    from scipy.io import wavfile

    _read_fmt(path)
    try:
        rate, data = wavfile.read(path, mmap=False)
    except (ValueError, EOFError) as exc:
        raise ValueError(f"unreadable WAV data ({exc})") from None
    data = np.asarray(data)
    if data.dtype.kind == "u":  # unsigned PCM (8-bit) is offset binary around mid-scale
        half = float(1 << (8 * data.dtype.itemsize - 1))
        scaled = (data.astype(np.float64) - half) / half
    elif data.dtype.kind == "i":  # scipy left-justifies odd widths (24-bit) into int32
        scaled = data.astype(np.float64) / float(1 << (8 * data.dtype.itemsize - 1))
    else:
        scaled = data.astype(np.float64)
    if full_scale is not None:
        scaled = scaled * full_scale
    columns = scaled.reshape(scaled.shape[0], -1).T
    units = None if full_scale is not None else "FS"
    return [
        RawChannel(name=f"CH{i + 1}", samples=row, sample_rate_hz=float(rate), units=units)
        for i, row in enumerate(columns)
    ]
