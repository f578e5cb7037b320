"""HDF5 captures through ``h5py`` (optional extra ``formats``), two layouts.

Keysight Infiniium (``/Waveforms/<Channel N>`` groups): the group's ``<name>Data`` dataset holds
volts already; ``XInc`` gives the sample period, ``XOrg`` the time of the first sample,
``NumSegments`` > 1 a segmented record (reshaped to segments × ``NumPoints``).

Generic: every numeric dataset of the file (sorted by path) is a channel named by its path with
``/`` turned into ``.`` (``group.signal``). A 1-D dataset is a plain record, a 2-D dataset a
segmented one (segments × samples). The sample rate comes from the dataset's, then the root's
attribute ``sample_rate_hz`` (or ``sample_rate``/``fs`` in Hz, or ``dt``/``XInc``/
``wf_increment`` in seconds); units from ``units``. A dataset whose ``kind`` attribute is
``"logic"`` is a logic channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_oscura.captures._limits import MAX_CHANNELS, check_decoded_size, optional_import
from pytest_oscura.captures.model import CaptureHeader, ChannelHeader, RawChannel

MAGIC = b"\x89HDF\r\n\x1a\n"
_RATE_KEYS = ("sample_rate_hz", "sample_rate", "fs")
_STEP_KEYS = ("dt", "XInc", "wf_increment")


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


def _attr(obj: Any, key: str) -> Any:
    value = obj.attrs.get(key)
    if hasattr(value, "shape") and getattr(value, "shape", ()) in ((1,),):
        value = value[0]
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value


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
        if hasattr(obj, "dtype") and hasattr(obj, "shape"):
            found.append((name, obj))

    handle.visititems(visit)
    entries = []
    for name, dataset in sorted(found):
        if dataset.dtype.kind not in "fiub" or dataset.ndim not in (1, 2):
            continue
        kind = "logic" if _attr(dataset, "kind") == "logic" else "analog"
        segments = int(dataset.shape[0]) if dataset.ndim == 2 else 0
        entries.append(_Entry(name.replace("/", "."), name, kind, segments, False))
    return entries


def _entries(handle: Any) -> list[_Entry]:
    entries = _keysight_entries(handle) or _generic_entries(handle)
    if not entries:
        raise ValueError("no numeric 1-D or 2-D datasets")
    if len(entries) > MAX_CHANNELS:
        raise ValueError(f"{len(entries)} datasets, more than {MAX_CHANNELS} channels")
    return entries


def read_hdf5_file_header(path: Path) -> CaptureHeader:
    with _open(path) as handle:
        entries = _entries(handle)
    return CaptureHeader(tuple(ChannelHeader(e.name, e.kind, e.segments) for e in entries))


def _rate(*objects: Any) -> float | None:
    for obj in objects:
        for key in _RATE_KEYS:
            value = _attr(obj, key)
            if value is not None:
                return float(value)
        for key in _STEP_KEYS:
            value = _attr(obj, key)
            if value is not None:
                step = float(value)
                if not step > 0:
                    raise ValueError(f"attribute {key}={step!r} is not a positive step")
                return 1.0 / step
    return None


def load_hdf5(path: Path) -> list[RawChannel]:
    import numpy as np

    out = []
    with _open(path) as handle:
        entries = _entries(handle)
        check_decoded_size(sum(8 * handle[e.path].size for e in entries), "HDF5 file")
        for entry in entries:
            dataset = handle[entry.path]
            try:
                samples = np.asarray(dataset[()])
            except (OSError, ValueError) as exc:
                raise ValueError(f"dataset {entry.path!r} unreadable ({exc})") from None
            if entry.keysight:
                group = dataset.parent
                rate = _rate(group)
                units = _attr(group, "YUnits")
                t0 = float(_attr(group, "XOrg") or 0.0)
                if entry.segments:
                    samples = samples.reshape(entry.segments, -1)
            else:
                rate = _rate(dataset, handle)
                units = _attr(dataset, "units") or _attr(handle, "units")
                t0 = float(_attr(dataset, "t0_s") or 0.0)
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
                )
            )
    return out
