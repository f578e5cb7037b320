"""Every size limit of the capture loaders, and the optional-library import. Pure.

Loaders check what a header *declares* against these limits and against the file size *before*
they allocate, so a corrupted or hostile file ends in a one-line ``ValueError`` (then the
capture's item error) instead of a multi-gigabyte allocation:

==============================  ==============  ==============================================
limit                           value           applies to
==============================  ==============  ==============================================
``MAX_CHANNELS``                4096            channels (items) per file, every format,
                                                CSV columns included
``MAX_SAMPLES_PER_CHANNEL``     2**28 (268 M)   samples of one channel (all its segments)
``MAX_DECODED_BYTES``           4 GiB           bytes one file decodes to in memory, all
                                                channels (float64 analog, 1 byte per logic
                                                sample)
``MAX_DECODED_PER_INPUT_BYTE``  32768           decoded bytes per byte of the file, where a
                                                format can declare more than it stores
                                                (VCD time spans, compressed or sparse HDF5,
                                                zip members of .sr/.npz, TDMS)...
``MIN_DECODE_ALLOWANCE``        4 MiB           ...except that any file may decode to this
``MAX_MEMBER_BYTES``            1 GiB           one decompressed zip member (.sr, .npz)
``MAX_DEFLATE_RATIO``           1100            declared/compressed size of a deflated member
                                                (deflate cannot exceed about 1032:1)
``MAX_SIDECAR_BYTES``           1 MiB           a ``<capture>.json`` sidecar
==============================  ==============  ==============================================

So a 100-byte file never decodes to more than 4 MiB, and a file in general to at most a small
multiple of what it stores or 32768 bytes per byte it holds (the ChronoVu VCD of the real corpus,
5.9 KB for 16 × 4 Mi samples, decodes to 11 000 bytes per byte). Measuring then converts one
channel at a time to float64, so its working set is that of the longest channel, not of the file.
"""

from __future__ import annotations

import importlib
import zipfile
import zlib
from types import ModuleType

# Above this many channels a header is corrupt rather than a capture.
MAX_CHANNELS = 4096
# The most samples one channel (all its segments together) may hold.
MAX_SAMPLES_PER_CHANNEL = 1 << 28
# The most bytes a loader decodes into memory for one capture file (all channels together).
MAX_DECODED_BYTES = 4 << 30
# Decoded bytes per byte of input where a format can declare more than it stores...
MAX_DECODED_PER_INPUT_BYTE = 1 << 15
# ...and the allowance of any file, however small.
MIN_DECODE_ALLOWANCE = 4 << 20
# The most bytes a loader decompresses from one archive member (sigrok .sr chunks, .npz arrays).
MAX_MEMBER_BYTES = 1 << 30
# Deflate cannot expand better than about 1032:1; a member declaring more is lying.
MAX_DEFLATE_RATIO = 1100
# A sidecar is a few keys; a larger one is not a sidecar.
MAX_SIDECAR_BYTES = 1 << 20

FORMATS_EXTRA = "pip install 'pytest-oscura[formats]'"
# What reading a zip member raises on a damaged archive (encrypted members raise RuntimeError,
# unknown compression NotImplementedError).
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, OSError)


def check_zip_member(info: zipfile.ZipInfo, name: str) -> None:
    """Refuse a zip member (``.npz``, sigrok ``.sr``) whose declared size could not be real
    before anything inflates it: above :data:`MAX_MEMBER_BYTES`, or a deflate ratio above
    :data:`MAX_DEFLATE_RATIO` (a zip bomb or a corrupt archive).

    Raises:
        ValueError: naming the member ``name`` and its declared sizes.
    """
    if info.file_size > MAX_MEMBER_BYTES:
        raise ValueError(
            f"member {name!r} declares {info.file_size} bytes, above the "
            f"{MAX_MEMBER_BYTES >> 20} MiB limit (zip bomb or corrupt archive)"
        )
    if (
        info.compress_type == zipfile.ZIP_DEFLATED
        and info.file_size > (1 << 20)
        and info.file_size > MAX_DEFLATE_RATIO * max(info.compress_size, 1)
    ):
        raise ValueError(
            f"member {name!r} declares {info.file_size} bytes from {info.compress_size} "
            "compressed: impossible ratio (zip bomb or corrupt archive)"
        )


def optional_import(module: str, what: str) -> ModuleType:
    """Import an optional reader library or raise a ValueError that names the extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ValueError(f"reading {what} needs the {module!r} library: {FORMATS_EXTRA}") from None


def _size(n_bytes: float) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{int(n_bytes)} bytes"


def decode_allowance(file_size: int) -> int:
    """The most bytes a file of ``file_size`` bytes may decode to (see the module docstring)."""
    by_input = MAX_DECODED_PER_INPUT_BYTE * max(file_size, 0)
    return min(MAX_DECODED_BYTES, max(MIN_DECODE_ALLOWANCE, by_input))


def check_decoded_size(n_bytes: int, what: str = "capture", file_size: int | None = None) -> None:
    """Refuse a decode of ``n_bytes`` above the limit, or above the file's allowance.

    ``file_size`` is given by formats that can declare more than they store (VCD time spans,
    compressed members, sparse HDF5 datasets): the decode must then also fit
    :func:`decode_allowance`.
    """
    if n_bytes > MAX_DECODED_BYTES:
        raise ValueError(
            f"{what} would decode to {_size(n_bytes)}, above the {_size(MAX_DECODED_BYTES)} limit"
        )
    if file_size is not None and n_bytes > decode_allowance(file_size):
        raise ValueError(
            f"{what} would decode to {_size(n_bytes)} from a {file_size}-byte file, above the "
            f"limit of {MAX_DECODED_PER_INPUT_BYTE} bytes per input byte "
            f"({_size(MIN_DECODE_ALLOWANCE)} for any file)"
        )


def check_samples(n_samples: int, what: str = "channel") -> None:
    """Refuse a channel declaring more than :data:`MAX_SAMPLES_PER_CHANNEL` samples."""
    if n_samples > MAX_SAMPLES_PER_CHANNEL:
        raise ValueError(
            f"{what} declares {n_samples} samples, above the limit of "
            f"{MAX_SAMPLES_PER_CHANNEL} samples per channel"
        )


def check_channels(n_channels: int, what: str = "file") -> None:
    """Refuse a file declaring more than :data:`MAX_CHANNELS` channels."""
    if n_channels > MAX_CHANNELS:
        raise ValueError(
            f"{what} declares {n_channels} channels, above the limit of {MAX_CHANNELS} "
            "channels per file"
        )


def parse_float(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"bad {what} {text[:40]!r}") from None


def parse_int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"bad {what} {text[:40]!r}") from None
