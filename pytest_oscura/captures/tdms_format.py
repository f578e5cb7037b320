"""NI TDMS captures through ``npTDMS`` (optional extra ``formats``).

Every numeric channel becomes a channel named ``<group>.<channel>``; string and timestamp
channels are skipped. The sample rate is ``1 / wf_increment`` (seconds, the LabVIEW waveform
property), the time of the first sample ``wf_start_offset``; units come from
``unit_string`` (NI) or ``NI_UnitDescription``. Collection reads the metadata only; the lengths
it declares are checked against the limits before any data is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_oscura.captures._limits import (
    check_channels,
    check_decoded_size,
    check_samples,
    optional_import,
)
from pytest_oscura.captures.model import CaptureHeader, ChannelHeader, RawChannel

MAGIC = b"TDSm"


def sniff(head: bytes) -> bool:
    return head.startswith(MAGIC)


def _numeric(channel: Any) -> bool:
    dtype = getattr(channel, "dtype", None)
    return dtype is not None and getattr(dtype, "kind", "") in "fiub"


def _channels(tdms: Any) -> list[tuple[str, Any]]:
    out = []
    for group in tdms.groups():
        for channel in group.channels():
            if _numeric(channel):
                out.append((f"{group.name}.{channel.name}", channel))
    if not out:
        raise ValueError("no numeric channels")
    check_channels(len(out), "file")
    return out


def _read(path: Path, metadata_only: bool) -> Any:
    nptdms = optional_import("nptdms", "TDMS files")
    try:
        if metadata_only:
            return nptdms.TdmsFile.read_metadata(path)
        return nptdms.TdmsFile.read(path)
    except (OSError, ValueError, EOFError, KeyError, IndexError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"unreadable TDMS file ({text[:120]})") from None


def read_tdms_file_header(path: Path) -> CaptureHeader:
    return CaptureHeader(tuple(ChannelHeader(n) for n, _ in _channels(_read(path, True))))


def load_tdms(path: Path) -> list[RawChannel]:
    import numpy as np

    meta = _channels(_read(path, True))
    for name, channel in meta:
        check_samples(len(channel), f"channel {name}")
    check_decoded_size(sum(8 * len(c) for _, c in meta), "TDMS file", path.stat().st_size)
    out = []
    for name, channel in _channels(_read(path, False)):
        props = channel.properties
        step = props.get("wf_increment")
        rate = None
        if step is not None:
            if not float(step) > 0:
                raise ValueError(f"channel {name}: wf_increment {step!r} is not positive")
            rate = 1.0 / float(step)
        units = props.get("unit_string") or props.get("NI_UnitDescription")
        out.append(
            RawChannel(
                name=name,
                samples=np.asarray(channel[:]),
                sample_rate_hz=rate,
                units=str(units) if units else None,
                metadata={"format": "tdms", "t0_s": float(props.get("wf_start_offset", 0.0))},
            )
        )
    return out
