"""Spectral (ADC dynamic) measurements from one windowed FFT per capture, IEEE 1241-2010. Pure.

All of them read :attr:`Signal.tone`: one 7-term Blackman-Harris FFT (side lobes −180 dB, so
non-coherent sampling leaves no leakage floor above the noise of a 16-bit converter),
main-lobe power summation over ±7 bins, DC excluded, harmonics 2..10 folded into the first
Nyquist zone (see :mod:`._spectrum`). ``P_s`` is the fundamental's power, ``P_h`` the
harmonics', ``P_n`` the noise. IEEE 1241 measures a single sine: a capture whose strongest tone
holds less than 60 % of the AC power (SINAD < 1.76 dB, ENOB < 0) has none of these
measurements.
"""

from __future__ import annotations

import math

from pytest_oscura.measurements.registry import register
from pytest_oscura.measurements.result import NotApplicable
from pytest_oscura.measurements.signal import Signal


def _db(ratio: float) -> float:
    return 10.0 * math.log10(ratio)


def _noise(signal: Signal) -> float:
    noise = signal.tone.noise
    if not noise > 0:
        raise NotApplicable("noise power is below numerical precision")
    return noise


@register("thd", "dBc", "Total harmonic distortion, harmonics 2..10, IEEE 1241")
def thd(signal: Signal) -> float:
    """Total harmonic distortion, in dBc (IEEE 1241-2010): 10·log10(P_h / P_s).

    Harmonics 2..10 of the fundamental, aliased ones folded into the first Nyquist zone.
    """
    spectrum = signal.tone
    if not spectrum.harmonics > 0:
        raise NotApplicable("no harmonic power")
    return _db(spectrum.harmonics / spectrum.signal)


@register("snr", "dB", "Signal-to-noise ratio, harmonics and DC excluded, IEEE 1241")
def snr(signal: Signal) -> float:
    """Signal-to-noise ratio, in dB (IEEE 1241-2010): 10·log10(P_s / P_n).

    The noise excludes DC and harmonics 2..10; its power under the excluded lobes is estimated
    from the mean noise power per bin, so P_n covers the whole band from DC to Nyquist.
    """
    return _db(signal.tone.signal / _noise(signal))


@register("sinad", "dB", "Signal to noise-and-distortion ratio, IEEE 1241")
def sinad(signal: Signal) -> float:
    """Signal to noise and distortion, in dB (IEEE 1241-2010):
    10·log10(P_s / P_nd), where P_nd is all power outside DC and the fundamental (noise,
    harmonics, spurs), plus the noise estimated under the fundamental's lobe."""
    spectrum = signal.tone
    if not spectrum.noise_and_distortion > 0:
        raise NotApplicable("noise and distortion power is below numerical precision")
    return _db(spectrum.signal / spectrum.noise_and_distortion)


@register("enob", "bits", "Effective number of bits: (SINAD − 1.76) / 6.02, IEEE 1241")
def enob(signal: Signal) -> float:
    """Effective number of bits (IEEE 1241-2010): (SINAD − 1.76 dB) / 6.02 dB.

    Meaningful for a full-scale sine; a smaller sine reads fewer bits by its level below full
    scale.
    """
    return (sinad(signal) - 1.76) / 6.02


@register("sfdr", "dBc", "Spurious-free dynamic range: fundamental / largest spur, IEEE 1241")
def sfdr(signal: Signal) -> float:
    """Spurious-free dynamic range, in dBc (IEEE 1241-2010): 10·log10(P_s / P_spur).

    ``P_spur`` is the lobe power around the largest bin outside DC and the fundamental, harmonic
    or not, summed over the same ±7 bins as the fundamental.
    """
    spectrum = signal.tone
    if spectrum.spur is None or not spectrum.spur > 0:
        raise NotApplicable("no spectral component besides the fundamental")
    return _db(spectrum.signal / spectrum.spur)
