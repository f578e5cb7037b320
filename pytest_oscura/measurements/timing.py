"""Timing measurements from the 50 %, 10 % and 90 % reference-level instants, IEEE 181-2011. Pure.

All of them read the shared transitions (:attr:`Signal.edges`, 10 %/90 % hysteresis, linearly
interpolated instants) and period (:attr:`Signal.period_samples`). Times are in seconds.

Duty cycle, pulse width, rise and fall time read :attr:`Signal.resolved_edges`: when the
crossings are irregular and the waveform is not two-state (a sine at 0 dB SNR, a square under
noise of a third of its amplitude), the transitions were made by the noise and these four are
not applicable ("edges not resolved above the noise") rather than far off. The frequency then
still comes from the spectrum. Rise and fall time also give way earlier, under noise that
spreads a transition's 50 % crossings over more than 2 % of its duration.
"""

from __future__ import annotations

import numpy

from pytest_oscura.measurements._edges import FloatArray, IntArray
from pytest_oscura.measurements.registry import register
from pytest_oscura.measurements.result import NotApplicable
from pytest_oscura.measurements.signal import Signal


@register("period", "s", "Mean interval between same-direction 50 % crossings")
def period(signal: Signal) -> float:
    """Period, in seconds (IEEE 181-2011 reference-level instants).

    The slope T of a least-squares fit ``t_k = t0 + k · T`` over all rising 50 % crossings and
    all falling ones (one intercept per direction, a common slope): the mean interval between
    successive same-direction crossings, using every crossing rather than the first and last.
    With fewer than two same-direction transitions, or crossings that jitter by more than 5 % of
    a period (heavy noise), the period is ``1 / f`` of the spectral peak, interpolated to a
    fraction of a bin (see :mod:`._spectrum`).
    """
    return signal.period_samples / signal.sample_rate_hz


@register("frequency", "Hz", "1 / period")
def frequency(signal: Signal) -> float:
    """Frequency, in Hz: 1 / :func:`period` (IEEE 181-2011 reference-level instants; same
    estimator: crossing fit, interpolated FFT fallback)."""
    return signal.sample_rate_hz / signal.period_samples


def _pulse_widths(signal: Signal) -> FloatArray:
    edges = signal.resolved_edges
    rising, falling = edges.rising_mid, edges.falling_mid
    after = numpy.searchsorted(falling, rising)
    paired = after < falling.size
    if not paired.any():
        raise NotApplicable("no rising transition followed by a falling one")
    return falling[after[paired]] - rising[paired]


@register("pulse_width", "s", "Mean time from a rising to the next falling 50 % crossing")
def pulse_width(signal: Signal) -> float:
    """Positive pulse width, in seconds (IEEE 181-2011).

    The mean over pulses of ``t50(falling) − t50(rising)``, each rising 50 % instant paired with
    the next falling one.
    """
    return float(_pulse_widths(signal).mean()) / signal.sample_rate_hz


@register("duty_cycle", "ratio", "Positive pulse width / period, 0..1")
def duty_cycle(signal: Signal) -> float:
    """Duty cycle, a ratio in 0..1 (IEEE 181-2011): pulse_width / period."""
    return float(_pulse_widths(signal).mean()) / signal.period_samples


#: Rise and fall times are not applicable when noise spreads the 50 % crossings of a transition
#: over more than this fraction of its 10 %..90 % duration. The noise then re-crosses the 10 %
#: and 90 % levels over a similar stretch, and taking the last 10 % and the first 90 % crossing
#: shortens the edge by about that spread (measured on linear edges of 5..100 samples under
#: noise of 0.005..0.15 amplitudes: bias ≈ −spread), so the times that remain are within 2 %.
MAX_MID_SPREAD = 0.02


def _transition_duration(
    signal: Signal,
    durations: FloatArray,
    spans: IntArray,
    mid_spreads: IntArray,
    kind: str,
) -> float:
    if durations.size == 0:
        raise NotApplicable(f"no complete {kind} transition")
    if float(numpy.median(spans)) < 2:
        raise NotApplicable(
            f"{kind} edges are faster than the sample interval (no sample between 10 % and 90 %)"
        )
    duration = float(durations.mean())
    spread = float(mid_spreads.mean()) / duration
    if spread > MAX_MID_SPREAD:
        raise NotApplicable(
            f"edges not resolved above the noise: the 50 % crossings of a {kind} transition "
            f"spread over {spread:.0%} of its duration"
        )
    return duration / signal.sample_rate_hz


@register("rise_time", "s", "Mean 10 % → 90 % transition duration, IEEE 181")
def rise_time(signal: Signal) -> float:
    """Rise time, in seconds (IEEE 181-2011): mean over rising transitions of
    ``t90 − t10``.

    ``t10`` is the last crossing of the 10 % level before the signal first exceeds 90 %, ``t90``
    that first crossing, both interpolated linearly between samples. Not applicable when the
    typical edge has no sample between the two levels (a logic-analyzer channel, an edge faster
    than the sample interval): the number would only reflect the sampling grid; and when noise
    spreads the 50 % crossings of a transition over more than 2 % of its duration, where taking
    the last 10 % and first 90 % crossing would shorten it by about as much (see
    :data:`MAX_MID_SPREAD`).
    """
    edges = signal.resolved_edges
    return _transition_duration(
        signal, edges.rising_duration, edges.rising_span, edges.rising_mid_spread, "rising"
    )


@register("fall_time", "s", "Mean 90 % → 10 % transition duration, IEEE 181")
def fall_time(signal: Signal) -> float:
    """Fall time, in seconds (IEEE 181-2011): mean over falling transitions of
    ``t10 − t90``, as :func:`rise_time`."""
    edges = signal.resolved_edges
    return _transition_duration(
        signal, edges.falling_duration, edges.falling_span, edges.falling_mid_spread, "falling"
    )


@register("edge_count", "count", "Number of complete transitions (rising + falling)")
def edge_count(signal: Signal) -> float:
    """Number of complete transitions, rising and falling (IEEE 181-2011, 10 %/90 %
    hysteresis): noise around one reference level that never reaches the other is not an edge.

    Not applicable to a constant signal (no levels to transition between).
    """
    return float(signal.edges.count)
