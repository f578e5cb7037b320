"""HDF5 captures through ``h5py`` (optional extra ``formats``): the common scope layouts.

Keysight Infiniium (``/Waveforms/<Channel N>`` groups): the group's ``<name>Data`` dataset holds
volts already; ``XInc`` gives the sample period, ``XOrg`` the time of the first sample,
``NumSegments`` > 1 a segmented record (reshaped to segments × ``NumPoints``).

Everything else is self-describing datasets: every numeric dataset of two or more elements
(sorted by path) is a channel named by its path with ``/`` turned into ``.`` (``group.signal``;
a ``Data`` dataset at the root is ``Data``). A 1-D dataset is a plain record, a 2-D dataset a
segmented one (segments × samples). Scalar datasets are metadata, never channels. The sample
rate comes from the first of these found, looking at the dataset's attributes, then at the
scalar datasets and the attributes of its group, then of each group above it up to the root
(names compared without case):

* a rate in Hz: :data:`RATE_KEYS` (``sample_rate_hz``, ``sample_rate``, ``fs``, …);
* a sample period in s: :data:`STEP_KEYS` (``dt``, ``Spacing``, ``XInc``, ``XINCR``,
  ``wf_increment``, …).

So the Tektronix layout (datasets ``Data``, ``Spacing`` in s and ``StartTime``) is one channel
``Data`` at 1 / ``Spacing``; ``StartTime`` (or ``t0``, ``XOrg``, …: :data:`START_KEYS`) gives the
time of the first sample and ``units``/``YUnits`` the unit. A dataset whose ``kind`` attribute
is ``"logic"`` is a logic channel. When no rate is found the item's error lists what was looked
for. Shapes are checked against the limits before any dataset is read (a sparse or compressed
dataset can declare far more than the file holds).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_oscura.captures._limits import (
    check_channels,
    check_decoded_size,
    check_samples,
    optional_import,
)
from pytest_oscura.captures.model import CaptureHeader, ChannelHeader, RawChannel

MAGIC = b"\x89HDF\r\n\x1a\n"
RATE_KEYS = ("sample_rate_hz", "sample_rate", "samplerate", "sampling_rate", "fs")
STEP_KEYS = (
    "dt",
    "spacing",
    "xinc",
    "xincr",
    "x_increment",
    "xincrement",
    "wf_increment",
    "sample_interval",
    "sampling_interval",
)
START_KEYS = ("t0_s", "t0", "starttime", "start_time", "xorg", "x_origin", "wf_start_offset")
UNIT_KEYS = ("units", "unit", "yunits", "y_units", "unit_string")
LOOKED_FOR = (
    f"attributes or scalar datasets {'/'.join(RATE_KEYS)} (Hz) or "
    f"{'/'.join(('dt', 'Spacing', 'XInc', 'XINCR', *STEP_KEYS[4:]))} (s) "
    "on the dataset, its groups and the file root"
)


def sniff(head: bytes) -> bool:
    return head.startswith(MAGIC)


@dataclass(frozen=True)
class _Entry:
    name: str
    path: str
    kind: str
    segments: int
    keysight: bool


def _open(path: Path) -> Any:
    h5py = optional_import("h5py", "HDF5 files")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        text = str(exc).splitlines()[0] if str(exc) else "unreadable"
        raise ValueError(f"not a readable HDF5 file ({text[:120]})") from None


def _plain(value: Any) -> Any:
    if hasattr(value, "shape") and getattr(value, "shape", ()) in ((), (1,)):
        value = value.reshape(-1)[0] if value.shape else value[()]
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value


def _attr(obj: Any, key: str) -> Any:
    return _plain(obj.attrs.get(key))


def _is_dataset(obj: Any) -> bool:
    return hasattr(obj, "dtype") and hasattr(obj, "shape")


def _keysight_entries(handle: Any) -> list[_Entry] | None:
    group = handle.get("Waveforms")
    if group is None or not hasattr(group, "keys"):
        return None
    entries = []
    for name in sorted(group.keys()):
        channel = group[name]
        if not hasattr(channel, "keys") or f"{name}Data" not in channel:
            continue
        n_segments = int(_attr(channel, "NumSegments") or 0)
        entries.append(
            _Entry(
                name.replace("Channel ", "CH"),
                f"Waveforms/{name}/{name}Data",
                "analog",
                n_segments if n_segments > 1 else 0,
                True,
            )
        )
    return entries or None


def _generic_entries(handle: Any) -> list[_Entry]:
    found: list[tuple[str, Any]] = []

    def visit(name: str, obj: Any) -> None:
        if _is_dataset(obj):
            found.append((name, obj))

    handle.visititems(visit)
    entries = []
    for name, dataset in sorted(found):
        if dataset.dtype.kind not in "fiub" or dataset.ndim not in (1, 2) or dataset.size < 2:
            continue
        kind = "logic" if _attr(dataset, "kind") == "logic" else "analog"
        segments = int(dataset.shape[0]) if dataset.ndim == 2 else 0
        entries.append(_Entry(name.replace("/", "."), name, kind, segments, False))
    return entries


def _entries(handle: Any) -> list[_Entry]:
    entries = _keysight_entries(handle) or _generic_entries(handle)
    if not entries:
        raise ValueError("no numeric datasets of two or more values")
    check_channels(len(entries), "file")
    return entries


def read_hdf5_file_header(path: Path) -> CaptureHeader:
    with _open(path) as handle:
        entries = _entries(handle)
    return CaptureHeader(tuple(ChannelHeader(e.name, e.kind, e.segments) for e in entries))


class _Names:
    """Each group's member names by lower-cased name, listed once per file (every dataset
    looks up its groups, so a flat file of thousands of datasets must not list them each time).
    """

    def __init__(self) -> None:
        self._cache: dict[str, dict[str, str]] = {}

    def __call__(self, group: Any) -> dict[str, str]:
        names = self._cache.get(group.name)
        if names is None:
            names = {}
            for key in sorted(group.keys()):
                names.setdefault(key.lower(), key)
            self._cache[group.name] = names
        return names


def _lookup(dataset: Any, keys: tuple[str, ...], names: _Names) -> tuple[str, Any] | None:
    """The first of ``keys`` on the dataset, then in each group from its own up to the root."""
    wanted = set(keys)

    def attrs(obj: Any) -> tuple[str, Any] | None:
        for key in obj.attrs:
            if key.lower() in wanted:
                return key, _plain(obj.attrs[key])
        return None

    hit = attrs(dataset)
    if hit is not None:
        return hit
    group = dataset.parent
    while True:
        members = names(group)
        for wanted_key in keys:
            key = members.get(wanted_key)
            if key is not None:
                item = group.get(key)
                if _is_dataset(item) and item.size == 1:
                    return key, _plain(item[()])
        hit = attrs(group)
        if hit is not None:
            return hit
        if group.name == "/":
            return None
        group = group.parent


def _number(hit: tuple[str, Any], what: str) -> float:
    key, value = hit
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} {key}={str(value)[:30]!r} is not a number") from None


def _rate(dataset: Any, names: _Names) -> float | None:
    """Hz from the nearest rate or period: the dataset's own keys beat its group's."""
    hit = _lookup(dataset, RATE_KEYS + STEP_KEYS, names)
    if hit is None:
        return None
    if hit[0].lower() in RATE_KEYS:
        rate = _number(hit, "sample rate")
        if not rate > 0:
            raise ValueError(f"sample rate {hit[0]}={rate!r} is not positive")
        return rate
    step = _number(hit, "sample period")
    if not step > 0:
        raise ValueError(f"attribute {hit[0]}={step!r} is not a positive step")
    return 1.0 / step


def _keysight_rate(group: Any) -> float | None:
    step = _attr(group, "XInc")
    if step is None:
        return None
    if not float(step) > 0:
        raise ValueError(f"attribute XInc={step!r} is not a positive step")
    return 1.0 / float(step)


def load_hdf5(path: Path) -> list[RawChannel]:
    import numpy as np

    out = []
    names = _Names()
    with _open(path) as handle:
        entries = _entries(handle)
        datasets = [handle[e.path] for e in entries]
        for entry, dataset in zip(entries, datasets, strict=True):
            check_samples(int(dataset.size), f"dataset {entry.path!r}")
        decoded = sum(
            (1 if e.kind == "logic" else 8) * d.size for e, d in zip(entries, datasets, strict=True)
        )
        check_decoded_size(int(decoded), "HDF5 file", path.stat().st_size)
        for entry, dataset in zip(entries, datasets, strict=True):
            try:
                samples = np.asarray(dataset[()])
            except (OSError, ValueError) as exc:
                raise ValueError(f"dataset {entry.path!r} unreadable ({exc})") from None
            if entry.keysight:
                group = dataset.parent
                rate = _keysight_rate(group)
                units = _attr(group, "YUnits")
                t0 = float(_attr(group, "XOrg") or 0.0)
                if entry.segments:
                    samples = samples.reshape(entry.segments, -1)
            else:
                rate = _rate(dataset, names)
                unit_hit = _lookup(dataset, UNIT_KEYS, names)
                units = unit_hit[1] if unit_hit else None
                start = _lookup(dataset, START_KEYS, names)
                t0 = _number(start, "start time") if start else 0.0
            if entry.kind == "logic":
                samples = (samples != 0).astype(np.uint8)
            out.append(
                RawChannel(
                    name=entry.name,
                    samples=samples,
                    sample_rate_hz=rate,
                    units=str(units) if isinstance(units, str) and units else None,
                    kind=entry.kind,
                    metadata={"format": "hdf5", "dataset": entry.path, "t0_s": t0},
                    rate_sources=None if entry.keysight else LOOKED_FOR,
                )
            )
    return out
