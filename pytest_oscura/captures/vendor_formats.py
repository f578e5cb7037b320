"""Vendor binary waveforms: the families read through RigolWFM (optional extra ``formats``).

Families, told apart by magic bytes where they share a suffix (Keysight/Agilent and Rigol
``.bin`` are read by our own :mod:`~pytest_oscura.captures.agxx_format`, no RigolWFM needed):

==================  ===========  =====================================================
family              suffixes     magic
==================  ===========  =====================================================
Rigol ``.wfm``      .wfm         ``a5a5a401`` ``a1a50000`` ``a5a50000`` ``01ffffff``
                                 ``a5a53800`` ``02000000`` (DS1000B/C/D/E/Z, DS2000/4000/
                                 6000, DHO)
Tektronix ``.wfm``  .wfm         ``0f0f``/``f0f0`` byte-order word then ``:WFM#00n``
Keysight/Agilent    .bin         ``AG01`` ``AG03`` ``AG10``
Rigol ``.bin``      .bin         ``RG01`` ``RG03``
R&S RTP ``.bin``    .bin         ``<?xml`` (XML header; samples in ``<name>.Wfm.bin``)
LeCroy              .trc .000…   ``WAVEDESC`` (after an optional ``#9…`` SCPI prefix)
==================  ===========  =====================================================

Collection and RigolWFM: RigolWFM imports matplotlib eagerly (about 1 s), so collection avoids
it wherever a small header reader of our own suffices: LeCroy (``WAVEDESC``: sequence segment
count, declared sizes checked) and Tektronix ``.wfm`` (FastFrame count). Rigol ``.wfm`` comes in
a dozen header layouts whose channel-enable flags sit in different places, and R&S metadata is
XML; for those two, collection asks RigolWFM which channels are present (one import per process,
paid only when such files are collected). Samples of these families are decoded by RigolWFM.

* Rigol ``.wfm``: the analog channels, and the digital channels RigolWFM decodes (MSO1000Z
  logic lanes) as logic channels ``D<n>``, named and sampled as RigolWFM reports them.
* R&S RTP: ``<name>.bin`` is the XML header and ``<name>.Wfm.bin`` the samples; the pair is one
  capture (the payload is a companion, never collected on its own, and the capture's report
  names it). A header without its payload is refused with that reason.
* Segmented records: a LeCroy sequence (``SUBARRAY_COUNT`` > 1) and a Tektronix FastFrame record
  load as 2-D arrays (segments × samples).
"""

from __future__ import annotations

import gc
import io
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pytest_oscura.captures._limits import check_decoded_size, check_samples, optional_import
from pytest_oscura.captures.agxx_format import load_bin, read_bin_file_header
from pytest_oscura.captures.companions import rs_payload
from pytest_oscura.captures.model import CaptureHeader, ChannelHeader, RawChannel

_RIGOL_WFM_MAGIC = (
    bytes.fromhex("a5a5a401"),
    bytes.fromhex("a1a50000"),
    bytes.fromhex("a5a50000"),
    bytes.fromhex("01ffffff"),
    bytes.fromhex("a5a53800"),
    bytes.fromhex("02000000"),
)
_LECROY_MAGIC = b"WAVEDESC"
_MAX_SEGMENTS = 1_000_000


def sniff_rigol_wfm(head: bytes) -> bool:
    return head[:4] in _RIGOL_WFM_MAGIC


def sniff_tek_wfm(head: bytes) -> bool:
    byte_order_word = len(head) >= 8 and head[0] in (0x0F, 0xF0) and head[1] in (0x0F, 0xF0)
    return (byte_order_word and head[3:7] == b"WFM#") or b"LLWFM" in head[:8]


def sniff_keysight_bin(head: bytes) -> bool:
    return head[:4] in (b"AG01", b"AG03", b"AG10")


def sniff_rigol_bin(head: bytes) -> bool:
    return head[:4] in (b"RG01", b"RG03")


def sniff_rs_bin(head: bytes) -> bool:
    return head.lstrip().startswith(b"<?xml")


def sniff_lecroy(head: bytes) -> bool:
    return _LECROY_MAGIC in head


# --- own header readers -------------------------------------------------------------------


