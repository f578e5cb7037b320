"""Transitions with 10 %/90 % hysteresis and their interpolated reference-level instants. Pure.

IEEE 181-2011: a rising transition starts at the last sample below the low reference level
(10 %) and ends at the first sample above the high reference level (90 %) after it; falling is
the mirror. Noise that wanders around one reference level without reaching the other creates no
transition. The reference-level instants are interpolated linearly between the two samples that
bracket each level.

Vectorised: the sample array is scanned by a handful of comparisons and ``flatnonzero`` calls
(runs of "below low" and "above high" samples, crossings of the 50 % level); the rest works on
per-run and per-transition arrays, a few entries per edge. Instants are in samples (index units)
on the host; callers divide by the sample rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy

FloatArray = numpy.ndarray[Any, numpy.dtype[numpy.float64]]
IntArray = numpy.ndarray[Any, numpy.dtype[numpy.int64]]


@dataclass(frozen=True)
class Edges:
    """Complete transitions of one signal, in time order within each direction (samples)."""

    rising_mid: FloatArray  #: 50 % instants of rising transitions
    falling_mid: FloatArray  #: 50 % instants of falling transitions
    rising_duration: FloatArray  #: 10 % → 90 % durations of rising transitions
    falling_duration: FloatArray  #: 90 % → 10 % durations of falling transitions
    rising_span: IntArray  #: samples from the last one below 10 % to the first above 90 %
    falling_span: IntArray
    #: samples from the first to the last 50 % crossing inside each transition (0 for an edge
    #: that crosses 50 % once): noise re-crossing the reference levels spreads them
    rising_mid_spread: IntArray
    falling_mid_spread: IntArray

    @property
    def count(self) -> int:
        return int(self.rising_mid.size + self.falling_mid.size)


class EdgeScan(Protocol):
    """What :func:`find_edges` reads from the samples: the runs below the low and above the
    high reference level, the 50 % crossings, and a few sample values (host arrays)."""

    size: int
    low_runs: tuple[IntArray, IntArray]  #: (starts, stops) of the runs below ``low``
    high_runs: tuple[IntArray, IntArray]  #: (starts, stops) of the runs above ``high``

    def mid_crossings(self) -> IntArray:
        """Every ``i`` where the samples cross ``mid`` between ``i`` and ``i + 1``."""
        ...

    def values(self, positions: IntArray) -> FloatArray:
        """The samples at ``positions`` (each next to a run boundary or a 50 % crossing)."""
        ...


def _runs(changes: IntArray, head: bool, tail: bool, size: int) -> tuple[IntArray, IntArray]:
    """(starts, stops) of the runs of ``True`` of a mask from the positions where it changes
    (``mask[c] != mask[c - 1]``) and its first and last values; stops are exclusive."""
    bounds = numpy.concatenate(
        [numpy.asarray([0] if head else [], numpy.int64), changes, [size] if tail else []]
    ).astype(numpy.int64)
    return bounds[0::2], bounds[1::2]


class SampleScan:
    """An :class:`EdgeScan` of one capture's samples (1-D, namespace ``xp``): the runs are
    found at once, the 50 % crossings only when asked (one-sample edges never ask)."""

    def __init__(
        self, xp: Any, samples: Any, low: float, mid: float, high: float, to_host: Any
    ) -> None:
        self.xp, self.samples, self.mid, self.to_host = xp, samples, mid, to_host
        self.size = int(samples.size)
        self.low_runs = self._true_runs(samples < low)
        self.high_runs = self._true_runs(samples > high)

    def _true_runs(self, mask: Any) -> tuple[IntArray, IntArray]:
        changes = self.to_host(self.xp.flatnonzero(mask[1:] != mask[:-1])).astype(numpy.int64)
        return _runs(changes + 1, bool(mask[0]), bool(mask[-1]), self.size)

    def mid_crossings(self) -> IntArray:
        above_mid = self.samples > self.mid
        crossings = self.xp.flatnonzero(above_mid[1:] != above_mid[:-1])
        return numpy.asarray(self.to_host(crossings), dtype=numpy.int64)

    def values(self, positions: IntArray) -> FloatArray:
        found = self.to_host(self.xp.take(self.samples, self.xp.asarray(positions)))
        return numpy.asarray(found, dtype=numpy.float64)


class _Precomputed:
    """An :class:`EdgeScan` a batch computed (:func:`precomputed_scan`)."""

    def __init__(
        self,
        size: int,
        low_runs: tuple[IntArray, IntArray],
        high_runs: tuple[IntArray, IntArray],
        mid_crossings: IntArray,
        positions: IntArray,
        values: FloatArray,
    ) -> None:
        self.size, self.low_runs, self.high_runs = size, low_runs, high_runs
        self._mid, self._positions, self._values = mid_crossings, positions, values

    def mid_crossings(self) -> IntArray:
        return self._mid

    def values(self, positions: IntArray) -> FloatArray:
        if not self._positions.size:
            raise LookupError("a transition needs a sample the batch's scan did not keep")
        at = numpy.minimum(numpy.searchsorted(self._positions, positions), self._positions.size - 1)
        if not numpy.array_equal(self._positions[at], positions):
            raise LookupError("a transition needs a sample the batch's scan did not keep")
        return self._values[at]


def precomputed_scan(
    size: int,
    changes: Sequence[tuple[IntArray, FloatArray, FloatArray]],
    ends: Any,
) -> EdgeScan:
    """The :class:`EdgeScan` of a capture of ``size`` samples from what a batch found on the
    device: for the masks "below low", "above high" and "above mid" in that order, the positions
    ``c`` where the mask changes (``mask[c] != mask[c - 1]``) with the samples at ``c - 1`` and
    ``c``; ``ends``: the first and last values of the low and the high mask."""
    (low, *low_values), (high, *high_values), (mid, *mid_values) = changes
    positions = numpy.concatenate([c + shift for c in (low, high, mid) for shift in (-1, 0)])
    values = numpy.concatenate([v for pair in (low_values, high_values, mid_values) for v in pair])
    positions, first = numpy.unique(positions, return_index=True)
    return _Precomputed(
        size,
        _runs(low, bool(ends[0]), bool(ends[1]), size),
        _runs(high, bool(ends[2]), bool(ends[3]), size),
        mid - 1,
        positions,
        values[first],
    )


def find_edges(scan: EdgeScan, low: float, mid: float, high: float) -> Edges:
    """Complete transitions between the ``low`` and ``high`` reference levels, from ``scan``.

    Requires ``low < mid < high`` and at least two samples.
    """
    low_starts, low_stops = scan.low_runs
    high_starts, high_stops = scan.high_runs
    starts = numpy.concatenate([low_starts, high_starts])
    stops = numpy.concatenate([low_stops, high_stops])
    is_high = numpy.concatenate(
        [numpy.zeros(low_starts.size, bool), numpy.ones(high_starts.size, bool)]
    )
    order = numpy.argsort(starts, kind="stable")  # runs, not samples: a few per edge
    starts, stops, is_high = starts[order], stops[order], is_high[order]
    change = numpy.flatnonzero(is_high[1:] != is_high[:-1]) + 1
    if change.size == 0:
        empty = numpy.zeros(0)
        none = numpy.zeros(0, numpy.int64)
        return Edges(empty, empty, empty, empty, none, none, none, none)
    rising = is_high[change]
    last_before = stops[change - 1] - 1  # last sample in the old state
    first_after = starts[change]  # first sample in the new state

    # The 50 % crossing lies between the two samples of a one-sample edge; only wider edges
    # (a sample inside the 10..90 % band) need the first 50 % crossing after their start.
    mid_index = last_before.copy()
    mid_spread = numpy.zeros(change.size, numpy.int64)
    wide = numpy.flatnonzero(first_after - last_before > 1)
    if wide.size:
        mid_cross = scan.mid_crossings()  # between i and i + 1
        at = numpy.searchsorted(mid_cross, last_before[wide])
        # the last crossing between i and i + 1 with i + 1 <= first_after
        last_at = numpy.searchsorted(mid_cross, first_after[wide] - 1, side="right") - 1
        first_mid = mid_cross[at]
        mid_index[wide] = first_mid
        mid_spread[wide] = mid_cross[last_at] - first_mid

    gather = numpy.concatenate([last_before, last_before + 1, first_after - 1, first_after])
    gather = numpy.concatenate([gather, mid_index, mid_index + 1])
    values = scan.values(gather)
    n = change.size
    x_a, x_a1, x_b1, x_b, x_m, x_m1 = (values[k * n : (k + 1) * n] for k in range(6))

    start_level = numpy.where(rising, low, high)
    end_level = numpy.where(rising, high, low)
    t_start = last_before + (start_level - x_a) / (x_a1 - x_a)
    t_end = (first_after - 1) + (end_level - x_b1) / (x_b - x_b1)
    t_mid = mid_index + (mid - x_m) / (x_m1 - x_m)
    duration = t_end - t_start
    span = first_after - last_before
    falling = ~rising
    return Edges(
        rising_mid=t_mid[rising],
        falling_mid=t_mid[falling],
        rising_duration=duration[rising],
        falling_duration=duration[falling],
        rising_span=span[rising],
        falling_span=span[falling],
        rising_mid_spread=mid_spread[rising],
        falling_mid_spread=mid_spread[falling],
    )


@dataclass(frozen=True)
class PeriodFit:
    """Least-squares period (samples) from crossing instants, and how regular they are."""

    period: float
    crossings: int
    #: RMS deviation of the crossings from the fitted straight line, in periods
    jitter: float


def fit_period(*groups: FloatArray) -> PeriodFit | None:
    """Common slope of ``t_k = t0_g + k · T`` over groups of same-direction crossing instants.

    Each group (rising, falling) has its own intercept; groups with fewer than two crossings are
    ignored. ``None`` when no group has two crossings.
    """
    usable = [g for g in groups if g.size >= 2]
    if not usable:
        return None
    sxy = sxx = 0.0
    for g in usable:
        k = numpy.arange(g.size, dtype=numpy.float64)
        k -= k.mean()
        sxy += float(numpy.dot(k, g - g.mean()))
        sxx += float(numpy.dot(k, k))
    period = sxy / sxx
    residual = 0.0
    count = 0
    for g in usable:
        k = numpy.arange(g.size, dtype=numpy.float64)
        k -= k.mean()
        r = (g - g.mean()) - period * k
        residual += float(numpy.dot(r, r))
        count += g.size
    jitter = (residual / count) ** 0.5 / period if period > 0 else float("inf")
    return PeriodFit(period, count, jitter)
