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

    One row of :func:`power_spectra` and :func:`analyse_power`: a batch of equal-length
    captures (the GPU strategy) and a single capture run the same code.

    Raises:
        NotApplicable: too few samples, or a peak too close to DC or Nyquist for its main lobe
            to be separated.
    """
    size = int(centred.size)
    if size < MIN_SAMPLES:
        raise NotApplicable(f"too few samples for a spectrum ({size} < {MIN_SAMPLES})")
    power = power_spectra(xp, centred.reshape(1, size))
    return _unwrap(spectrum_from_row(to_host(analyse_power(xp, power, size))[0], size))


def power_spectra(xp: Any, centred: Any) -> Any:
    """One-sided power spectra of the rows of ``centred`` (2-D: captures × samples, each row
    mean-removed), windowed by :func:`blackman_harris`: one batched FFT over the rows."""
    size = int(centred.shape[-1])
    spectrum = xp.fft.rfft(centred * blackman_harris(size, xp), axis=-1)
    power = spectrum.real * spectrum.real
    power += spectrum.imag * spectrum.imag
    if size % 2 == 0:
        power[..., -1] *= 0.5  # the Nyquist bin is not doubled in a one-sided spectrum
    return power


#: Columns of :func:`analyse_power`'s result, one row per capture.
_STATUS, _PEAK, _BIN, _SIGNAL, _HARMONICS, _NOISE, _ND, _SPUR, _SHARE = range(9)
_OK, _IN_DC, _AT_NYQUIST, _NO_NOISE_BINS = 0, 1, 2, 3


def analyse_power(xp: Any, power: Any, size: int) -> Any:
    """The tone, harmonic and noise powers of each row of ``power`` (2-D, from
    :func:`power_spectra` of ``size`` samples per row; its tone lobes are zeroed in place), on
    the device: a small 2-D array of ``xp``, one row per capture, that
    :func:`spectrum_from_row` reads on the host.

    Every row is analysed with the same array operations, whatever its peak: a row whose peak
    is too close to DC or Nyquist gets a status saying so (its other columns mean nothing).
    The lobes are read, then zeroed, so the noise is the sum of what is left, not a difference
    of large sums (which would floor SNR at about 156 dB by rounding).
    """
    rows, bins = (int(n) for n in power.shape)
    flat = power.reshape(-1)  # a view: power is C-contiguous
    row_start = (xp.arange(rows) * bins)[:, None]
    offsets = xp.arange(-LOBE, LOBE + 1)
    peak = xp.argmax(power[:, 1:], axis=1) + 1
    fund_bins = xp.clip(peak[:, None] + offsets, 0, bins - 1)
    fund_power = xp.take(flat, row_start + fund_bins)
    signal = fund_power.sum(axis=1)
    fundamental_bin = (fund_bins * fund_power).sum(axis=1) / signal
    power[:, : LOBE + 1] = 0
    flat[row_start + fund_bins] = 0

    # The spur: the lobe (cut at the ends of the spectrum) around the largest bin left.
    spur_bins = xp.argmax(power, axis=1)[:, None] + offsets
    inside = (spur_bins >= 0) & (spur_bins < bins)
    spur_power = xp.take(flat, row_start + xp.clip(spur_bins, 0, bins - 1))
    spur = xp.where(inside, spur_power, 0.0).sum(axis=1)

    # Harmonics 2..10 at h · f0 folded into the first Nyquist zone; each bin counted once, never
    # a bin of the DC or the fundamental lobe.
    alias = xp.fmod(xp.arange(2, 2 + len(HARMONICS))[None, :] * fundamental_bin[:, None], size)
    alias = xp.where(alias > size / 2, size - alias, alias)
    centres = xp.rint(alias).astype(xp.int64)  # round half to even, as Python's round
    harmonic_bins = (centres[:, :, None] + offsets).reshape(rows, -1)
    earlier = xp.tril(xp.ones((harmonic_bins.shape[1],) * 2, dtype=bool), -1)
    repeated = ((harmonic_bins[:, :, None] == harmonic_bins[:, None, :]) & earlier).any(axis=2)
    counted = (
        (harmonic_bins > LOBE)
        & (harmonic_bins < bins)
        & (xp.abs(harmonic_bins - peak[:, None]) > LOBE)
        & ~repeated
    )
    where = row_start + xp.clip(harmonic_bins, 0, bins - 1)
    harmonics = xp.where(counted, xp.take(flat, where), 0.0).sum(axis=1)
    flat[where[counted]] = 0
    residual = power.sum(axis=1)

    # Noise also lies under the fundamental's and the harmonics' lobes. Estimate it there from
    # the mean noise per remaining bin, or SNR reads high by the excluded share of the band
    # (several dB on a short record, where ten harmonic lobes cover much of it).
    remaining = bins - (LOBE + 1) - (2 * LOBE + 1) - counted.sum(axis=1)
    per_bin = residual / remaining
    noise = per_bin * (bins - (LOBE + 1))
    # SINAD's denominator: everything measured outside DC and the fundamental, plus the noise
    # estimated under the fundamental's lobe.
    noise_and_distortion = residual + harmonics + per_bin * (2 * LOBE + 1)
    share = signal / (signal + harmonics + residual)
    status = xp.where(
        peak <= 2 * LOBE,
        _IN_DC,
        xp.where(
            peak >= bins - 1 - LOBE,
            _AT_NYQUIST,
            xp.where(remaining < 2 * LOBE + 1, _NO_NOISE_BINS, _OK),
        ),
    )
    columns = (status, peak, fundamental_bin, signal, harmonics, noise, noise_and_distortion)
    return xp.stack([xp.asarray(c, dtype=xp.float64) for c in (*columns, spur, share)], axis=1)


def spectrum_from_row(row: Any, size: int) -> Spectrum | NotApplicable:
    """The :class:`Spectrum` of one capture of ``size`` samples from its row of
    :func:`analyse_power` (a host array), or why it has none."""
    if size < MIN_SAMPLES:
        return NotApplicable(f"too few samples for a spectrum ({size} < {MIN_SAMPLES})")
    bins = size // 2 + 1
    status = int(row[_STATUS])
    if status == _IN_DC:
        return NotApplicable(
            f"fundamental at bin {int(row[_PEAK])} is within the DC lobe: capture more than "
            f"{2 * LOBE} cycles"
        )
    if status == _AT_NYQUIST:
        return NotApplicable("fundamental too close to the Nyquist frequency")
    if status == _NO_NOISE_BINS:
        return NotApplicable("too few bins left to estimate the noise")
    spur = float(row[_SPUR])
    share = float(row[_SHARE])
    # A peak must stand 10 dB above what a flat spectrum puts in one lobe (capped at half the
    # power, which a sine at 0 dB SNR still meets).
    stands_out = share >= min(0.5, 10.0 * (2 * LOBE + 1) / bins)
    return Spectrum(
        size,
        float(row[_BIN]),
        float(row[_SIGNAL]),
        float(row[_HARMONICS]),
        float(row[_NOISE]),
        float(row[_ND]),
        spur if spur > 0 else None,
        share,
        stands_out,
    )


def _unwrap(outcome: Spectrum | NotApplicable) -> Spectrum:
    if isinstance(outcome, NotApplicable):
        raise outcome
    return outcome
