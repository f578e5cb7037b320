"""IEEE 181-2011 histogram state levels, refined inside each modal region. Pure.

The samples are binned once (two ``bincount`` passes: counts and per-bin sums of the sample
values); everything after that works on the small per-bin arrays on the host, so the cost is a
few passes over the data and no sort.

Method (IEEE 181-2011, histogram mode method, with a robust range, a robust split and a
refinement); the samples decide each step, not the two extremes:

1. Histogram of the samples between min and max. Its core is the range of bins left when
   0.01 % of the samples (at least one) are set aside at each end; where the core is narrower
   than a quarter of the histogram (a glitch far outside the waveform stretched the range), the
   core alone is histogrammed again at full resolution, samples outside it left out (up to
   three times, for a glitch a million amplitudes away).
2. The core is split into a lower and an upper part where Otsu's criterion puts it: the split
   that maximises the between-part variance ``ω0 · ω1 · (μ0 − μ1)²`` (ω the parts' shares of
   the samples, μ their mean values), so each sample weighs 1/N. Where that split does not lie
   in a valley of the histogram (a unimodal or flat histogram, or a pulse train whose top holds
   so few samples that splitting the noisy base scores higher), the core's midpoint is used,
   the IEEE 181 split. The mode of each part locates the base and the top state.
3. The width of each mode is measured as the run of bins holding at least half the mode's count
   (its FWHM, one bin for a noise-free level).
4. The level is the mean of the samples inside a window of ±FWHM around it, re-centred on
   that mean until it stops moving (a mean shift). A noise-free level therefore reads the
   exact sample value, and a Gaussian-broadened level reads the centre of its distribution,
   instead of the centre of a coarse bin (which biases amplitude by up to a bin width).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy

from pytest_oscura.measurements.result import NotApplicable

#: Histogram bins are ``size // _SAMPLES_PER_BIN``, clipped to [_MIN_BINS, _MAX_BINS].
_SAMPLES_PER_BIN = 16
_MIN_BINS = 16
_MAX_BINS = 4096
_MAX_SHIFTS = 64
#: Otsu's split is used when the histogram there is below this fraction of both parts' modes.
_VALLEY = 0.5
#: Share of the samples left out at each end of the histogram's core (see :func:`_core`).
_TRIM = 1e-4
#: A core narrower than this share of the histogram is histogrammed again on its own.
_MIN_CORE_SHARE = 0.25
_MAX_REBINS = 3
#: "Near a state": within this fraction of the amplitude of the level.
NEAR_STATE = 0.05
#: A waveform with at least this fraction of its samples near the top or base level is
#: two-state (a pulse train; a sine has 29 %, a triangle 10 %, a square under Gaussian noise of
#: 0.3 amplitudes about 13 %).
MIN_TWO_STATE_FRACTION = 0.5


@dataclass(frozen=True)
class StateLevels:
    """Base and top state levels (sample units) and how two-state the histogram looks."""

    base: float
    top: float
    #: Fraction of samples within 5 % of the amplitude of either level (from the histogram, to
    #: a bin): near 1 for a pulse train, 0.29 for a sine, 0.1 for a triangle.
    near_state_fraction: float

    @property
    def amplitude(self) -> float:
        return self.top - self.base

    def reference(self, fraction: float) -> float:
        """The reference level ``base + fraction · amplitude``."""
        return self.base + fraction * (self.top - self.base)


def bin_count(size: int) -> int:
    """Number of histogram bins for ``size`` samples (even, so the midpoint is a bin edge)."""
    bins = min(_MAX_BINS, max(_MIN_BINS, size // _SAMPLES_PER_BIN))
    return bins - bins % 2


def histogram_scales(xp: Any, minima: Any, maxima: Any, bins: int) -> Any:
    """Bins per sample unit of each capture's first histogram (arrays of ``xp``): ``bins`` over
    the sample range, ``inf`` for a constant capture (and where the range overflows)."""
    span = maxima - minima
    # An overflowing range (finite samples of ±1e308) is inf: bins / inf would be a finite 0,
    # and that row's positions NaN, which no batched bincount takes.
    usable = xp.isfinite(span) & (span > 0)
    return xp.where(usable, bins / xp.where(usable, span, 1.0), math.inf)


def histograms(xp: Any, samples: Any, minima: Any, scales: Any, bins: int) -> tuple[Any, Any]:
    """The first histogram of each row of ``samples`` (2-D, captures × samples): counts and
    per-bin sums of the positions, ``bins + 1`` columns each (the last one holds the samples at
    exactly the maximum), arrays of ``xp``.

    One ``bincount`` over the whole batch: each row's bin indices are offset by its row number
    times ``bins + 1``. A row whose scale is not finite (a constant capture) is binned at 0.
    """
    rows = int(samples.shape[0])
    usable = xp.isfinite(scales)
    origin = xp.where(usable, minima, 0.0)[:, None]
    position = samples - origin
    position *= xp.where(usable, scales, 0.0)[:, None]  # in bins from the minimum
    index = position.astype(xp.int64)
    if rows > 1:
        index += (xp.arange(rows, dtype=xp.int64) * (bins + 1))[:, None]
    length = rows * (bins + 1)
    index, position = index.reshape(-1), position.reshape(-1)
    counts = xp.bincount(index, minlength=length).reshape(rows, bins + 1)
    sums = xp.bincount(index, weights=position, minlength=length).reshape(rows, bins + 1)
    return counts, sums


def histogram_state_levels(
    xp: Any,
    samples: Any,
    minimum: float,
    maximum: float,
    to_host: Any,
    binned: tuple[Any, Any] | None = None,
) -> StateLevels:
    """State levels of ``samples`` (1-D, finite) whose extremes are ``minimum``, ``maximum``.

    ``to_host`` converts a small array of namespace ``xp`` to a numpy array. ``binned`` is the
    capture's row of :func:`histograms` on the host, where a batch computed it already.

    Raises:
        NotApplicable: ``maximum - minimum`` overflows.
    """
    span = maximum - minimum
    if not math.isfinite(span):
        raise NotApplicable("sample range overflows a float")
    size = int(samples.size)
    bins = bin_count(size)
    scale = bins / span if span > 0 else math.inf  # histogram_scales of one finite span
    if not math.isfinite(scale):
        return StateLevels(minimum, maximum, 1.0)
    if binned is None:
        # Per-bin sums of the positions rather than of the samples: they are relative to the
        # minimum, so a small swing on a large offset (a 1 mV ripple on 12 V) keeps its
        # precision.
        row = xp.asarray([minimum], dtype=xp.float64), xp.asarray([scale], dtype=xp.float64)
        found = histograms(xp, samples.reshape(1, size), *row, bins)
        binned = to_host(found[0])[0], to_host(found[1])[0]
        del found
    counts = _fold_last(binned[0]).astype(numpy.float64)
    sums = _fold_last(binned[1])
    trimmed = _trimmed(size)
    lo, hi = _core(counts, trimmed)
    origin = minimum
    for _ in range(_MAX_REBINS):
        if hi - lo >= _MIN_CORE_SHARE * bins:
            break
        # Outliers stretched the range: histogram the core again at full resolution, leaving
        # out the samples beyond it (half a bin of margin keeps every core sample inside).
        # Each pass narrows the range at least fourfold; a glitch 10^6 amplitudes away needs
        # three.
        origin += (lo - 0.5) / scale
        scale = bins / ((hi - lo + 1) / scale)
        counts, sums = _clipped_histogram(xp, samples, origin, scale, bins, to_host)
        lo, hi = _core(counts, max(trimmed - (size - int(counts.sum())) // 2, 0))
    if hi - lo < 2:  # all but the trimmed samples in one bin: one level and some outliers
        base = top = float(sums[lo] / counts[lo]) if counts[lo] > 0 else lo + 0.5
    else:
        split = _split(counts, sums, lo, hi)
        base = _refined_mode(counts, sums, lo, split, highest=False)
        top = _refined_mode(counts, sums, split, hi, highest=True)
    near = _near_state_fraction(counts, base, top, size)
    # The position round trip can overshoot an extreme by an ulp; levels stay within the samples.
    return StateLevels(
        min(max(origin + base / scale, minimum), maximum),
        min(max(origin + top / scale, minimum), maximum),
        near,
    )


def _trimmed(size: int) -> int:
    """Samples left out at each end of the histogram's core: 0.01 %, at least one sample
    (none in a record too short to spare them)."""
    return max(1, int(_TRIM * size)) if size >= 8 else 0


def _core(counts: numpy.ndarray[Any, Any], trimmed: int) -> tuple[int, int]:
    """Bins [lo, hi) that remain when ``trimmed`` samples are left out at each end."""
    cumulative = numpy.cumsum(counts)
    lo = int(numpy.searchsorted(cumulative, trimmed, side="right"))
    hi = int(numpy.searchsorted(cumulative, cumulative[-1] - trimmed, side="left")) + 1
    return lo, max(hi, lo + 1)


def _fold_last(per_bin: numpy.ndarray[Any, Any]) -> numpy.ndarray[Any, Any]:
    """Move the count of samples at exactly the maximum (bin ``bins``) into the last bin."""
    folded = per_bin[:-1].copy()
    folded[-1] += per_bin[-1]
    return folded


def _clipped_histogram(
    xp: Any, samples: Any, origin: float, scale: float, bins: int, to_host: Any
) -> tuple[numpy.ndarray[Any, Any], numpy.ndarray[Any, Any]]:
    """Counts and position sums of the samples in ``bins`` bins of width ``1 / scale`` from
    ``origin``; samples outside are left out."""
    shifted = samples - origin
    shifted *= scale
    # One bin below and one above catch the samples outside (positions offset by one bin so
    # that truncation to an index is a floor); they are dropped.
    shifted = xp.clip(shifted, -1.0, float(bins), out=shifted)
    shifted += 1.0
    index = shifted.astype(xp.int64)
    found = xp.stack(  # one copy to the host for both
        [
            xp.bincount(index, minlength=bins + 2).astype(xp.float64),
            xp.bincount(index, weights=shifted, minlength=bins + 2),
        ]
    )
    counts, sums = to_host(found)
    sums = sums - counts
    return counts[1 : bins + 1], sums[1 : bins + 1]


def _split(counts: numpy.ndarray[Any, Any], sums: numpy.ndarray[Any, Any], lo: int, hi: int) -> int:
    """First bin of the upper part of bins [lo, hi) (at least two): Otsu's split where it lies
    in a valley, else the midpoint.

    Otsu's criterion ``C0 · C1 · (μ0 − μ1)²`` over every split with samples on both sides (C the
    parts' counts, μ their mean positions; proportional to ω0 · ω1 · (μ0 − μ1)²). Ties (a gap
    of empty bins between two clean levels) go to the middle of the tied run, so that a
    mirrored signal splits at the mirrored place.
    """
    midpoint = (lo + hi + 1) // 2
    counts, sums = counts[lo:hi], sums[lo:hi]
    below = numpy.cumsum(counts)[:-1]  # samples in bins [lo, lo + k) for k = 1 .. hi - lo - 1
    below_sum = numpy.cumsum(sums)[:-1]
    total, total_sum = float(counts.sum()), float(sums.sum())
    above = total - below
    usable = (below > 0) & (above > 0)
    if not usable.any():
        return midpoint
    with numpy.errstate(divide="ignore", invalid="ignore"):
        gap = below_sum / below - (total_sum - below_sum) / above
        score = numpy.where(usable, below * above * gap * gap, -1.0)
    best = numpy.flatnonzero(score == score.max())
    # A tie can only be a run of empty bins; take its middle.
    split = int(best[best.size // 2]) + 1
    lower_mode = float(counts[:split].max())
    upper_mode = float(counts[split:].max())
    valley = 0.5 * float(counts[split - 1] + counts[split])
    if valley < _VALLEY * min(lower_mode, upper_mode):
        return lo + split
    return midpoint


def _refined_mode(
    counts: numpy.ndarray[Any, Any],
    sums: numpy.ndarray[Any, Any],
    start: int,
    stop: int,
    highest: bool,
) -> float:
    """Mean position (in bins) of the samples around the mode of bins [start, stop), by a
    windowed mean shift.

    The window is continuous: bins cut by its edges count in proportion to the part inside
    (samples taken as spread evenly within a bin), so the result moves continuously with the
    data instead of jumping when the window gains or loses a whole bin. ``highest`` breaks ties
    between equal modes towards the top (else the bottom) of the range.
    """
    region = counts[start:stop]
    if highest:  # ties go to the outermost bin, so that negating the signal mirrors the result
        mode = stop - 1 - int(numpy.argmax(region[::-1]))
    else:
        mode = start + int(numpy.argmax(region))
    if counts[mode] == 0:  # an empty part: only where outliers were cut off by a second pass
        return mode + 0.5
    below = numpy.flatnonzero(region < counts[mode] / 2) + start
    left_of = below[below < mode]
    right_of = below[below > mode]
    left = int(left_of[-1]) if left_of.size else start - 1
    right = int(right_of[0]) if right_of.size else stop
    radius = 0.5 * (right - left - 1)  # half the FWHM; half a bin for a noise-free level
    cum_counts = numpy.concatenate([[0.0], numpy.cumsum(counts[start:stop])]).tolist()
    cum_sums = numpy.concatenate([[0.0], numpy.cumsum(sums[start:stop])]).tolist()

    def cumulative(table: list[float], at: float) -> float:
        """``table`` (cumulative per bin edge from ``start``) interpolated at position ``at``."""
        at = min(max(at, start), stop) - start
        i = min(int(at), stop - start - 1)
        return table[i] + (at - i) * (table[i + 1] - table[i])

    centre = float(sums[mode] / counts[mode])
    for _ in range(_MAX_SHIFTS):
        lo, hi = centre - 2 * radius, centre + 2 * radius
        count = cumulative(cum_counts, hi) - cumulative(cum_counts, lo)
        if not count > 0:
            break
        new_centre = (cumulative(cum_sums, hi) - cumulative(cum_sums, lo)) / count
        if abs(new_centre - centre) < 1e-10:  # bins
            return new_centre
        centre = new_centre
    return centre


def _near_state_fraction(
    counts: numpy.ndarray[Any, Any], base: float, top: float, total: int
) -> float:
    """Fraction of the ``total`` samples in bins whose centre is within 5 % of the amplitude
    of a level (positions in bins)."""
    reach = NEAR_STATE * (top - base)
    centres = numpy.arange(counts.size) + 0.5
    near = (numpy.abs(centres - base) <= reach) | (numpy.abs(centres - top) <= reach)
    return float(counts[near].sum()) / total if total else 0.0
