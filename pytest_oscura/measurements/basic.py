"""Amplitude statistics of the samples (no state levels, no timing). Pure."""

from __future__ import annotations

import math

from pytest_oscura.measurements.registry import SIGNAL_UNIT, register
from pytest_oscura.measurements.signal import Signal


@register("mean", SIGNAL_UNIT, "Arithmetic mean of the samples")
def mean(signal: Signal) -> float:
    """Arithmetic mean, in the capture's units: (1/N) Σ x[n]."""
    signal.require_valid()
    return signal.mean


@register("rms", SIGNAL_UNIT, "Root mean square of the samples, DC included")
def rms(signal: Signal) -> float:
    """RMS, in the capture's units: sqrt((1/N) Σ x[n]²)."""
    signal.require_valid()
    return math.sqrt(signal.mean_square)


@register("ac_rms", SIGNAL_UNIT, "RMS after removing the mean (standard deviation, ddof=0)")
def ac_rms(signal: Signal) -> float:
    """AC RMS, in the capture's units: sqrt((1/N) Σ (x[n] − mean)²).

    Computed from the centred samples rather than as sqrt(mean(x²) − mean²), which cancels
    catastrophically for a small ripple on a large DC level (a 1 mV ripple on a 12 V rail).
    """
    signal.require_valid()
    return math.sqrt(signal.variance)


@register("min", SIGNAL_UNIT, "Smallest sample value")
def minimum(signal: Signal) -> float:
    """Smallest sample, in the capture's units."""
    signal.require_valid()
    return signal.minimum


@register("max", SIGNAL_UNIT, "Largest sample value")
def maximum(signal: Signal) -> float:
    """Largest sample, in the capture's units."""
    signal.require_valid()
    return signal.maximum


@register("vpp", SIGNAL_UNIT, "Peak-to-peak: max − min")
def vpp(signal: Signal) -> float:
    """Peak-to-peak value, in the capture's units: max(x) − min(x)."""
    signal.require_valid()
    return signal.maximum - signal.minimum
