"""``.wav`` captures (RIFF/WAVE). Integer PCM is scaled to ±1.0 of full scale.

Integer PCM stays integers until measured, with the :class:`~.model.Scaling` to ±1.0 of full
scale (times ``full_scale`` where given): the GPU strategy copies 2-byte samples to the device
instead of 8-byte ones, and the values are bit for bit those of scaling here.

The header is parsed in pure Python for collection; samples are read with ``scipy.io.wavfile``,
which also handles WAVE_FORMAT_EXTENSIBLE, 24-bit and float data. The frame layout the header
declares (``block_align`` = channels × bytes per sample) is checked first, so a damaged header is
refused with what is wrong rather than with whatever scipy trips over.
"""

from __future__ import annotations

import struct
from pathlib import Path

from pytest_oscura.captures._limits import check_channels
from pytest_oscura.captures.model import CaptureHeader, ChannelHeader, RawChannel, Scaling

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
                tag, channels, rate, _, block_align, bits = struct.unpack("<HHIIHH", body[:16])
                if channels == 0 or rate == 0:
                    raise ValueError(f"header declares {channels} channels at {rate} Hz")
                check_channels(channels, "header")
                _check_frame(tag, channels, block_align, bits)
                return tag, channels, rate
            stream.seek(size + (size & 1), 1)


def _check_frame(tag: int, channels: int, block_align: int, bits: int) -> None:
    """The frame layout must be one scipy and the WAVE specification agree on."""
    if tag == _FLOAT and bits not in (32, 64):
        raise ValueError(f"float samples of {bits} bits (WAVE float is 32 or 64 bits)")
    if tag in (_PCM, _FLOAT, _EXTENSIBLE):
        if not 1 <= bits <= 64:
            raise ValueError(f"header declares {bits}-bit samples")
        expected = channels * ((bits + 7) // 8)
        if block_align != expected:
            raise ValueError(
                f"header declares {block_align}-byte frames for {channels} channel(s) of "
                f"{bits}-bit samples ({expected} bytes)"
            )


def read_wav_file_header(path: Path) -> CaptureHeader:
    _, channels, _ = _read_fmt(path)
    return CaptureHeader(tuple(ChannelHeader(f"CH{i + 1}") for i in range(channels)))


def load_wav(path: Path, full_scale: float | None = None) -> list[RawChannel]:
    import numpy as np

    from pytest_oscura._lazy import import_lazily

    wavfile = import_lazily("scipy.io.wavfile")

    _read_fmt(path)
    try:
        rate, data = wavfile.read(path, mmap=False)
    except Exception as exc:  # scipy on a damaged file raises ValueError, EOFError, TypeError…
        text = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise ValueError(f"unreadable WAV data ({text})") from None
    data = np.asarray(data)
    scaling = None
    if data.dtype.kind in "iu":
        # Full scale is 2^(bits - 1) codes: dividing by it is exact, so multiplying by the
        # reciprocal (times full_scale) gives the same values as dividing then multiplying.
        # Unsigned PCM (8-bit) is offset binary around mid-scale; scipy left-justifies odd
        # widths (24-bit) into int32.
        half = float(1 << (8 * data.dtype.itemsize - 1))
        scale = (1.0 if full_scale is None else full_scale) / half
        scaling = Scaling(-half if data.dtype.kind == "u" else 0.0, scale)
    else:
        data = data.astype(np.float64)
        if full_scale is not None:
            data = data * full_scale
    columns = data.reshape(data.shape[0], -1).T
    units = None if full_scale is not None else "FS"
    return [
        RawChannel(
            name=f"CH{i + 1}",
            samples=row,
            sample_rate_hz=float(rate),
            units=units,
            scaling=scaling,
        )
        for i, row in enumerate(columns)
    ]
