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
- noise: the mean power of the remaining bins, extended over the bins under the fundamental
  and harmonic lobes too (so excluding those lobes does not flatter SNR);
- spur: the largest lobe outside DC and the fundamental, harmonic or not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy

from pytest_oscura.measurements.result import NotApplicable

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
    #: noise over the whole band but DC: the mean power per bin outside the DC, fundamental and
    #: harmonic lobes, times the number of bins outside the DC lobe
    noise: float
    #: all power outside the DC and fundamental lobes, plus the noise estimated under the latter
    noise_and_distortion: float
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
    peak = int(xp.argmax(power[1:])) + 1
    if peak <= 2 * LOBE:
        raise NotApplicable(
            f"fundamental at bin {peak} is within the DC lobe: capture fewer than "
            f"{2 * LOBE + 1} cycles"
        )
    if peak >= bins - 1 - LOBE:
        raise NotApplicable("fundamental too close to the Nyquist frequency")

    # Read the tone lobes, then zero them in place: the noise is the sum of what is left, not
    # a difference of large sums (which would floor SNR at about 156 dB by rounding).
    fund_bins = numpy.arange(peak - LOBE, peak + LOBE + 1)
    fund_power = to_host(power[peak - LOBE : peak + LOBE + 1])
    signal = float(fund_power.sum())
    fundamental_bin = float(numpy.dot(fund_bins, fund_power)) / signal
    power[: LOBE + 1] = 0
    power[peak - LOBE : peak + LOBE + 1] = 0
    spur = _largest_lobe(xp, power, to_host)

    claimed = set(range(LOBE + 1)) | set(fund_bins.tolist())
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
    harmonics = 0.0
    if harmonic_bins:
        where = xp.asarray(harmonic_bins)
        harmonics = float(to_host(xp.take(power, where)).sum())
        power[where] = 0
    residual = float(xp.sum(power))
    # Noise also lies under the fundamental's and the harmonics' lobes. Estimate it there from
    # the mean noise per remaining bin, or SNR reads high by the excluded share of the band
    # (several dB on a short record, where ten harmonic lobes cover much of it).
    remaining = bins - len(claimed)
    if remaining < 2 * LOBE + 1:
        raise NotApplicable("too few bins left to estimate the noise")
    per_bin = residual / remaining
    noise = per_bin * (bins - (LOBE + 1))
    # SINAD's denominator: everything measured outside DC and the fundamental, plus the noise
    # estimated under the fundamental's lobe.
    noise_and_distortion = residual + harmonics + per_bin * fund_bins.size

    # A tone must stand 10 dB above what a flat spectrum puts in one lobe (capped at half the
    # power, which a sine at 0 dB SNR still meets).
    share = min(0.5, 10.0 * (2 * LOBE + 1) / bins)
    if signal < share * (signal + harmonics + residual):
        raise NotApplicable("no dominant tone in the spectrum")
    return Spectrum(size, fundamental_bin, signal, harmonics, noise, noise_and_distortion, spur)


def _largest_lobe(xp: Any, power: Any, to_host: Any) -> float | None:
    """Lobe power (±LOBE bins) around the largest bin of ``power``; None if all are zero."""
    k = int(xp.argmax(power))
    lobe = to_host(power[max(k - LOBE, 0) : k + LOBE + 1])
    total = float(lobe.sum())
    return total if total > 0 else None
