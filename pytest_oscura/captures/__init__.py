"""Capture formats: detection by suffix (and magic bytes), header reading, loading. Pure.

Collection calls :func:`read_header` (headers only, no numpy); an item calls
:func:`load_capture`, which resolves sample rate, units and channel names in this order: the file
itself, a sidecar ``<capture file name>.json`` (``rail.npz.json``), the suite config.

Samples stay compact: a logic channel's are uint8 0/1, an analog channel's float64 or, where
the file stores integers (WAV PCM, integer ``.npy``/``.npz`` arrays), those integers with the
:class:`~pytest_oscura.captures.model.Scaling` that makes them values; the measurement engine
converts one channel at a time to float64 when it measures it (on the GPU for the GPU strategy).

Every problem with one file (its header, sidecar, payload or values) is a one-line
:class:`~pytest_oscura.errors.CaptureError` (or :class:`~pytest_oscura.errors.ConfigError` for
a sidecar) naming the file, whatever the reader raised; limits are in :mod:`._limits`. Channel
names must be unique and free of ``::`` (the node-id separator) and control characters: a file
that breaks that is refused, and a sidecar ``channels`` list renames its channels. Companion
files (:mod:`.companions`) are not captures: :func:`format_for` gives ``None`` for them.

Formats come from :data:`FORMATS` (built in) and from the entry-point group
``pytest_oscura.formats`` (third-party packages): each entry point names a
:class:`CaptureFormat`, or a zero-argument callable returning one or a list of them. Entry points
are loaded on first use, sorted by name, and consulted after the built-in formats.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_oscura._files import special_file
from pytest_oscura.captures import (
    alb_format,
    hdf5_format,
    isf_format,
    sigrok_format,
    tdms_format,
    vcd_format,
    vendor_formats,
)
from pytest_oscura.captures.companions import companions_of, owner_of
from pytest_oscura.captures.csv_format import load_csv, read_csv_file_header
from pytest_oscura.captures.model import (
    Capture,
    CaptureHeader,
    ChannelHeader,
    RawChannel,
    Scaling,
)
from pytest_oscura.captures.numpy_formats import (
    load_npy,
    load_npz,
    read_npy_file_header,
    read_npz_file_header,
)
from pytest_oscura.captures.sidecar import (
    SIDECAR_KEYS,
    Sidecar,
    name_problem,
    read_sidecar,
    sidecar_path,
)
from pytest_oscura.captures.wav_format import load_wav, read_wav_file_header
from pytest_oscura.errors import CaptureError, ConfigError, OscuraError

__all__ = [
    "ENTRY_POINT_GROUP",
    "FORMATS",
    "SIDECAR_KEYS",
    "Capture",
    "CaptureFormat",
    "CaptureHeader",
    "ChannelHeader",
    "LoadSettings",
    "RawChannel",
    "Scaling",
    "Sidecar",
    "all_formats",
    "format_for",
    "load_capture",
    "read_header",
    "read_sidecar",
]


@dataclass(frozen=True)
class LoadSettings:
    """Fallbacks from the suite config, used where neither the file nor a sidecar says.

    ``full_scale`` scales integer PCM (``.wav``): the value, in ``units``, of digital full scale.
    """

    sample_rate_hz: float | None = None
    units: str | None = None
    full_scale: float | None = None


@dataclass(frozen=True)
class CaptureFormat:
    """A capture format: ``read_header`` must not decode samples; ``load`` returns every channel.

    ``sniff`` looks at the first 64 bytes and decides between formats that share a suffix. With
    ``sniff_required`` the format is chosen only when ``sniff`` says yes, even for a suffix no
    other format claims (LeCroy's numbered ``trace3.000``: most ``.000`` files are not traces).
    """

    name: str
    suffixes: tuple[str, ...]
    read_header: Callable[[Path], CaptureHeader]
    load: Callable[[Path, LoadSettings], list[RawChannel]]
    sniff: Callable[[bytes], bool] | None = None
    sniff_required: bool = False


def _no_settings(
    load: Callable[[Path], list[RawChannel]],
) -> Callable[[Path, LoadSettings], list[RawChannel]]:
    return lambda path, settings: load(path)


def _vendor(name: str, suffixes: tuple[str, ...], sniff: Callable[[bytes], bool]) -> CaptureFormat:
    read, load = vendor_formats.READERS[name]
    return CaptureFormat(name, suffixes, read, _no_settings(load), sniff)


FORMATS: tuple[CaptureFormat, ...] = (
    CaptureFormat("npy", (".npy",), read_npy_file_header, lambda p, s: load_npy(p)),
    CaptureFormat("npz", (".npz",), read_npz_file_header, lambda p, s: load_npz(p)),
    CaptureFormat("csv", (".csv",), read_csv_file_header, lambda p, s: load_csv(p)),
    CaptureFormat("wav", (".wav",), read_wav_file_header, lambda p, s: load_wav(p, s.full_scale)),
    CaptureFormat(
        "sigrok",
        (".sr",),
        sigrok_format.read_sr_file_header,
        _no_settings(sigrok_format.load_sr),
        sigrok_format.sniff,
    ),
    CaptureFormat(
        "tek-isf",
        (".isf",),
        isf_format.read_isf_file_header,
        lambda p, s: isf_format.load_isf(p),
        isf_format.sniff,
    ),
    _vendor("rigol-wfm", (".wfm",), vendor_formats.sniff_rigol_wfm),
    _vendor("tek-wfm", (".wfm",), vendor_formats.sniff_tek_wfm),
    _vendor("keysight-bin", (".bin",), vendor_formats.sniff_keysight_bin),
    _vendor("rigol-bin", (".bin",), vendor_formats.sniff_rigol_bin),
    _vendor("rs-bin", (".bin",), vendor_formats.sniff_rs_bin),
    _vendor("lecroy", (".trc",), vendor_formats.sniff_lecroy),
    CaptureFormat(
        "lecroy-numbered",
        tuple(f".{i:03d}" for i in range(1000)),
        vendor_formats.READERS["lecroy"][0],
        _no_settings(vendor_formats.READERS["lecroy"][1]),
        vendor_formats.sniff_lecroy,
        sniff_required=True,
    ),
    CaptureFormat(
        "agilent-alb",
        (".alb",),
        alb_format.read_alb_file_header,
        _no_settings(alb_format.load_alb),
        alb_format.sniff,
    ),
    CaptureFormat(
        "hdf5",
        (".h5", ".hdf5", ".hdf"),
        hdf5_format.read_hdf5_file_header,
        _no_settings(hdf5_format.load_hdf5),
        hdf5_format.sniff,
    ),
    CaptureFormat(
        "tdms",
        (".tdms",),
        tdms_format.read_tdms_file_header,
        _no_settings(tdms_format.load_tdms),
        tdms_format.sniff,
    ),
    CaptureFormat(
        "vcd",
        (".vcd",),
        vcd_format.read_vcd_file_header,
        _no_settings(vcd_format.load_vcd),
        vcd_format.sniff,
    ),
)
ENTRY_POINT_GROUP = "pytest_oscura.formats"
_SNIFF_BYTES = 64


@functools.cache
def _entry_point_formats() -> tuple[CaptureFormat, ...]:
    """Formats that installed packages declare in ``pytest_oscura.formats``, sorted by name."""
    from importlib.metadata import entry_points

    found: list[CaptureFormat] = []
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name, e.value)):
        try:
            obj = entry.load()
            if callable(obj) and not isinstance(obj, CaptureFormat):
                obj = obj()
        except Exception as exc:  # a broken third-party plugin must say who it is
            raise ConfigError(
                f"capture format entry point {entry.name!r} ({entry.value}) failed to load: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        items = obj if isinstance(obj, list | tuple) else [obj]
        for item in items:
            if not isinstance(item, CaptureFormat):
                raise ConfigError(
                    f"capture format entry point {entry.name!r} ({entry.value}) gave "
                    f"{type(item).__name__}, expected pytest_oscura.captures.CaptureFormat"
                )
            found.append(item)
    return tuple(found)


def all_formats() -> tuple[CaptureFormat, ...]:
    """Built-in formats, then those of installed plugins (entry points, sorted by name)."""
    return FORMATS + _entry_point_formats()


def format_for(path: Path) -> CaptureFormat | None:
    """The format of ``path`` by suffix; magic bytes decide where formats share a suffix.

    Among the formats claiming the suffix, the first whose ``sniff`` accepts the file's first
    64 bytes wins (a format without ``sniff`` accepts everything); when none accepts it, the
    first candidate that does not require a sniff match is used, so a damaged file still gets
    a reader and with it an error message rather than being silently ignored. A companion file
    (an R&S ``.Wfm.bin`` payload next to its header, a setup CSV next to its capture) has no
    format of its own: ``None``.
    """
    capture_format = _format_by_content(path)
    if capture_format is None or owner_of(path, _is_capture) is not None:
        return None
    return capture_format


def _is_capture(path: Path) -> bool:
    return _format_by_content(path) is not None


def _format_by_content(path: Path) -> CaptureFormat | None:
    suffix = path.suffix.lower()
    candidates = [f for f in all_formats() if suffix in f.suffixes]
    if not candidates or special_file(path) is not None:  # a FIFO would block the reader
        return None
    if len(candidates) == 1 and not candidates[0].sniff_required:
        return candidates[0]
    try:
        with path.open("rb") as stream:
            head = stream.read(_SNIFF_BYTES)
    except OSError:
        head = b""
    for candidate in candidates:
        if candidate.sniff is None or candidate.sniff(head):
            return candidate
    fallback = [c for c in candidates if not c.sniff_required]
    return fallback[0] if fallback else None


def _rename(names: list[str], sidecar: Sidecar | None, display: str) -> list[str]:
    if sidecar is None or sidecar.channels is None:
        return names
    if len(sidecar.channels) != len(names):
        raise CaptureError(
            f"{display}: sidecar names {len(sidecar.channels)} channels, file holds {len(names)}"
        )
    return list(sidecar.channels)


def _format_or_error(path: Path, display: str, known: CaptureFormat | None = None) -> CaptureFormat:
    capture_format = known or format_for(path)
    if capture_format is not None:
        return capture_format
    owner = owner_of(path, _is_capture)
    if owner is not None:
        raise CaptureError(
            f"{display}: companion file of {owner.name}, read with it; not a capture"
        )
    raise CaptureError(f"{display}: unknown capture format {path.suffix!r}")


def read_header(
    path: Path, display: str | None = None, capture_format: CaptureFormat | None = None
) -> CaptureHeader:
    """Channel names of ``path`` from its header (and sidecar). Raises CaptureError/ConfigError.

    ``capture_format`` is the file's :func:`format_for`, where the caller found it already
    (collection does: it sniffs each file once, a CSV's head is parsed to tell companions).
    """
    display = display or str(path)
    capture_format = _format_or_error(path, display, capture_format)
    try:
        header = capture_format.read_header(path)
    except OscuraError:
        raise
    except Exception as exc:  # a reader on arbitrary bytes: every failure is this file's
        raise CaptureError(f"{display}: {_reason(exc)}") from None
    if not header.channels:
        raise CaptureError(f"{display}: no channels")
    names = _rename([c.name for c in header.channels], read_sidecar(path), display)
    check_names(names, display, path)
    return CaptureHeader(
        tuple(
            ChannelHeader(n, c.kind, c.segments)
            for n, c in zip(names, header.channels, strict=True)
        )
    )


def check_names(names: list[str], display: str, path: Path) -> None:
    """Refuse duplicate channel names and names that would break node ids (CaptureError)."""
    fix = f'rename the channels with "channels" in {sidecar_path(path).name}'
    seen: set[str] = set()
    for name in names:
        problem = name_problem(name)
        if problem:
            raise CaptureError(f"{display}: channel name {name[:40]!r} {problem}; {fix}")
        if name in seen:
            raise CaptureError(f"{display}: duplicate channel name {name[:40]!r}; {fix}")
        seen.add(name)


def _reason(exc: BaseException) -> str:
    """One line, lower-case first, saying what is wrong with the file."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    if isinstance(exc, EOFError):
        return "truncated file"
    if isinstance(exc, MemoryError):
        return "too large to decode in memory"
    if isinstance(exc, RecursionError):
        return "structure nested too deeply to read"
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    if isinstance(exc, ValueError) and text:
        return text
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return f"unreadable file ({detail})"


def load_capture(
    path: Path, settings: LoadSettings | None = None, display: str | None = None
) -> list[Capture]:
    """Load every channel of ``path`` as validated :class:`Capture` objects.

    Analog channels are float64 or stored integers with their scaling; logic channels uint8 0/1
    (see the module docstring).

    Raises:
        CaptureError: the file cannot be read, holds no or non-finite samples, or its sample
            rate is not declared anywhere (the message says where to declare it).
    """
    import numpy as np

    display = display or str(path)
    settings = settings or LoadSettings()
    capture_format = _format_or_error(path, display)
    sidecar = read_sidecar(path)
    if sidecar is not None and sidecar.full_scale is not None:
        settings = LoadSettings(settings.sample_rate_hz, settings.units, sidecar.full_scale)
    try:
        raw_channels = capture_format.load(path, settings)
    except OscuraError:
        raise
    except Exception as exc:  # a reader on arbitrary bytes: every failure is this file's
        raise CaptureError(f"{display}: {_reason(exc)}") from None
    if not raw_channels:
        raise CaptureError(f"{display}: no channels")
    names = _rename([c.name for c in raw_channels], sidecar, display)
    check_names(names, display, path)
    companions = companions_of(path, _is_capture)
    captures = []
    for name, raw in zip(names, raw_channels, strict=True):
        where = f"{display} channel {name}"
        sample_rate_hz = (
            raw.sample_rate_hz
            or (sidecar.sample_rate_hz if sidecar else None)
            or settings.sample_rate_hz
        )
        if sample_rate_hz is None:
            looked = (
                f" (the file has none: looked for {raw.rate_sources})" if raw.rate_sources else ""
            )
            raise CaptureError(
                f"{display}: sample rate unknown{looked}; declare sample_rate_hz in "
                f"{sidecar_path(path).name} or in oscura.toml ([defaults] or a [[rules]] entry)"
            )
        if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
            raise CaptureError(f"{display}: invalid sample rate {sample_rate_hz!r} Hz")
        samples = _validated(np.asarray(raw.samples), raw.kind, where)
        scaling = raw.scaling
        if scaling is None and raw.kind == "analog" and samples.dtype.kind in "iu":
            scaling = Scaling()  # integers that are the values: converted where measured
        units = raw.units or (sidecar.units if sidecar else None) or settings.units or "V"
        captures.append(
            Capture(
                stored=samples,
                scaling=scaling,
                sample_rate_hz=float(sample_rate_hz),
                channel=name,
                units=units,
                kind=raw.kind,
                metadata=dict(raw.metadata),
                warnings=tuple(raw.warnings),
                companions=tuple(sorted(set(raw.companions) | set(companions))),
            )
        )
    return captures


def _validated(samples: Any, kind: str, where: str) -> Any:
    """Analog samples as float64, all finite, or as the integers they are (no float copy);
    logic samples as uint8 0/1."""
    import numpy as np

    if samples.dtype.kind not in "fiub":
        raise CaptureError(f"{where}: dtype {samples.dtype} is not a real numeric type")
    if samples.size == 0:
        raise CaptureError(f"{where}: no samples (zero-length capture)")
    if kind == "logic":
        if samples.dtype.kind == "b":
            return samples.view(np.uint8)
        if samples.dtype != np.uint8:
            valid = (samples == 0) | (samples == 1)
            if not valid.all():
                bad = int(samples.size - np.count_nonzero(valid))
                raise CaptureError(f"{where}: {bad} of {samples.size} logic samples are not 0 or 1")
            return samples.astype(np.uint8)
        if int(samples.max()) > 1:
            raise CaptureError(f"{where}: logic samples other than 0 and 1")
        return samples
    if samples.dtype.kind in "iu":
        # Always finite; the engine makes the float64 copy when it measures. In this machine's
        # byte order: a big-endian file's integers (">i2" from .npy or HDF5) would otherwise
        # reach the GPU stack, and CuPy copies raw bytes as if they were little-endian.
        return samples.astype(samples.dtype.newbyteorder("="), copy=False)
    samples = samples.astype(np.float64, copy=False)
    finite = np.isfinite(samples)
    if not finite.all():
        bad = int(samples.size - np.count_nonzero(finite))
        raise CaptureError(f"{where}: {bad} of {samples.size} samples are NaN or infinite")
    return samples
