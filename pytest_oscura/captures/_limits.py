"""Shared guards for the instrument-format loaders: size caps and optional-library imports.

Loaders check declared sizes against these caps and against the file size *before* they
allocate, so a corrupted or hostile header ends in a one-line ``ValueError`` instead of a
multi-gigabyte allocation.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# The most bytes a loader decodes into memory for one capture file (all channels together).
MAX_DECODED_BYTES = 4 << 30
# The most bytes a loader decompresses from one archive member (sigrok .sr chunks).
MAX_MEMBER_BYTES = 1 << 30
# Deflate cannot expand better than about 1032:1; a member declaring more is lying.
MAX_DEFLATE_RATIO = 1100
# Above this many channels a header is corrupt rather than a capture.
MAX_CHANNELS = 4096

FORMATS_EXTRA = "pip install 'pytest-oscura[formats]'"


def optional_import(module: str, what: str) -> ModuleType:
    """Import an optional reader library or raise a ValueError that names the extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ValueError(f"reading {what} needs the {module!r} library: {FORMATS_EXTRA}") from None


def check_decoded_size(n_bytes: int, what: str = "capture") -> None:
    if n_bytes > MAX_DECODED_BYTES:
        raise ValueError(
            f"{what} would decode to {n_bytes / 2**30:.1f} GiB, above the "
            f"{MAX_DECODED_BYTES / 2**30:.0f} GiB limit"
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
