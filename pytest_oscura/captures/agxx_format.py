"""Keysight/Agilent ``AGxx`` and Rigol ``RGxx`` ``.bin`` waveform files: our own reader.

One container, described in the Keysight InfiniiVision user's guides ("Binary Data (.bin)
Format") and used by Rigol's MSO5000 (``RG01``) and DHO800/1000 (``RG03``) exports:

* file header: ``AG``/``RG``, a two-digit version, the file size (int32; int64 in version 03)
  and the waveform count;
* per waveform: a header of ``header size`` bytes (waveform type, 6 = logic; buffer count;
  points; x increment and origin; x and y units; the frame string ``MODEL:SERIAL``; the label;
  time tag and segment index), then per buffer a data header (buffer type, bytes per point,
  buffer size: int32, int64 in version 03) and the buffer's bytes.

Channels:

* **analog** buffers (types 1 normal, 2 maximum, 3 minimum; Rigol ``RG01`` also 4 and 5) hold
  float32 values in the y unit: a channel named from the label (``1``/``CH1``/``CHAN1`` →
  ``CH1``). A Peak Detect waveform's maximum and minimum buffers are ``CH1 max``/``CH1 min``.
* **digital** buffers (waveform type 6, buffer type 6 — 5 in ``RG03`` —, or a Rigol ``LA``
  label) hold one unsigned word per point, 1 or 2 bytes (a Keysight pod is 8 channels in one
  byte), or a float32 whose integer value is the word (Rigol MSO5000 ``LA``: the 16-bit word of
  D0…D15). Every bit is a **logic** channel ``D<n>``, bit k of a pod labelled ``D15-D8``/
  ``D8-15``/``POD2`` being ``D<8+k>``; a pod without such a label continues the numbering of the
  pods before it (the first is D0…D7). All bits of a word are channels: the file does not say
  which digital channels were switched on.
* **segments**: waveforms that repeat a name with distinct segment indices are the segments of
  one channel (segments × points).

Refused, each with its reason: a waveform that runs past the end of the file (truncated); a
name repeated without distinct segment indices; segments of unequal length; a logic word that is
not an integer; points that disagree with the buffer size. Skipped with a warning: buffers of
other types (counts, unknown) and frequency-domain waveforms (x unit Hz). A file-size field that
disagrees with the file's length is a **warning**, not a refusal, when every waveform the header
describes lies complete inside the file (bytes after the last one are ignored).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pytest_oscura.captures._limits import check_channels, check_decoded_size, check_samples
from pytest_oscura.captures.model import CaptureHeader, ChannelHeader, RawChannel

_WAVEFORM_LOGIC = 6
_X_UNIT_HZ = 6
_Y_UNITS = {1: "V", 2: "s", 4: "A", 5: "dB", 6: "Hz"}
_ROLE = {1: "", 2: " max", 3: " min", 4: "", 5: ""}
_MAX_BUFFERS = 16
_MAX_WAVEFORM_HEADER = 1 << 16
_POD_RANGE_RE = re.compile(r"^D(\d{1,3})\s*-\s*D?(\d{1,3})$", re.IGNORECASE)
_POD_RE = re.compile(r"^POD\s*(\d)$", re.IGNORECASE)


@dataclass(frozen=True)
class Buffer:
    kind: str  # "analog" | "logic" | "" (skipped)
    buffer_type: int
    bytes_per_point: int
    offset: int  # of the data in the file
    size: int


@dataclass(frozen=True)
class Waveform:
    index: int  # 0-based, in file order
    label: str
    waveform_type: int
    points: int
    x_increment: float
    x_origin: float
    x_units: int
    y_units: int
    frame: str
    segment_index: int
    buffers: tuple[Buffer, ...]


@dataclass(frozen=True)
class BinLayout:
    cookie: str  # "AG10", "RG01", ...
    waveforms: tuple[Waveform, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Part:
    """Where one segment of a channel is: a buffer, and the bit for a logic channel."""

    waveform: Waveform
    buffer: Buffer
    bit: int | None


@dataclass(frozen=True)
class BinChannel:
    name: str
    kind: str
    parts: tuple[Part, ...]  # one per segment, in segment order

    @property
    def segments(self) -> int:
        return len(self.parts) if len(self.parts) > 1 else 0


def _cstr(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("latin-1").strip()


def analog_name(label: str, index: int) -> str:
    match = re.fullmatch(r"(?:CH(?:AN)?\s*)?(\d{1,2})", label, re.IGNORECASE)
    if match:
        return f"CH{int(match.group(1))}"
    if label and label.isprintable():
        return label
    return f"CH{index + 1}"


def _classify(cookie: str, waveform_type: int, label: str, buffer_type: int, width: int) -> str:
    family, version = cookie[:2], cookie[2:]
    digital_types = {"AG": {5, 6}, "RG": {5} if version == "03" else {6}}[family]
    if (
        waveform_type == _WAVEFORM_LOGIC
        or buffer_type in digital_types
        or (family == "RG" and label.upper().startswith("LA"))
    ):
        return "logic"
    float_types = {1, 2, 3, 4, 5} if cookie == "RG01" else {1, 2, 3}
    if buffer_type in float_types and width == 4:
        return "analog"
    return ""


def read_bin_layout(path: Path) -> BinLayout:
    """Walk the file, waveform and data headers; check every declared size against the file."""
    size = path.stat().st_size
    with path.open("rb") as stream:
        if path.name.endswith(".Wfm.bin") and stream.read(2) not in (b"AG", b"RG"):
            header = path.name[: -len(".Wfm.bin")] + ".bin"
            raise ValueError(f"an R&S waveform payload without its XML header {header} next to it")
        return _walk(stream, size)


def _walk(stream: IO[bytes], size: int) -> BinLayout:
    def need(offset: int, count: int, what: str) -> bytes:
        stream.seek(offset)
        chunk = stream.read(count)
        if len(chunk) != count:
            raise ValueError(f"truncated file: {what} runs past byte {size}")
        return chunk

    cookie_bytes = need(0, 4, "file header")
    cookie = cookie_bytes.decode("latin-1")
    if cookie_bytes[:2] not in (b"AG", b"RG") or not cookie_bytes[2:].isdigit():
        raise ValueError(
            f"unknown .bin signature {cookie_bytes.hex()} (not Keysight/Agilent/Rigol)"
        )
    wide = cookie.endswith("03")
    if wide:
        declared_size, n_waveforms = struct.unpack("<qi", need(4, 12, "file header"))
        offset = 16
    else:
        declared_size, n_waveforms = struct.unpack("<ii", need(4, 8, "file header"))
        offset = 12
    if n_waveforms < 1:
        raise ValueError(f"header declares {n_waveforms} waveforms")
    check_channels(n_waveforms, "header")
    waveforms = []
    warnings: list[str] = []
    for index in range(n_waveforms):
        where = f"waveform {index + 1}"
        header_size, waveform_type, n_buffers, points = struct.unpack(
            "<iiii", need(offset, 16, f"{where} header")
        )
        if not 140 <= header_size <= _MAX_WAVEFORM_HEADER or not 0 < n_buffers <= _MAX_BUFFERS:
            raise ValueError(
                f"{where}: corrupt header ({header_size}-byte header, {n_buffers} buffers)"
            )
        if points < 0:
            raise ValueError(f"{where}: header declares {points} points")
        fields = need(offset, 140, f"{where} header")
        x_increment, x_origin, x_units, y_units = struct.unpack("<ddii", fields[32:56])
        label = _cstr(fields[112:128])
        segment_index = struct.unpack("<I", fields[136:140])[0]
        offset += header_size
        buffers = []
        for number in range(n_buffers):
            head = need(offset, 16 if wide else 12, f"{where} data header")
            if wide:
                data_header_size, buffer_type, width, buffer_size = struct.unpack("<ihhq", head)
            else:
                data_header_size, buffer_type, width, buffer_size = struct.unpack("<ihhi", head)
            if data_header_size < len(head) or buffer_size < 0 or width <= 0:
                raise ValueError(f"{where}: corrupt data header of buffer {number + 1}")
            if points and buffer_size != points * width:
                raise ValueError(
                    f"{where}: buffer of {buffer_size} bytes does not hold {points} points "
                    f"of {width} bytes"
                )
            data = offset + data_header_size
            if data + buffer_size > size:
                raise ValueError(
                    f"truncated file: {where} data runs to byte {data + buffer_size}, "
                    f"the file has {size} bytes"
                )
            kind = _classify(cookie, waveform_type, label, buffer_type, width)
            if not kind:
                warnings.append(
                    f"{where} ({label or 'unlabelled'}): buffer of type {buffer_type} with "
                    f"{width}-byte points ignored (not analog or digital samples)"
                )
            buffers.append(Buffer(kind, buffer_type, width, data, buffer_size))
            offset = data + buffer_size
        if not points and buffers:
            points = buffers[0].size // buffers[0].bytes_per_point
        check_samples(points, where)
        waveforms.append(
            Waveform(
                index,
                label,
                waveform_type,
                points,
                x_increment,
                x_origin,
                x_units,
                y_units,
                _cstr(fields[88:112]),
                segment_index,
                tuple(buffers),
            )
        )
    if declared_size != size:
        warnings.append(
            f"header declares a {declared_size}-byte file, the file has {size} bytes; "
            f"the {n_waveforms} waveform(s) it describes are complete and were read"
        )
    elif offset < size:
        warnings.append(f"{size - offset} bytes after the last waveform ignored")
    return BinLayout(cookie, tuple(waveforms), tuple(warnings))


def _digital_base(label: str) -> int | None:
    """The number of the pod's bit 0 as its label names it (``D15-D8``, ``POD2``), else None."""
    match = _POD_RANGE_RE.match(label.strip())
    if match:
        return min(int(match.group(1)), int(match.group(2)))
    match = _POD_RE.match(label.strip())
    if match:
        return 8 * max(int(match.group(1)) - 1, 0)
    return None


