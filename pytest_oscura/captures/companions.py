"""Companion files: files next to a capture that belong to it and are not captures themselves.

A companion is never collected as a capture of its own; the capture it belongs to lists it
(``Capture.companions``), and its items report it. Three kinds, all recognised by name next to
the capture and, where the name is not enough, by content:

* an **R&S payload** ``<name>.Wfm.bin`` next to the XML header ``<name>.bin`` (an R&S RTP
  capture is the pair; the header's loader reads the payload);
* a **setup text** ``<name>.txt`` next to a capture ``<name>.<ext>`` (Rigol and Keysight scopes
  save their settings or measurements so): never a capture (no format reads ``.txt``), noted by
  the capture it describes;
* a **setup CSV** ``<name>.csv`` next to a capture ``<name>.<ext>`` of another format, holding no
  numeric table in its first lines (a settings or measurement export written as CSV, keys in
  the first column). A waveform CSV next to a binary of the same name has numeric rows and stays
  a capture; a CSV of no numeric rows with no such capture next to it stays a capture too, and
  its item says that it holds no data rows.

A companion describes; it is not a source of values: rates and levels come from the capture
(the DS1102D's settings text gives 500 kSa/s for a record of 10 µs spacing).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pytest_oscura.captures.csv_format import is_number

RS_PAYLOAD_SUFFIX = ".Wfm.bin"
_TEXT_SUFFIXES = (".txt",)
_HEAD_BYTES = 16 * 1024
_HEAD_LINES = 200
_COMMENT_PREFIXES = ("#", "//", "%", ";")


def _head(path: Path, count: int = 64) -> bytes:
    try:
        with path.open("rb") as stream:
            return stream.read(count)
    except OSError:
        return b""


def rs_header_of(path: Path) -> Path | None:
    """The R&S XML header ``<name>.bin`` of payload ``<name>.Wfm.bin``, if it is next to it."""
    if not path.name.endswith(RS_PAYLOAD_SUFFIX) or len(path.name) == len(RS_PAYLOAD_SUFFIX):
        return None
    header = path.with_name(path.name[: -len(RS_PAYLOAD_SUFFIX)] + ".bin")
    if header.is_file() and _head(header).lstrip().startswith(b"<?xml"):
        return header
    return None


def has_numeric_rows(path: Path) -> bool:
    """Whether a text file's first lines hold a row of numbers only (a data table)."""
    try:
        with path.open("rb") as stream:
            text = stream.read(_HEAD_BYTES).decode("latin-1")
    except OSError:
        return True  # unreadable: let the capture's reader say why
    for line in text.splitlines()[:_HEAD_LINES]:
        line = line.strip()
        if not line or line.startswith(_COMMENT_PREFIXES):
            continue
        for delimiter in (",", ";", "\t", None):
            tokens = [t.strip().strip('"') for t in line.split(delimiter)]
            tokens = [t for t in tokens if t]
            if tokens and all(is_number(t) for t in tokens):
                return True
    return False


def _sibling_capture(path: Path, is_capture: Callable[[Path], bool]) -> Path | None:
    try:
        siblings = sorted(p for p in path.parent.iterdir() if p.stem == path.stem)
    except OSError:
        return None
    for sibling in siblings:
        if sibling.suffix.lower() != path.suffix.lower() and is_capture(sibling):
            return sibling
    return None


def owner_of(path: Path, is_capture: Callable[[Path], bool]) -> Path | None:
    """The capture that ``path`` is a companion of, or ``None`` when ``path`` is no companion.

    ``is_capture`` says whether a file is a capture by its format alone (no companion rules),
    so a sibling check never recurses.
    """
    header = rs_header_of(path)
    if header is not None:
        return header
    if path.suffix.lower() == ".csv" and not has_numeric_rows(path):
        return _sibling_capture(path, is_capture)
    return None


def rs_payload(path: Path) -> Path:
    """The R&S payload file of XML header ``path`` (``x.bin`` → ``x.Wfm.bin``, as RigolWFM)."""
    return path.with_name(path.stem + RS_PAYLOAD_SUFFIX)


def companions_of(path: Path, is_capture: Callable[[Path], bool]) -> tuple[str, ...]:
    """File names of the companions next to capture ``path`` (sorted)."""
    found: list[str] = []
    if path.suffix.lower() == ".bin":
        payload = rs_payload(path)
        if payload.is_file() and rs_header_of(payload) == path:
            found.append(payload.name)
    for suffix in _TEXT_SUFFIXES:
        text = path.with_suffix(suffix)
        if text != path and text.is_file():
            found.append(text.name)
    if path.suffix.lower() != ".csv":
        setup = path.with_suffix(".csv")
        if setup.is_file() and owner_of(setup, is_capture) == path:
            found.append(setup.name)
    return tuple(sorted(found))
