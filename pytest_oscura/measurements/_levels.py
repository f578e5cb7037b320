"""IEEE 181-2011 histogram state levels, refined inside each modal region. Pure.

The samples are binned once (two ``bincount`` passes: counts and per-bin sums of the sample
values); everything after that works on the small per-bin arrays on the host, so the cost is a
few passes over the data and no sort.

Method (IEEE 181-2011, histogram mode method, with a refinement):

1. Histogram of the samples between min and max, split at the midpoint into a lower and an
   upper half; the mode of each half locates the base and the top state.
2. The width of each mode is measured as the run of bins holding at least half the mode's count
   (its FWHM, one bin for a noise-free level).
3. The level is the mean of the samples inside a window of ±FWHM around it, re-centred on
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
#: "Near a state": within this fraction of the amplitude of the level.
NEAR_STATE = 0.05


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


def histogram_state_levels(
    xp: Any, samples: Any, minimum: float, maximum: float, to_host: Any
) -> StateLevels:
    """State levels of ``samples`` (1-D, finite) whose extremes are ``minimum``, ``maximum``.

    ``to_host`` converts a small array of namespace ``xp`` to a numpy array.

    Raises:
        NotApplicable: ``maximum - minimum`` overflows.
    """
    span = maximum - minimum
    if not math.isfinite(span):
        raise NotApplicable("sample range overflows a float")
    bins = bin_count(int(samples.size))
    scale = bins / span if span > 0 else math.inf
    if not math.isfinite(scale):
        return StateLevels(minimum, maximum, 1.0)
    position = samples - minimum
    position *= scale  # in bins, from the minimum; the maximum sits at exactly ``bins``
    index = position.astype(xp.int64)
    counts = _fold_last(to_host(xp.bincount(index, minlength=bins + 1))).astype(numpy.float64)
    # Per-bin sums of the positions rather than of the samples: they are relative to the
    # minimum, so a small swing on a large offset (a 1 mV ripple on 12 V) keeps its precision.
    sums = _fold_last(to_host(xp.bincount(index, weights=position, minlength=bins + 1)))
    half = bins // 2
    base = _refined_mode(counts, sums, 0, half, highest=False)
    top = _refined_mode(counts, sums, half, bins, highest=True)
    near = _near_state_fraction(counts, base, top)
    # The position round trip can overshoot an extreme by an ulp; levels stay within the samples.
    return StateLevels(
        min(max(minimum + base / scale, minimum), maximum),
        min(max(minimum + top / scale, minimum), maximum),
        near,
    )


def _fold_last(per_bin: numpy.ndarray[Any, Any]) -> numpy.ndarray[Any, Any]:
    """Move the count of samples at exactly the maximum (bin ``bins``) into the last bin."""
    folded = per_bin[:-1].copy()
    folded[-1] += per_bin[-1]
    return folded


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
    if counts[mode] == 0:  # an empty half cannot happen (min and max sit in opposite halves)
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


def _near_state_fraction(counts: numpy.ndarray[Any, Any], base: float, top: float) -> float:
    """Fraction of samples in bins whose centre is within 5 % of the amplitude of a level
    (positions in bins)."""
    reach = NEAR_STATE * (top - base)
    centres = numpy.arange(counts.size) + 0.5
    near = (numpy.abs(centres - base) <= reach) | (numpy.abs(centres - top) <= reach)
    total = float(counts.sum())
    return float(counts[near].sum()) / total if total else 0.0