def _bits(buffer: Buffer) -> int:
    if buffer.bytes_per_point in (1, 2):
        return 8 * buffer.bytes_per_point
    if buffer.bytes_per_point == 4:
        return 16  # float32 holding a 16-bit word (Rigol MSO5000 LA)
    raise ValueError(f"digital buffer with {buffer.bytes_per_point}-byte points")


def bin_channels(layout: BinLayout) -> tuple[list[BinChannel], list[str]]:
    """The file's channels (segments grouped) and the warnings of reading it."""
    warnings = list(layout.warnings)
    named: dict[str, list[Part]] = {}
    kinds: dict[str, str] = {}
    # (label, occurrence within its segment) → number of the pod's bit 0: the segments of a
    # pod repeat its label, and unlabelled pods are told apart by their order.
    pod_bases: dict[tuple[str, int], int] = {}
    occurrences: dict[tuple[int, str], int] = {}
    next_bit = 0
    for waveform in layout.waveforms:
        if waveform.x_units == _X_UNIT_HZ:
            warnings.append(
                f"waveform {waveform.index + 1} ({waveform.label or 'unlabelled'}) is a "
                "frequency-domain record (x unit Hz), not a time capture: ignored"
            )
            continue
        for buffer in waveform.buffers:
            if buffer.kind == "analog":
                name = analog_name(waveform.label, waveform.index)
                name += _ROLE.get(buffer.buffer_type, "") if len(waveform.buffers) > 1 else ""
                named.setdefault(name, []).append(Part(waveform, buffer, None))
                kinds[name] = "analog"
            elif buffer.kind == "logic":
                if layout.cookie[:2] == "AG" and buffer.bytes_per_point == 4:
                    raise ValueError(
                        f"waveform {waveform.index + 1}: digital buffer of 4-byte points "
                        "(not a documented Keysight layout)"
                    )
                width = _bits(buffer)
                seen = (waveform.segment_index, waveform.label)
                pod = (waveform.label, occurrences.get(seen, 0))
                occurrences[seen] = pod[1] + 1
                if pod not in pod_bases:
                    base = _digital_base(waveform.label)
                    pod_bases[pod] = next_bit if base is None else base
                base = pod_bases[pod]
                next_bit = max(next_bit, base + width)
                for bit in range(width):
                    name = f"D{base + bit}"
                    named.setdefault(name, []).append(Part(waveform, buffer, bit))
                    kinds[name] = "logic"
    check_channels(len(named), "file")
    channels = []
    for name, parts in named.items():
        if len(parts) > 1:
            indices = [p.waveform.segment_index for p in parts]
            if len(set(indices)) != len(indices):
                raise ValueError(
                    f"two waveforms named {name!r} that are not segments (same segment index)"
                )
            parts.sort(key=lambda p: p.waveform.segment_index)
            if len({p.waveform.points for p in parts}) != 1:
                raise ValueError(f"segments of {name} differ in length")
        channels.append(BinChannel(name, kinds[name], tuple(parts)))
    if not channels:
        why = f" ({warnings[-1]})" if warnings else ""
        raise ValueError(f"no analog or digital waveforms in the file{why}")
    return channels, warnings


