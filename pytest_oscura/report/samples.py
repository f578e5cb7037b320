"""Read one item's samples again, after the run, for the pictures of the reports. Pure.

The controller (or ``python -m pytest_oscura html``) has no samples: items measured them in
their own process and only their records travelled. Only the captures that get a waveform plot
(and, in an update run with ``--oscura-baseline-waveforms``, the accepted ones) are read again,
one at a time, and the caller reduces them to an envelope before reading the next.

The file is read as the run read it: the captures root's ``oscura.toml`` (sample rate, units,
full scale of its first item, as collection does), the sidecar, the file's own header.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_oscura.errors import OscuraError

if TYPE_CHECKING:
    from pytest_oscura.captures import Capture
    from pytest_oscura.config import SuiteConfig


@dataclass(frozen=True)
class ItemSamples:
    """The 1-D samples of one item (a channel or one segment of it)."""

    samples: Any
    sample_rate_hz: float
    units: str


def split_key(key: str) -> tuple[str, str]:
    """``"psu/rail.npy::CH1"`` → ``("psu/rail.npy", "CH1")``."""
    relative, _, item = key.rpartition("::")
    return relative, item


def open_suite(root: Path) -> SuiteConfig | str:
    """The suite config of a captures root, or why it cannot be used."""
    from pytest_oscura.config import load_suite_config

    if not root.is_dir():
        return f"captures folder {root} not found"
    try:
        return load_suite_config(root)
    except OscuraError as exc:
        return str(exc)


def read_item(root: Path, key: str, suite: SuiteConfig | None = None) -> ItemSamples | str:
    """The samples of item ``key`` below captures root ``root``, or why they cannot be read.

    Never raises for bad input: a missing, changed or unreadable file gives its reason.
    """
    relative, item = split_key(key)
    return read_items(root, relative, [item], suite)[item]


def read_items(
    root: Path, relative: str, items: Sequence[str], suite: SuiteConfig | None = None
) -> dict[str, ItemSamples | str]:
    """The samples of ``items`` (channel or segment names) of capture file ``relative`` below
    ``root``, the file loaded once, or for each the reason it cannot be read (never raises)."""
    from pytest_oscura.captures import LoadSettings, load_capture, read_header

    path = root / relative
    if not path.is_file():
        return dict.fromkeys(items, f"capture file {path} not found")
    try:
        settings = LoadSettings()
        if suite is not None:
            # Load settings are per file, from the first item's config (as collection does).
            header = read_header(path, display=relative)
            first = header.channels[0].item_names()[0]
            config = suite.for_capture(relative, first)
            settings = LoadSettings(config.sample_rate_hz, config.units, config.full_scale)
        captures = load_capture(path, settings, display=relative)
    except OscuraError as exc:
        return dict.fromkeys(items, str(exc))
    except (OSError, ValueError, MemoryError) as exc:  # a third-party reader's slip
        return dict.fromkeys(items, f"{relative}: {type(exc).__name__}: {exc}")
    return {item: _item_of(captures, relative, item) for item in items}


def _item_of(captures: Sequence[Capture], relative: str, item: str) -> ItemSamples | str:
    # Names first, from the stored arrays: a channel's float values are made only for the item.
    name, hash_sign, number = item.rpartition("#")
    segment = int(number) if hash_sign and number.isdigit() else 0
    for capture in captures:
        if capture.channel == item and capture.stored.ndim == 1:
            return ItemSamples(capture.samples, capture.sample_rate_hz, capture.units)
        stored = capture.stored
        if capture.channel == name and stored.ndim == 2 and 1 <= segment <= stored.shape[0]:
            samples = capture.samples[segment - 1]
            return ItemSamples(samples, capture.sample_rate_hz, capture.units)
    return f"{relative}: no channel {item} any more"