def _cstr(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("latin-1").strip()


@dataclass(frozen=True)
class LeCroyHeader:
    name: str
    segments: int
    points: int
    data_offset: int
    data_length: int


def read_lecroy_header(path: Path) -> LeCroyHeader:
    """The ``WAVEDESC`` block (templates ``LECROY_1_0`` and ``LECROY_2_x``)."""
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(4096)
    start = head.find(_LECROY_MAGIC)
    if start < 0 or start > 64:
        raise ValueError("not a LeCroy trace (no WAVEDESC block)")
    desc = head[start : start + 346]
    if len(desc) < 320:
        raise ValueError("truncated file: WAVEDESC block incomplete")
    template = _cstr(desc[16:32])
    order = "<" if struct.unpack("<H", desc[34:36])[0] & 1 else ">"
    comm_type = struct.unpack(order + "H", desc[32:34])[0]
    width = 2 if comm_type == 1 else 1

    def i32(offset: int) -> int:
        return int(struct.unpack(order + "i", desc[offset : offset + 4])[0])

    if template.startswith("LECROY_1"):
        blocks = [i32(36), i32(40), i32(44)]  # descriptor, user text, trigger times
        wave_array_1 = i32(48)
        count, subarrays = i32(92), i32(108)
        name = _cstr(desc[76:92]) or "CH1"
    elif template.startswith("LECROY_2"):
        if len(desc) < 346:
            raise ValueError("truncated file: WAVEDESC block incomplete")
        # descriptor, user text, reserved, trigger times, RIS times, reserved array
        blocks = [i32(36), i32(40), i32(44), i32(48), i32(52), i32(56)]
        wave_array_1 = i32(60)
        count, subarrays = i32(116), i32(144)
        source = struct.unpack(order + "h", desc[344:346])[0]
        name = f"C{source + 1}" if 0 <= source <= 7 else (_cstr(desc[96:112]) or "CH1")
    else:
        raise ValueError(f"unknown LeCroy template {template[:16]!r}")
    if any(b < 0 for b in blocks) or wave_array_1 < 0 or count < 0:
        raise ValueError("corrupt WAVEDESC (negative block length)")
    if not 1 <= max(subarrays, 1) <= _MAX_SEGMENTS:
        raise ValueError(f"WAVEDESC declares {subarrays} segments")
    data_offset = start + sum(blocks)
    if data_offset + wave_array_1 > size:
        raise ValueError(
            f"truncated file: descriptor declares {wave_array_1} bytes of samples, "
            f"{max(size - data_offset, 0)} present"
        )
    if count * width != wave_array_1:
        raise ValueError(
            f"WAVEDESC declares {count} points but {wave_array_1} bytes of {width}-byte samples"
        )
    segments = subarrays if subarrays > 1 else 0
    check_samples(count, "WAVEDESC")
    if segments and count % segments:
        raise ValueError(f"{count} points do not split into {segments} equal segments")
    return LeCroyHeader(name, segments, count, data_offset, wave_array_1)


def read_tek_wfm_frames(path: Path) -> int:
    """Number of FastFrame frames of a Tektronix ``.wfm`` (1 for an ordinary record)."""
    with path.open("rb") as stream:
        head = stream.read(80)
    if len(head) < 78:
        raise ValueError("truncated file: Tektronix .wfm static header incomplete")
    if head[3:7] != b"WFM#":
        return 1  # legacy LLWFM: no FastFrame
    order = "<" if head[:2] == b"\x0f\x0f" else ">"
    frames_minus_one = struct.unpack(order + "I", head[72:76])[0]
    if frames_minus_one >= _MAX_SEGMENTS:
        raise ValueError(f"header declares {frames_minus_one + 1} FastFrame frames")
    return int(frames_minus_one) + 1


# --- RigolWFM --------------------------------------------------------------------------------


def _rigolwfm_parse(path: Path, frame: int = 0, payload_bytes: int = 0) -> Any:
    """``RigolWFM.wfm.Wfm.from_file`` with its exceptions turned into one-line ValueErrors.

    ``payload_bytes``: the size of a companion file the parser also reads (R&S ``.Wfm.bin``).
    """
    check_decoded_size((path.stat().st_size + payload_bytes) * 16, "waveform file")
    module = optional_import("RigolWFM.wfm", "this waveform file")
    problem: str | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            wfm = module.Wfm.from_file(str(path), frame=frame)
            _close_files(wfm, str(path))
        except MemoryError:
            problem = "waveform file too large to decode"
        except Exception as exc:  # a third-party parser on arbitrary bytes raises anything
            text = str(exc).splitlines()[0] if str(exc) else ""
            text = text.replace(str(path), path.name)
            problem = f"unreadable waveform ({type(exc).__name__}: {text[:160]})"
        # A parser that failed (or that an adapter dropped) still holds the file inside a
        # reference cycle; the exception is gone now, so collect it here, while its
        # ResourceWarning is ignored, not at random later in another test.
        gc.collect()
    if problem is not None:
        raise ValueError(problem)
    return wfm


def _close_files(root: Any, name: str) -> None:
    """Close the file handles RigolWFM's parsers leave open on ``name`` (ResourceWarning).

    The kaitai parsers keep their stream for lazy fields; every value we use is decoded by
    the time ``Wfm.from_file`` returns, so the handles are closed here rather than by the
    garbage collector (which would warn, an error under ``-W error``).
    """
    seen: set[int] = set()
    stack: list[Any] = [root]
    while stack and len(seen) < 20_000:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, str | bytes | int | float | bool) or obj is None:
            continue
        seen.add(id(obj))
        if isinstance(obj, io.IOBase):
            if getattr(obj, "name", None) == name:
                obj.close()
            continue
        if isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple):
            stack.extend(obj)
        elif hasattr(obj, "__dict__") and not hasattr(obj, "__array__"):
            stack.extend(vars(obj).values())