def read_bin_file_header(path: Path) -> CaptureHeader:
    channels, _ = bin_channels(read_bin_layout(path))
    return CaptureHeader(tuple(ChannelHeader(c.name, c.kind, c.segments) for c in channels))


def _t0(cookie: str, waveform: Waveform) -> float:
    # Rigol (MSO5000 and DHO) stores the pre-trigger time as a positive x origin, as RigolWFM
    # reads it (the cross-check test holds us to that); Keysight the time of the first point.
    return -waveform.x_origin if cookie.startswith("RG") else waveform.x_origin


def _words(stream: IO[bytes], buffer: Buffer, where: str) -> Any:
    import numpy as np

    stream.seek(buffer.offset)
    raw = stream.read(buffer.size)
    if buffer.bytes_per_point == 4:  # float32 holding the word
        values = np.frombuffer(raw, dtype="<f4")
        with np.errstate(invalid="ignore"):  # NaN and negative values are refused below
            words = values.astype(np.uint32)
            bad = ~np.isfinite(values) | (values < 0) | (values >= 65536) | (words != values)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{where}: point {first} holds {float(values[first])!r}, not a 16-bit word"
            )
        return words
    return np.frombuffer(raw, dtype=f"<u{buffer.bytes_per_point}")


def load_bin(path: Path) -> list[RawChannel]:
    import numpy as np

    layout = read_bin_layout(path)
    channels, warnings = bin_channels(layout)
    decoded = sum(
        p.waveform.points * (8 if c.kind == "analog" else 1) for c in channels for p in c.parts
    )
    check_decoded_size(decoded, ".bin file")
    words: dict[int, Any] = {}  # buffer offset → decoded words, shared by the bits of a pod
    out: list[RawChannel] = []
    with path.open("rb") as stream:
        for channel in channels:
            rows = []
            for part in channel.parts:
                where = f"waveform {part.waveform.index + 1}"
                if part.bit is None:
                    stream.seek(part.buffer.offset)
                    raw = stream.read(part.buffer.size)
                    rows.append(np.frombuffer(raw, dtype="<f4").astype(np.float64))
                else:
                    if part.buffer.offset not in words:
                        words[part.buffer.offset] = _words(stream, part.buffer, where)
                    rows.append(((words[part.buffer.offset] >> part.bit) & 1).astype(np.uint8))
            first = channel.parts[0].waveform
            if not first.x_increment > 0:
                raise ValueError(
                    f"waveform {first.index + 1}: x increment {first.x_increment!r} s is not "
                    "positive"
                )
            out.append(
                RawChannel(
                    name=channel.name,
                    samples=np.stack(rows) if len(rows) > 1 else rows[0],
                    sample_rate_hz=1.0 / first.x_increment,
                    units="bit" if channel.kind == "logic" else _Y_UNITS.get(first.y_units),
                    kind=channel.kind,
                    metadata={
                        "format": layout.cookie,
                        "model": first.frame.split(":", 1)[0],
                        "t0_s": _t0(layout.cookie, first),
                        "label": first.label,
                    },
                    warnings=tuple(warnings),
                )
            )
        words.clear()
    return out
