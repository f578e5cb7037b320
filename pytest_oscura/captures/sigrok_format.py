"""sigrok session files (``.sr``, "srzip"): our own reader, no libsigrok.

A ``.sr`` file is a zip archive holding ``version`` (``1`` or ``2``), ``metadata`` (INI text)
and sample members:

* logic: version 1 stores one member named after ``capturefile`` (``logic-1``); version 2 stores
  chunks ``logic-1-1`` … ``logic-1-N`` that are concatenated in numeric order. Each sample is
  ``unitsize`` bytes, little-endian; probe *k* (1-based) is bit ``(k-1) % 8`` of byte
  ``(k-1) // 8``. Only probes named in the metadata (``probeK=name``) become channels.
* analog (version 2): chunks ``analog-1-K-N`` of little-endian float32, where K continues the
  probe numbering (``analog9`` after 8 probes) and N is the chunk number.

The metadata is read line by line rather than with :mod:`configparser`: keys come as
``key = value`` or ``key=value`` and a line may start with a space (``" trigger2 = 0"``), which
configparser would glue onto the previous value. The sample rate is read as written, units
included (``200 kHz``, ``1MHz``, ``2 mHz`` = 0.002 Hz: millihertz is what the file says, even
where the capture obviously ran at 2 MHz — fix such files with a sidecar, not by guessing).

Declared member sizes are checked against caps and against the compressed size before
anything is decompressed (zip bombs), and the decoded size is checked before unpacking bits.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_oscura.captures._limits import (
    MAX_CHANNELS,
    ZIP_ERRORS,
    check_decoded_size,
    check_samples,
    check_zip_member,
    parse_int,
)
from pytest_oscura.captures.model import CaptureHeader, ChannelHeader, RawChannel

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

MAGIC = b"PK\x03\x04"
_RATE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")
_RATE_UNITS = {"": 1.0, "hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9, "thz": 1e12}
_CHUNK_RE = re.compile(r"^(?P<base>.+?)-(?P<chunk>[0-9]+)$")
_ANALOG_RE = re.compile(r"^analog-1-(?P<index>[0-9]+)-(?P<chunk>[0-9]+)$")
_MAX_METADATA_BYTES = 1 << 20


def sniff(head: bytes) -> bool:
    return head.startswith(MAGIC)


def parse_samplerate(text: str) -> float:
    """Samples per second from a sigrok rate string, units as written (``2 mHz`` = 0.002)."""
    match = _RATE_RE.match(text)
    if match is None:
        raise ValueError(f"unreadable samplerate {text[:40]!r}")
    value, unit = float(match.group(1)), match.group(2)
    if unit == "mHz":  # millihertz; "MHz"/"mhz" are megahertz
        scale = 1e-3
    elif unit.lower() in _RATE_UNITS:
        scale = _RATE_UNITS[unit.lower()]
    else:
        raise ValueError(f"unknown samplerate unit in {text[:40]!r}")
    rate = value * scale
    if not rate > 0:
        raise ValueError(f"samplerate {text[:40]!r} is not positive")
    return rate


def parse_metadata(text: str) -> dict[str, dict[str, str]]:
    """``{section: {key: value}}``; every non-blank line is a section header or ``key=value``."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith((";", "#")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), {})
            continue
        if "=" not in line or current is None:
            raise ValueError(f"metadata line {number}: cannot parse {line[:40]!r}")
        key, value = line.split("=", 1)
        current[key.strip()] = value.strip()
    return sections


@dataclass(frozen=True)
class _Layout:
    version: int
    sample_rate_hz: float | None
    unitsize: int
    logic: tuple[tuple[int, str], ...]  # (probe index, name), 1-based
    analog: tuple[tuple[int, str], ...]
    logic_members: tuple[str, ...]
    analog_members: dict[int, tuple[str, ...]]


def _checked_infos(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    infos: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        check_zip_member(info, info.filename)
        infos[info.filename] = info
    return infos


def _read_text(archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], name: str) -> str:
    info = infos.get(name)
    if info is None:
        raise ValueError(f"not a sigrok session: member {name!r} missing")
    if info.file_size > _MAX_METADATA_BYTES:
        raise ValueError(f"member {name!r} is {info.file_size} bytes, too large for metadata")
    try:
        return archive.read(info).decode("utf-8", errors="replace")
    except ZIP_ERRORS as exc:
        raise ValueError(f"member {name!r} is corrupt ({exc})") from None


def _chunks(names: list[str], base: str) -> tuple[str, ...]:
    numbered: list[tuple[int, str]] = []
    for name in names:
        match = _CHUNK_RE.match(name)
        if match and match.group("base") == base:
            numbered.append((int(match.group("chunk")), name))
    numbered.sort()
    for expected, (number, name) in enumerate(numbered, start=1):
        if number != expected:
            raise ValueError(f"chunk {base}-{expected} missing (found {name!r})")
    return tuple(name for _, name in numbered)