def _unit(channel: Any) -> str | None:
    # RigolWFM reports a UnitEnum for some families and a raw vendor code (whose meaning
    # differs by family) for others; only the enum is trusted, the rest defaults to volts.
    name = getattr(getattr(channel, "unit", None), "name", None)
    return {"v": "V", "a": "A", "w": "W"}.get(name or "")


def _rigolwfm_channels(wfm: Any) -> list[tuple[str, Any]]:
    return [(f"CH{int(c.channel_number)}", c) for c in wfm.channels]


def _raw(name: str, channel: Any, wfm: Any, samples: Any) -> RawChannel:
    step = float(channel.seconds_per_point)
    if not step > 0:
        raise ValueError(f"channel {name}: time step {step!r} s is not positive")
    times = getattr(channel, "times", None)
    t0 = float(times[0]) if times is not None and len(times) else 0.0
    return RawChannel(
        name=name,
        samples=samples,
        sample_rate_hz=1.0 / step,
        units=_unit(channel),
        metadata={
            "format": str(getattr(wfm, "parser_name", "")),
            "model": str(getattr(wfm, "header_name", "")),
            "t0_s": t0,
        },
    )


def _volts(name: str, channel: Any) -> Any:
    import numpy as np

    volts = getattr(channel, "volts", None)
    if volts is None or len(volts) == 0:
        raise ValueError(f"channel {name}: no samples in the file")
    return np.asarray(volts, dtype=np.float64)


def _rigolwfm_logic(wfm: Any) -> list[tuple[str, Any]]:
    """The digital channels RigolWFM decoded (``D<n>`` → 0/1 trace), in bit order."""
    traces = getattr(wfm, "logic_channels", None) or {}
    return sorted(traces.items(), key=lambda item: (len(item[0]), item[0]))  # D2 before D10


def _logic_raw(name: str, trace: Any, wfm: Any) -> RawChannel:
    import numpy as np

    step = getattr(wfm, "logic_seconds_per_point", None)
    if step is None and wfm.channels:
        step = wfm.channels[0].seconds_per_point
    if step is None or not float(step) > 0:
        raise ValueError(f"channel {name}: no positive time step for the digital channels")
    samples = np.asarray(trace)
    if samples.size == 0:
        raise ValueError(f"channel {name}: no samples in the file")
    offset = getattr(wfm, "logic_time_offset", None)
    return RawChannel(
        name=name,
        samples=(samples != 0).astype(np.uint8),
        sample_rate_hz=1.0 / float(step),
        units="bit",
        kind="logic",
        metadata={
            "format": str(getattr(wfm, "parser_name", "")),
            "model": str(getattr(wfm, "header_name", "")),
            "t0_s": float(offset) if offset is not None else 0.0,
        },
    )


