"""One windowed FFT per capture and the tone/harmonic/noise powers read from it. Pure.

IEEE 1241-2010 (windowed, non-coherent sampling): the mean-removed samples are multiplied
by a 4-term Blackman-Harris window (highest side lobe −92 dB, main lobe ±4 bins) and transformed
with ``xp.fft.rfft``. A tone's power is the sum of the power spectrum over its main lobe (±4 bins
around its peak bin), which removes the window's scalloping loss; the same normalisation applies
to every bin, so ratios of summed powers are ratios of signal powers.

- fundamental: the largest bin above DC, its frequency refined as the power centroid of its lobe
  (sub-bin interpolation);
- DC: the lobe at bins 0..4, excluded from everything;
- harmonics 2..10: at ``h · f0`` folded into the first Nyquist zone (aliased harmonics land where
  a sampled signal puts them), each lobe counted once and never over DC or the fundamental;
- noise: every remaining bin; the largest remaining lobe (harmonic or not) is the worst spur.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy

from pytest_oscura.measurements.registry import NotApplicable

#: 4-term Blackman-Harris coefficients (Harris 1978, −92 dB side lobes).
_BH4 = (0.35875, 0.48829, 0.14128, 0.01168)
#: Main-lobe half-width of the window, in bins.
LOBE = 4
HARMONICS = range(2, 11)
#: Smallest capture the spectral measurements accept.
MIN_SAMPLES = 64


@lru_cache(maxsize=8)
def blackman_harris(size: int, xp: Any) -> Any:
    """Periodic 4-term Blackman-Harris window of ``size`` points in namespace ``xp``.

    Cached per size: a regression suite measures many captures of the same length, and the
    cosine is the most expensive pass of the spectral path after the FFT itself. Evaluated as a
    polynomial in one cosine (cos 2θ = 2c² − 1, cos 3θ = 4c³ − 3c). Do not modify the result.
    """
    a0, a1, a2, a3 = _BH4
    c = xp.cos(xp.arange(size, dtype=xp.float64) * (2 * math.pi / size))
    # a0 − a1·c + a2·(2c² − 1) − a3·(4c³ − 3c), in Horner form
    return (a0 - a2) + c * ((3 * a3 - a1) + c * (2 * a2 - 4 * a3 * c))


@dataclass(frozen=True)
class Spectrum:
    """Powers (common arbitrary scale) read from one windowed FFT of a capture."""

    size: int  #: samples in the capture (the FFT length)
    fundamental_bin: float  #: interpolated, in bins of sample_rate / size
    signal: float  #: fundamental lobe power
    harmonics: float  #: summed lobe power of harmonics 2..10
    noise: float  #: everything else except DC
    spur: float | None  #: largest lobe other than DC and the fundamental; None if no room

    @property
    def frequency_fraction(self) -> float:
        """Fundamental frequency as a fraction of the sample rate."""
        return self.fundamental_bin / self.size


def compute_spectrum(xp: Any, centred: Any, to_host: Any) -> Spectrum:
    """Analyse a capture from its mean-removed samples ``centred`` (1-D, finite; not modified).

    Raises:
        NotApplicable: too few samples, no dominant tone, or a tone too close to DC or Nyquist
            for its main lobe to be separated.
    """
    size = int(centred.size)
    if size < MIN_SAMPLES:
        raise NotApplicable(f"too few samples for a spectrum ({size} < {MIN_SAMPLES})")
    spectrum = xp.fft.rfft(centred * blackman_harris(size, xp))
    power = spectrum.real * spectrum.real
    power += spectrum.imag * spectrum.imag
    bins = int(power.size)
    if size % 2 == 0:
        power[-1] *= 0.5  # the Nyquist bin is not doubled in a one-sided spectrum
    # One pass for the total, one for the peak.
    total = float(xp.sum(power[1:]))
    peak = int(xp.argmax(power[1:])) + 1
    if total <= 0:
        raise NotApplicable("no AC content")
    if peak <= 2 * LOBE:
        raise NotApplicable(
            f"fundamental at bin {peak} is within the DC lobe: capture fewer than "
            f"{2 * LOBE + 1} cycles"
        )
    if peak >= bins - 1 - LOBE:
        raise NotApplicable("fundamental too close to the Nyquist frequency")

    dc_bins = numpy.arange(0, LOBE + 1)
    fund_bins = numpy.arange(peak - LOBE, peak + LOBE + 1)
    fund_power = to_host(power[peak - LOBE : peak + LOBE + 1])
    signal = float(fund_power.sum())
    fundamental_bin = float(numpy.dot(fund_bins, fund_power)) / signal

    # A tone must stand 10 dB above what a flat spectrum puts in one lobe (capped at half the
    # power, which a sine at 0 dB SNR still meets).
    share = min(0.5, 10.0 * (2 * LOBE + 1) / bins)
    if signal < share * total:
        raise NotApplicable("no dominant tone in the spectrum")

    claimed = set(dc_bins.tolist()) | set(fund_bins.tolist())
    harmonic_bins: list[int] = []
    for h in HARMONICS:
        alias = math.fmod(h * fundamental_bin, size)
        if alias > size / 2:
            alias = size - alias
        centre = round(alias)
        for k in range(centre - LOBE, centre + LOBE + 1):
            if 0 <= k < bins and k not in claimed:
                claimed.add(k)
                harmonic_bins.append(k)
    harmonics = (
        float(to_host(xp.take(power, xp.asarray(harmonic_bins))).sum()) if harmonic_bins else 0.0
    )
    dc = float(to_host(power[1 : LOBE + 1]).sum())
    noise = total - dc - signal - harmonics
    spur = _largest_spur(xp, power, peak, bins, to_host)
    return Spectrum(size, fundamental_bin, signal, harmonics, noise, spur)


def _largest_spur(xp: Any, power: Any, peak: int, bins: int, to_host: Any) -> float | None:
    """Lobe power around the largest bin outside the DC and fundamental lobes."""
    candidates: list[tuple[float, int]] = []
    for lo, hi in ((LOBE + 1, peak - LOBE), (peak + LOBE + 1, bins)):
        if hi > lo:
            k = int(xp.argmax(power[lo:hi])) + lo
            candidates.append((float(power[k]), k))
    if not candidates:
        return None
    _, k = max(candidates)
    lobe = [
        j
        for j in range(k - LOBE, k + LOBE + 1)
        if LOBE < j < bins and not peak - LOBE <= j <= peak + LOBE
    ]
    return float(to_host(xp.take(power, xp.asarray(lobe))).sum())
