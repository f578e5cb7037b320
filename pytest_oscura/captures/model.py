"""The in-memory form of a capture, shared by every loader. Pure: no pytest import."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
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
class Scaling:
    """How the integers a file stores become sample values: ``(stored + offset) * scale``.

    Applied once, in float64, where the samples are measured (:meth:`apply`: on the CPU, or on
    the GPU after the integers were copied there), in the order the format's reader applied it
    before, so the values are bit for bit what they were: ``offset`` is an integer (exact), and
    where a reader divided by a power of two, ``scale`` is its exact reciprocal.
    """

    offset: float = 0.0
    scale: float = 1.0

    def apply(self, xp: Any, stored: Any) -> Any:
        """The float64 values of ``stored`` (any real dtype) in namespace ``xp``: a new array."""
        values = xp.array(stored, dtype=xp.float64)
        if self.offset:
            values += self.offset
        if self.scale != 1.0:
            values *= self.scale
        return values


@dataclass(frozen=True)
class Capture:
    """One channel of a capture, ready to be measured.

    Attributes:
        stored: 1-D array (2-D segments × samples for segmented captures) as the file stores
            it: float64 for an analog channel, or its integers with ``scaling``; uint8 holding 0
            and 1 for a logic channel (8 times smaller). The measurement engine makes the
            float64 copy of one channel at a time when it measures it (on the GPU for the GPU
            strategy, which copies the integers there).
        sample_rate_hz: samples per second, > 0.
        channel: channel name as shown in the node id.
        units: unit of the sample values, for example ``"V"``.
        kind: ``"analog"`` or ``"logic"``.
        metadata: plain, JSON-able extra facts from the file (instrument, t0, ...).
        warnings: one-line facts about the file that did not stop it being read but that a
            reader should know (a size field that disagrees with the file's length).
        companions: names of the files next to this one that belong to it (an R&S payload, a
            scope setup text), which are not collected as captures of their own.
        scaling: how ``stored`` integers become values in ``units``, or ``None`` where
            ``stored`` holds the values.
    """

    stored: npt.NDArray[Any]
    sample_rate_hz: float
    channel: str
    units: str = "V"
    kind: str = "analog"
    metadata: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    companions: tuple[str, ...] = ()
    scaling: Scaling | None = None

    @cached_property
    def samples(self) -> npt.NDArray[Any]:
        """The sample values in ``units``: ``stored`` itself, or its float64 values where it
        holds integers (made on first use; measuring never needs them)."""
        if self.scaling is None:
            return self.stored
        import numpy

        return self.scaling.apply(numpy, self.stored)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class RawChannel:
    """A channel as a loader returns it, before suite config and sidecar are applied.

    ``samples`` is 1-D, or 2-D (segments × samples) for a segmented acquisition.

    ``sample_rate_hz`` and ``units`` are ``None`` where the format does not carry them;
    ``rate_sources`` then says where the reader looked for a rate (for the error message).
    A logic channel's samples are 0/1 (any integer or bool dtype; stored as uint8).
    ``warnings`` and ``companions`` become the :class:`Capture`'s. An analog channel of
    integers keeps them, with ``scaling`` (default: the integers are the values).
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
    scaling: Scaling | None = None
