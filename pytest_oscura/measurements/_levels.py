"""IEEE 181-2011 histogram state levels, refined inside each modal region. Pure.

The samples are binned once (two ``bincount`` passes: counts and per-bin sums of the sample
values); everything after that works on the small per-bin arrays on the host, so the cost is a
few passes over the data and no sort.

Method (IEEE 181-2011, histogram mode method, with a refinement):

1. Histogram of the samples between min and max, split at the midpoint into a lower and an
   upper half; the mode of each half locates the base and the top state.
2. The width of each mode is measured as the run of bins holding at least half the mode's count
   (its FWHM, one bin for a noise-free level).
3. The level is the mean of the samples inside a window of about ±FWHM around it, re-centred
   on that mean until it stops moving (a mean shift). A noise-free level therefore reads the
   exact sample value, and a Gaussian-broadened level reads the centre of its distribution,
   instead of the centre of a coarse bin (which biases amplitude by up to a bin width).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy

#: Histogram bins are ``size // _SAMPLES_PER_BIN``, clipped to [_MIN_BINS, _MAX_BINS].
_SAMPLES_PER_BIN = 16
_MIN_BINS = 16
_MAX_BINS = 4096
_MAX_SHIFTS = 32


@dataclass(frozen=True)
class StateLevels:
    """Base and top state levels (sample units) and how two-state the histogram looks."""

    base: float
    top: float
    #: Fraction of samples lying between the 10 % and 90 % reference levels (from the
    #: histogram, to a bin). About 0.6 for a sine, a few % for a clean pulse train.
    band_fraction: float

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
    """
    span = maximum - minimum
    bins = bin_count(int(samples.size))
    # Shrunk by far more than rounding, so that the maximum lands in the last bin without a
    # clipping pass.
    scale = bins * (1 - 1e-9) / span if span > 0 else math.inf
    if not math.isfinite(scale):
        return StateLevels(minimum, maximum, 0.0)
    scaled = samples - minimum
    scaled *= scale
    index = scaled.astype(xp.int64)
    del scaled
    counts = to_host(xp.bincount(index, minlength=bins)).astype(numpy.float64)
    sums = to_host(xp.bincount(index, weights=samples, minlength=bins))
    width = 1 / scale
    half = bins // 2
    base = _refined_mode(counts, sums, 0, half, minimum, width)
    top = _refined_mode(counts, sums, half, bins, minimum, width)
    band = _band_fraction(counts, base, top, minimum, width)
    return StateLevels(base, top, band)


def _refined_mode(
    counts: numpy.ndarray[Any, Any],
    sums: numpy.ndarray[Any, Any],
    start: int,
    stop: int,
    origin: float,
    width: float,
) -> float:
    """Mean of the samples around the mode of bins [start, stop), by a windowed mean shift."""
    region = counts[start:stop]
    mode = start + int(numpy.argmax(region))
    if counts[mode] == 0:  # an empty half cannot happen (min and max sit in opposite halves)
        return origin + (mode + 0.5) * width
    below = numpy.flatnonzero(region < counts[mode] / 2) + start
    left_of = below[below < mode]
    right_of = below[below > mode]
    left = int(left_of[-1]) if left_of.size else start - 1
    right = int(right_of[0]) if right_of.size else stop
    radius = max(0.5, (right - left - 1) - 0.5)  # bins; a single-bin mode uses that bin alone
    centre = mode + 0.5
    level = float(sums[mode] / counts[mode])
    for _ in range(_MAX_SHIFTS):
        first = max(start, math.ceil(centre - radius - 0.5))
        last = min(stop - 1, math.floor(centre + radius - 0.5))
        total = float(counts[first : last + 1].sum())
        if total == 0:
            break
        level = float(sums[first : last + 1].sum()) / total
        new_centre = (level - origin) / width
        if abs(new_centre - centre) < 1e-3:
            break
        centre = new_centre
    return level


def _band_fraction(
    counts: numpy.ndarray[Any, Any], base: float, top: float, origin: float, width: float
) -> float:
    """Fraction of samples in bins lying wholly between the 10 % and 90 % reference levels."""
    amplitude = top - base
    if amplitude <= 0:
        return 0.0
    first = math.ceil((base + 0.1 * amplitude - origin) / width)
    last = math.floor((base + 0.9 * amplitude - origin) / width)  # exclusive
    total = float(counts.sum())
    if last <= first or total == 0:
        return 0.0
    return float(counts[max(first, 0) : max(last, 0)].sum()) / total
