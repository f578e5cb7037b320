"""``.npy`` and ``.npz`` captures. Never unpickles: object arrays are refused.

``.npy``: a 1-D array (one channel) or a 2-D array of channels × samples.

``.npz`` (``numpy.savez``/``savez_compressed``) keys:

* ``samples`` (required): 1-D, or 2-D channels × samples;
* ``sample_rate_hz`` (optional): scalar, samples per second;
* ``channels`` (optional): 1-D string array, one name per channel;
* ``units`` (optional): scalar string, for example ``"V"``.

Other keys are ignored, so a capture may carry extra metadata arrays. Members are checked
before they are inflated (declared size, deflate ratio, decoded size against the file's
allowance); a member that fails to inflate is this file's error. Duplicate names in
``channels`` are refused (rename them in ``channels`` or with a sidecar).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from pytest_oscura.captures._limits import (
    MAX_CHANNELS,
    ZIP_ERRORS,
    check_decoded_size,
    check_samples,
    check_zip_member,
)
from pytest_oscura.captures._npy import NpyHeader, item_size, read_npy_header
from pytest_oscura.captures.model import CaptureHeader, ChannelHeader, RawChannel

_NUMERIC_KINDS = "fiub"


def _check_numeric(descr: str, what: str) -> None:
    kind = descr.lstrip("<>|=")[:1]
    if kind not in _NUMERIC_KINDS:
        raise ValueError(f"{what} has dtype {descr!r}, not a real numeric sample type")


def _channel_count(header: NpyHeader, what: str) -> int:
    _check_numeric(header.descr, what)
    if header.shape:
        check_samples(header.shape[-1], what)
    check_decoded_size(8 * _product(header.shape), what)
    if len(header.shape) == 1:
        return 1
    if len(header.shape) == 2:
        rows, columns = header.shape
        # More rows than columns (or than any capture has channels) is samples × channels saved
        # the wrong way round; refusing it beats collecting thousands of 2-sample "channels".
        if rows > MAX_CHANNELS or rows > max(columns, 1):
            raise ValueError(
                f"{what} is 2-D with {rows} rows of {columns} samples; 2-D captures are "
                f"channels × samples (at most {MAX_CHANNELS} channels): transpose it"
            )
        return rows
    raise ValueError(f"{what} has shape {header.shape}; expected 1-D or 2-D channels × samples")


def _default_names(count: int) -> list[str]:
    return [f"CH{i + 1}" for i in range(count)]


def _kind(descr: str) -> str:
    return "logic" if descr.lstrip("<>|=")[:1] == "b" else "analog"


def read_npy_file_header(path: Path) -> CaptureHeader:
    with path.open("rb") as stream:
        header = read_npy_header(stream)
    count = _channel_count(header, "array")
    kind = _kind(header.descr)
    return CaptureHeader(tuple(ChannelHeader(name, kind) for name in _default_names(count)))


def load_npy(path: Path) -> list[RawChannel]:
    import numpy as np

    with path.open("rb") as stream:
        header = read_npy_header(stream)
        _channel_count(header, "array")
        expected = item_size(header.descr) * _product(header.shape)
        available = path.stat().st_size - header.data_offset
        if available < expected:
            raise ValueError(
                f"truncated: header declares {expected} data bytes, file holds {available}"
            )
        stream.seek(0)
        array = np.load(stream, allow_pickle=False)
    return _split_channels(array, _default_names(_rows(array)))


def _product(shape: tuple[int, ...]) -> int:
    total = 1
    for n in shape:
        total *= n
    return total


def _rows(array: Any) -> int:
    return 1 if array.ndim == 1 else int(array.shape[0])


def _split_channels(
    array: Any,
    names: list[str],
    sample_rate_hz: float | None = None,
    units: str | None = None,
) -> list[RawChannel]:
    rows = [array] if array.ndim == 1 else list(array)
    kind = "logic" if array.dtype.kind == "b" else "analog"
    return [
        RawChannel(name=name, samples=row, sample_rate_hz=sample_rate_hz, units=units, kind=kind)
        for name, row in zip(names, rows, strict=True)
    ]


def _npz_member_header(archive: zipfile.ZipFile, key: str) -> NpyHeader | None:
    try:
        info = archive.getinfo(f"{key}.npy")
    except KeyError:
        return None
    check_zip_member(info, key)
    try:
        with archive.open(info) as stream:
            header = read_npy_header(stream)
    except ZIP_ERRORS as exc:
        raise ValueError(f"member {key!r} is corrupt ({_first_line(exc)})") from None
    expected = item_size(header.descr) * _product(header.shape)
    if info.file_size < expected:
        raise ValueError(f"member {key!r} is truncated")
    return header


def _first_line(exc: BaseException) -> str:
    kind = type(exc)
    name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
    text = str(exc).splitlines()[0][:120] if str(exc) else ""
    return f"{name}: {text}" if text else name


def _read_npz_channel_names(archive: zipfile.ZipFile, count: int) -> list[str]:
    header = _npz_member_header(archive, "channels")
    if header is None:
        return _default_names(count)
    kind = header.descr.lstrip("<>|=")[:1]
    if kind != "U" or len(header.shape) != 1:
        raise ValueError(f"'channels' must be a 1-D string array, got dtype {header.descr!r}")
    if header.shape[0] != count:
        raise ValueError(f"'channels' names {header.shape[0]} channels, 'samples' holds {count}")
    width = int(header.descr.lstrip("<>|=")[1:] or 0)
    if width > 4096:
        raise ValueError(f"'channels' names of {width} characters")
    try:
        with archive.open("channels.npy") as stream:
            stream.read(header.data_offset)
            raw = stream.read(4 * width * count)
    except ZIP_ERRORS as exc:
        raise ValueError(f"member 'channels' is corrupt ({_first_line(exc)})") from None
    codec = "utf-32-be" if header.descr.startswith(">") else "utf-32-le"
    try:
        return [
            raw[i * 4 * width : (i + 1) * 4 * width].decode(codec).rstrip("\x00")
            for i in range(count)
        ]
    except UnicodeDecodeError:
        raise ValueError("'channels' holds invalid text") from None


def read_npz_file_header(path: Path) -> CaptureHeader:
    try:
        with zipfile.ZipFile(path) as archive:
            header = _npz_member_header(archive, "samples")
            if header is None:
                found = sorted(name.removesuffix(".npy") for name in archive.namelist())
                raise ValueError(f"no 'samples' array (keys found: {', '.join(found) or 'none'})")
            count = _channel_count(header, "'samples'")
            names = _read_npz_channel_names(archive, count)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"not a valid .npz archive ({exc})") from None
    kind = _kind(header.descr)
    return CaptureHeader(tuple(ChannelHeader(name, kind) for name in names))


def load_npz(path: Path) -> list[RawChannel]:
    import numpy as np

    names = [channel.name for channel in read_npz_file_header(path).channels]
    with zipfile.ZipFile(path) as archive:
        header = _npz_member_header(archive, "samples")
    assert header is not None  # read_npz_file_header found it
    check_decoded_size(8 * _product(header.shape), "'samples'", path.stat().st_size)
    try:
        with np.load(path, allow_pickle=False) as archive:
            samples = archive["samples"]
            sample_rate_hz = _scalar(archive, "sample_rate_hz", float)
            units = _scalar(archive, "units", str)
    except ZIP_ERRORS as exc:
        raise ValueError(f"not a valid .npz archive ({_first_line(exc)})") from None
    return _split_channels(samples, names, sample_rate_hz, units)


def _scalar(archive: Any, key: str, convert: type) -> Any:
    if key not in archive.files:
        return None
    value = archive[key]
    if value.size != 1:
        raise ValueError(f"{key!r} must be a scalar, got shape {value.shape}")
    try:
        return convert(value.reshape(()).item())
    except (TypeError, ValueError):
        raise ValueError(f"{key!r} must be a {convert.__name__}, got {value.dtype}") from None
