"""One windowed FFT per capture and the tone/harmonic/noise powers read from it. Pure.

IEEE 1241-2010 (windowed, non-coherent sampling): the mean-removed samples are multiplied by a
7-term Blackman-Harris window and transformed with ``xp.fft.rfft``. The window's highest side
lobe is at −180 dB and everything outside its main lobe (±7 bins) sums to −164 dB, so leakage of
a non-coherently sampled tone stays more than 60 dB under the quantisation noise of a 16-bit
converter: it is counted neither as noise nor as a spur. (The 4-term window used before leaks at
−92 dB, which capped SNR near 87 dB, SFDR near 90 dBc and ENOB near 14 bits.) A tone's power is
the sum of the power spectrum over its main lobe (±7 bins around its peak bin), which removes
the window's scalloping loss; the same normalisation applies to every bin, so ratios of summed
powers are ratios of signal powers.

- fundamental: the largest bin above DC, its frequency refined as the power centroid of its lobe
  (sub-bin interpolation);
- DC: the lobe at bins 0..7, excluded from everything;
- harmonics 2..10: at ``h · f0`` folded into the first Nyquist zone (aliased harmonics land where
  a sampled signal puts them), each lobe counted once and never over DC or the fundamental;
- noise: the mean power of the remaining bins, extended over the bins under the fundamental
  and harmonic lobes too (so excluding those lobes does not flatter SNR);
- spur: the largest lobe outside DC and the fundamental, harmonic or not;
- tone share: the fundamental lobe's part of all power outside the DC lobe, which decides
  whether the capture is a tone at all (:data:`MIN_TONE_SHARE`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy

from pytest_oscura.measurements.result import NotApplicable

#: 7-term minimum-side-lobe Blackman-Harris coefficients (Albrecht 2001, −180 dB side lobes).
BH7 = (
    0.27105140069342,
    0.43329793923448,
    0.21812299954311,
    0.06592544638803,
    0.01081174209837,
    0.00077658482522,
    0.00001388721735,
)
#: Main-lobe half-width of the window, in bins (the first null of a K-term cosine window).
LOBE = len(BH7)
HARMONICS = range(2, 11)
#: Smallest capture the spectral measurements accept.
MIN_SAMPLES = 64
#: IEEE 1241 measures one sine with a little noise and distortion. A capture whose strongest
#: tone holds less than this share of the AC power has SINAD < 1.76 dB, that is ENOB < 0 bits:
#: the single-sine model no longer describes it (two equal tones hold 50 % each, a chirp or
#: noise a fraction of a percent, a 50 % square 81 %).
MIN_TONE_SHARE = 0.6


def _cosine_sum_polynomial(coefficients: tuple[float, ...]) -> tuple[float, ...]:
    """Coefficients, lowest power first, of the polynomial in c = cos θ that equals
    Σ_k (−1)^k a_k cos kθ, from cos kθ = T_k(c) and T_{k+1} = 2c·T_k − T_{k−1}.

    (Pure Python: ``numpy.polynomial`` would cost every process 5 ms of imports.)
    """
    chebyshev = [[1.0], [0.0, 1.0]]  # T_0, T_1, ... as coefficient lists
    while len(chebyshev) < len(coefficients):
        following = [0.0, *(2 * value for value in chebyshev[-1])]
        for power, value in enumerate(chebyshev[-2]):
            following[power] -= value
        chebyshev.append(following)
    polynomial = [0.0] * len(coefficients)
    for k, a in enumerate(coefficients):
        for power, value in enumerate(chebyshev[k]):
            polynomial[power] += (-1) ** k * a * value
    return tuple(polynomial)


_BH7_POLYNOMIAL = _cosine_sum_polynomial(BH7)


@lru_cache(maxsize=8)
def blackman_harris(size: int, xp: Any) -> Any:
    """Periodic 7-term Blackman-Harris window of ``size`` points in namespace ``xp``.

    ``w[n] = Σ_k (−1)^k a_k cos(2π k n / size)``, k = 0..6, with the :data:`BH7` coefficients.
    Cached per size: a regression suite measures many captures of the same length, and the
    cosine is the most expensive pass of the spectral path after the FFT itself. Evaluated as a
    polynomial in one cosine (Horner form), whose rounding error (about 1e-16 absolute) is far
    below the window's own −180 dB side lobes. Do not modify the result.
    """
    c = xp.cos(xp.arange(size, dtype=xp.float64) * (2 * math.pi / size))
    window = c * _BH7_POLYNOMIAL[-1]
    for coefficient in _BH7_POLYNOMIAL[-2:0:-1]:
        window += coefficient
        window *= c
    window += _BH7_POLYNOMIAL[0]
    return window


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
    #: the fundamental lobe's share of all power outside the DC lobe, 0..1
    tone_share: float
    #: the fundamental stands out of a flat spectrum (10 times what a flat spectrum puts in one
    #: lobe, capped at half the power): enough to read a frequency, not a dynamic range
    peak_stands_out: bool

    @property
    def frequency_fraction(self) -> float:
        """Fundamental frequency as a fraction of the sample rate."""
        return self.fundamental_bin / self.size

    def require_tone(self) -> Spectrum:
        """This spectrum, or :class:`NotApplicable` when no single tone dominates it."""
        if not self.tone_share >= MIN_TONE_SHARE:
            raise NotApplicable(
                f"no dominant tone: the strongest tone holds {self.tone_share:.1%} of the AC "
                f"power (below {MIN_TONE_SHARE:.0%}, ENOB would be under 0 bits)"
            )
        return self


def compute_spectrum(xp: Any, centred: Any, to_host: Any) -> Spectrum:
    """Analyse a capture from its mean-removed samples ``centred`` (1-D, finite; not modified).

    Raises:
        NotApplicable: too few samples, or a peak too close to DC or Nyquist for its main lobe
            to be separated.
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
            f"fundamental at bin {peak} is within the DC lobe: capture more than {2 * LOBE} cycles"
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

    share = signal / (signal + harmonics + residual)
    # A peak must stand 10 dB above what a flat spectrum puts in one lobe (capped at half the
    # power, which a sine at 0 dB SNR still meets).
    stands_out = share >= min(0.5, 10.0 * (2 * LOBE + 1) / bins)
    return Spectrum(
        size,
        fundamental_bin,
        signal,
        harmonics,
        noise,
        noise_and_distortion,
        spur,
        share,
        stands_out,
    )


def _largest_lobe(xp: Any, power: Any, to_host: Any) -> float | None:
    """Lobe power (±LOBE bins) around the largest bin of ``power``; None if all are zero."""
    k = int(xp.argmax(power))
    lobe = to_host(power[max(k - LOBE, 0) : k + LOBE + 1])
    total = float(lobe.sum())
    return total if total > 0 else None
