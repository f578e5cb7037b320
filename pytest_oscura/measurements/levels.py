"""State levels and pulse aberrations, IEEE 181-2011. Pure.

All of them read the shared histogram state levels of :attr:`Signal.state_levels`.
"""

from __future__ import annotations

from pytest_oscura.measurements._levels import MIN_TWO_STATE_FRACTION
from pytest_oscura.measurements.registry import SIGNAL_UNIT, register
from pytest_oscura.measurements.result import NotApplicable
from pytest_oscura.measurements.signal import Signal


@register("top", SIGNAL_UNIT, "High state level, IEEE 181 histogram method")
def top(signal: Signal) -> float:
    """High state level, in the capture's units (IEEE 181-2011, histogram mode).

    The mode of the upper part of the sample histogram, refined to the mean of the samples
    within about ±FWHM of it (a mean shift), so a noise-free level reads exactly the sample
    value. The histogram's range and split come from the bulk of the samples (0.01 % set aside
    at each end, Otsu's split), so one glitch sample far above the top does not move it (see
    :mod:`._levels`). A constant signal's top is its value.
    """
    return signal.state_levels.top


@register("base", SIGNAL_UNIT, "Low state level, IEEE 181 histogram method")
def base(signal: Signal) -> float:
    """Low state level, in the capture's units (IEEE 181-2011), as :func:`top` for the
    lower part of the histogram."""
    return signal.state_levels.base


@register("amplitude", SIGNAL_UNIT, "top − base, IEEE 181")
def amplitude(signal: Signal) -> float:
    """Waveform amplitude, in the capture's units: top − base (IEEE 181-2011).

    Zero for a constant signal.
    """
    return signal.state_levels.amplitude


def _require_pulse(signal: Signal) -> None:
    levels = signal.require_two_levels()
    if signal.edges.count == 0:
        raise NotApplicable("no complete transition between the 10 % and 90 % levels")
    # Overshoot needs a two-state waveform: a sine or a triangle spends most of its time
    # between the reference levels.
    if levels.near_state_fraction < MIN_TWO_STATE_FRACTION:
        raise NotApplicable(
            f"not a two-state waveform: only {levels.near_state_fraction:.0%} of the samples lie "
            "near the top or base level"
        )


@register("overshoot", "%", "Aberration above top, % of amplitude, IEEE 181")
def overshoot(signal: Signal) -> float:
    """Overshoot, in % of amplitude: 100 · (max − top) / (top − base) (IEEE 181-2011).

    The largest post-transition aberration above the top level, taken over the whole record
    (the maximum sample), as oscilloscopes report it. Not applicable to a constant signal, to a
    signal without a complete transition, or to one that is not two-state (a sine or a triangle
    spends most of its time between the reference levels, where "overshoot" means nothing).
    """
    _require_pulse(signal)
    levels = signal.state_levels
    return 100.0 * (signal.maximum - levels.top) / levels.amplitude


@register("undershoot", "%", "Aberration below base, % of amplitude, IEEE 181")
def undershoot(signal: Signal) -> float:
    """Undershoot, in % of amplitude: 100 · (base − min) / (top − base) (IEEE 181-2011).

    The largest aberration below the base level over the whole record; applicability as for
    :func:`overshoot`.
    """
    _require_pulse(signal)
    levels = signal.state_levels
    return 100.0 * (levels.base - signal.minimum) / levels.amplitude