def _layout(archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]) -> _Layout:
    version_text = _read_text(archive, infos, "version").strip()
    if version_text not in ("1", "2"):
        raise ValueError(f"unsupported sigrok session version {version_text[:20]!r}")
    version = int(version_text)
    sections = parse_metadata(_read_text(archive, infos, "metadata"))
    device = sections.get("device 1")
    if device is None:
        raise ValueError("metadata has no [device 1] section")
    rate_text = device.get("samplerate")
    sample_rate_hz = parse_samplerate(rate_text) if rate_text is not None else None
    total_probes = parse_int(device.get("total probes", "0"), "total probes")
    total_analog = parse_int(device.get("total analog", "0"), "total analog")
    if not (0 <= total_probes <= MAX_CHANNELS and 0 <= total_analog <= MAX_CHANNELS):
        raise ValueError(f"absurd channel counts: {total_probes} probes, {total_analog} analog")
    logic = tuple(
        (i, device[f"probe{i}"]) for i in range(1, total_probes + 1) if f"probe{i}" in device
    )
    analog_indices = sorted(
        int(key[6:]) for key in device if key.startswith("analog") and key[6:].isdigit()
    )
    analog = tuple((i, device[f"analog{i}"]) for i in analog_indices)
    names = sorted(infos)
    logic_members: tuple[str, ...] = ()
    unitsize = 0
    if logic:
        capturefile = device.get("capturefile")
        if capturefile is None:
            raise ValueError("metadata names probes but no capturefile")
        unitsize = parse_int(device.get("unitsize", "1"), "unitsize")
        if not 1 <= unitsize <= 64 or unitsize * 8 < max(i for i, _ in logic):
            raise ValueError(f"unitsize {unitsize} does not fit {total_probes} probes")
        if version == 1 or capturefile in infos:
            if capturefile not in infos:
                raise ValueError(f"not a complete sigrok session: member {capturefile!r} missing")
            logic_members = (capturefile,)
        else:
            logic_members = _chunks(names, capturefile)
            if not logic_members:
                raise ValueError(f"not a complete sigrok session: no {capturefile}-N chunks")
    analog_members: dict[int, tuple[str, ...]] = {}
    for index, _ in analog:
        members = _chunks(names, f"analog-1-{index}")
        if not members:
            raise ValueError(f"not a complete sigrok session: no analog-1-{index}-N chunks")
        analog_members[index] = members
    if not logic and not analog:
        raise ValueError("metadata declares no probes and no analog channels")
    return _Layout(version, sample_rate_hz, unitsize, logic, analog, logic_members, analog_members)


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"not a sigrok session (bad zip archive: {exc})") from None


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        name = name or "unnamed"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _channel_names(layout: _Layout) -> list[str]:
    return _unique([name for _, name in layout.logic] + [name for _, name in layout.analog])


def read_sr_file_header(path: Path) -> CaptureHeader:
    with _open(path) as archive:
        layout = _layout(archive, _checked_infos(archive))
    kinds = ["logic"] * len(layout.logic) + ["analog"] * len(layout.analog)
    return CaptureHeader(
        tuple(ChannelHeader(n, k) for n, k in zip(_channel_names(layout), kinds, strict=True))
    )


def _read_members(
    archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], members: tuple[str, ...]
) -> bytes:
    parts = []
    for name in members:
        try:
            data = archive.read(infos[name])
        except ZIP_ERRORS as exc:
            raise ValueError(f"member {name!r} is corrupt ({exc})") from None
        parts.append(data)
    return b"".join(parts)


def load_sr(path: Path) -> list[RawChannel]:
    import numpy as np

    with _open(path) as archive:
        infos = _checked_infos(archive)
        layout = _layout(archive, infos)
        logic_bytes = sum(infos[m].file_size for m in layout.logic_members)
        analog_bytes = sum(infos[m].file_size for ms in layout.analog_members.values() for m in ms)
        logic_samples = logic_bytes // layout.unitsize if layout.unitsize else 0
        check_samples(max(logic_samples, analog_bytes // 4), "a channel")
        # The raw logic bytes, one uint8 per probe and sample, float64 analog values.
        decoded = logic_bytes + len(layout.logic) * logic_samples + 2 * analog_bytes
        check_decoded_size(decoded, "sigrok session", path.stat().st_size)
        metadata: dict[str, object] = {"format": "sigrok", "version": layout.version}
        channels: list[RawChannel] = []
        names = iter(_channel_names(layout))
        if layout.logic:
            raw = _read_members(archive, infos, layout.logic_members)
            if len(raw) % layout.unitsize:
                raise ValueError(
                    f"logic data is {len(raw)} bytes, not a multiple of unitsize {layout.unitsize}"
                )
            units = np.frombuffer(raw, dtype=np.uint8).reshape(-1, layout.unitsize)
            for probe, _ in layout.logic:
                column = units[:, (probe - 1) // 8]
                bits: npt.NDArray[np.uint8] = (column >> np.uint8((probe - 1) % 8)) & np.uint8(1)
                channels.append(
                    RawChannel(
                        name=next(names),
                        samples=bits.astype(np.uint8),
                        sample_rate_hz=layout.sample_rate_hz,
                        units="bit",
                        kind="logic",
                        metadata={**metadata, "probe": probe},
                    )
                )
        for index, _ in layout.analog:
            raw = _read_members(archive, infos, layout.analog_members[index])
            if len(raw) % 4:
                raise ValueError(f"analog channel {index} data is not whole float32 values")
            channels.append(
                RawChannel(
                    name=next(names),
                    samples=np.frombuffer(raw, dtype="<f4").astype(np.float64),
                    sample_rate_hz=layout.sample_rate_hz,
                    units=None,  # sigrok stores the unit per packet, not in the file
                    kind="analog",
                    metadata={**metadata, "analog_index": index},
                )
            )
    return channels
