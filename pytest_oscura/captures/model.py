"""The in-memory form of a capture, shared by every loader. Pure: no pytest import."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy.typing as npt


@dataclass(frozen=True)
class ChannelHeader:
    """What collection needs to know of one channel, read from the file header only.

    ``kind`` is ``"analog"`` or ``"logic"``. ``segments`` is the number of segments of a
    segmented acquisition (LeCroy sequence, Tektronix FastFrame), 0 for a plain record; each
    segment becomes its own test item.
    """

    name: str
    kind: str = "analog"
    segments: int = 0

    def item_names(self) -> list[str]:
        """The test items of this channel: its name, or ``name#1`` … ``name#N`` per segment."""
        if not self.segments:
            return [self.name]
        return [segment_name(self.name, index) for index in range(1, self.segments + 1)]


def segment_name(channel: str, segment: int) -> str:
    """The item name of segment ``segment`` (1-based) of ``channel``: ``C1#3``."""
    return f"{channel}#{segment}"


@dataclass(frozen=True)
class CaptureHeader:
    """Channels of a capture file (or segments), as read from its header."""

    channels: tuple[ChannelHeader, ...]


@dataclass(frozen=True)
class Capture:
    """One channel of a capture, ready to be measured.

    Attributes:
        samples: 1-D array in ``units`` (2-D segments × samples for segmented captures): float64
            for an analog channel, uint8 holding 0 and 1 for a logic channel (8 times smaller;
            the measurement engine converts one channel at a time when it measures it).
        sample_rate_hz: samples per second, > 0.
        channel: channel name as shown in the node id.
        units: unit of the sample values, for example ``"V"``.
        kind: ``"analog"`` or ``"logic"``.
        metadata: plain, JSON-able extra facts from the file (instrument, t0, ...).
        warnings: one-line facts about the file that did not stop it being read but that a
            reader should know (a size field that disagrees with the file's length).
        companions: names of the files next to this one that belong to it (an R&S payload, a
            scope setup text), which are not collected as captures of their own.
    """

    samples: npt.NDArray[Any]
    sample_rate_hz: float
    channel: str
    units: str = "V"
    kind: str = "analog"
    metadata: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    companions: tuple[str, ...] = ()


@dataclass(frozen=True)
class RawChannel:
    """A channel as a loader returns it, before suite config and sidecar are applied.

    ``samples`` is 1-D, or 2-D (segments × samples) for a segmented acquisition.

    ``sample_rate_hz`` and ``units`` are ``None`` where the format does not carry them;
    ``rate_sources`` then says where the reader looked for a rate (for the error message).
    A logic channel's samples are 0/1 (any integer or bool dtype; stored as uint8).
    ``warnings`` and ``companions`` become the :class:`Capture`'s.
    """

    name: str
    samples: npt.NDArray[Any]
    sample_rate_hz: float | None = None
    units: str | None = None
    kind: str = "analog"
    metadata: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    companions: tuple[str, ...] = ()
    rate_sources: str | None = None