def read_rigolwfm_header(path: Path, payload_bytes: int = 0) -> CaptureHeader:
    wfm = _rigolwfm_parse(path, payload_bytes=payload_bytes)
    analog = [ChannelHeader(name) for name, _ in _rigolwfm_channels(wfm)]
    logic = [ChannelHeader(name, "logic") for name, _ in _rigolwfm_logic(wfm)]
    return CaptureHeader(tuple(analog + logic))


def load_rigolwfm(path: Path, payload_bytes: int = 0) -> list[RawChannel]:
    wfm = _rigolwfm_parse(path, payload_bytes=payload_bytes)
    analog = [_raw(n, c, wfm, _volts(n, c)) for n, c in _rigolwfm_channels(wfm)]
    return analog + [_logic_raw(n, trace, wfm) for n, trace in _rigolwfm_logic(wfm)]


def _rs_payload_size(path: Path) -> int:
    payload = rs_payload(path)
    try:
        return payload.stat().st_size
    except FileNotFoundError:
        raise ValueError(
            f"payload file {payload.name} missing (an R&S capture is an XML header and a "
            ".Wfm.bin file of samples next to it)"
        ) from None


def read_rs_file_header(path: Path) -> CaptureHeader:
    return read_rigolwfm_header(path, _rs_payload_size(path))


def load_rs(path: Path) -> list[RawChannel]:
    channels = load_rigolwfm(path, _rs_payload_size(path))
    return [replace(raw, companions=(rs_payload(path).name,)) for raw in channels]


def read_lecroy_file_header(path: Path) -> CaptureHeader:
    header = read_lecroy_header(path)
    return CaptureHeader((ChannelHeader(header.name, segments=header.segments),))


def load_lecroy(path: Path) -> list[RawChannel]:
    header = read_lecroy_header(path)
    wfm = _rigolwfm_parse(path)
    channels = _rigolwfm_channels(wfm)
    if len(channels) != 1:
        raise ValueError(f"reader decoded {len(channels)} channels from one LeCroy trace")
    volts = _volts(header.name, channels[0][1])
    if header.segments:
        if volts.size % header.segments:
            raise ValueError(f"{volts.size} points do not split into {header.segments} segments")
        volts = volts.reshape(header.segments, -1)
    raw = _raw(header.name, channels[0][1], wfm, volts)
    return [raw]


def read_tek_file_header(path: Path) -> CaptureHeader:
    frames = read_tek_wfm_frames(path)
    return CaptureHeader((ChannelHeader("CH1", segments=frames if frames > 1 else 0),))


def load_tek_wfm(path: Path) -> list[RawChannel]:
    import numpy as np

    frames = read_tek_wfm_frames(path)
    first = _rigolwfm_parse(path)
    channels = _rigolwfm_channels(first)
    if len(channels) != 1:
        raise ValueError(f"reader decoded {len(channels)} channels from one Tektronix record")
    channel = channels[0][1]
    if frames <= 1:
        return [_raw("CH1", channel, first, _volts("CH1", channel))]
    rows = [_volts("CH1", channel)]
    for frame in range(1, frames):  # RigolWFM returns one FastFrame frame per parse
        rows.append(_volts("CH1", _rigolwfm_channels(_rigolwfm_parse(path, frame))[0][1]))
    if len({r.size for r in rows}) != 1:
        raise ValueError("FastFrame frames differ in length")
    return [_raw("CH1", channel, first, np.stack(rows))]


READERS: dict[str, tuple[Callable[[Path], CaptureHeader], Callable[[Path], list[RawChannel]]]] = {
    "rigol-wfm": (read_rigolwfm_header, load_rigolwfm),
    "tek-wfm": (read_tek_file_header, load_tek_wfm),
    "keysight-bin": (read_bin_file_header, load_bin),
    "rigol-bin": (read_bin_file_header, load_bin),
    "rs-bin": (read_rs_file_header, load_rs),
    "lecroy": (read_lecroy_file_header, load_lecroy),
}
