"""Analytical test waveforms for the measurement tests (sample units: V; times: samples)."""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray[Any, np.dtype[np.float64]]


def square(n: int, period: int, high: int, top: float = 1.0, base: float = 0.0) -> Array:
    """Ideal two-level square: ``high`` samples at ``top`` then ``period - high`` at ``base``."""
    return np.where(np.arange(n) % period < high, top, base).astype(np.float64)


def trapezoid(
    n: int,
    period: float,
    plateau: float,
    edge: float,
    top: float = 1.0,
    base: float = 0.0,
    delay: float = 0.0,
) -> Array:
    """Periodic trapezoid with linear edges of ``edge`` samples (base → top), any real period.

    The rising edge starts at ``delay`` (mod period); the 50 % width is ``plateau + edge``.
    """
    t = (np.arange(n) - delay) % period
    shape = np.interp(t, [0, edge, edge + plateau, 2 * edge + plateau, period], [0, 1, 1, 0, 0])
    return np.asarray(base + (top - base) * shape, dtype=np.float64)


def rc_square(n: int, period: float, tau: float) -> Array:
    """Square of 50 % duty through a first-order RC low pass of time constant ``tau`` samples."""
    t = np.arange(n) % period
    half = period / 2
    charged = 1 - np.exp(-half / tau)
    rising = 1 - np.exp(-t / tau)
    return np.asarray(np.where(t < half, rising, charged * np.exp(-(t - half) / tau)), np.float64)


def damped_step(n: int, overshoot: float, natural_period: float, at: int) -> Array:
    """0 → 1 step response of a second-order system whose peak overshoot is ``overshoot``."""
    log_os = np.log(overshoot)
    zeta = -log_os / np.sqrt(np.pi**2 + log_os**2)
    wn = 2 * np.pi / natural_period
    wd = wn * np.sqrt(1 - zeta**2)
    t = np.maximum(np.arange(n) - float(at), 0.0)
    response = 1 - np.exp(-zeta * wn * t) * (
        np.cos(wd * t) + zeta / np.sqrt(1 - zeta**2) * np.sin(wd * t)
    )
    return np.where(np.arange(n) < at, 0.0, response)


def sine(
    n: int, cycles: float, amplitude: float = 1.0, offset: float = 0.0, phase: float = 0.3
) -> Array:
    """``cycles`` periods of a sine over ``n`` samples."""
    return offset + amplitude * np.sin(2 * np.pi * cycles * np.arange(n) / n + phase)


def noise(n: int, sigma: float, seed: int) -> Array:
    return np.random.default_rng(seed).normal(0.0, sigma, n)


def quantized_sine(bits: int, n: int, cycles: float) -> Array:
    """Full-scale sine through an ideal ``bits``-bit mid-tread quantizer (codes 0..2^b − 1)."""
    codes = 2**bits
    x = np.sin(2 * np.pi * cycles * np.arange(n) / n + 0.1)
    return np.asarray(np.clip(np.round((x + 1) / 2 * codes - 0.5), 0, codes - 1), np.float64)


def measure_any(
    samples: Any, sample_rate_hz: float, names: Any = None, xp: Any = None
) -> dict[str, Any]:
    """:func:`pytest_oscura.measurements.measure`, typed loosely so that tests can do arithmetic
    on values they know are not ``None`` (a ``None`` still fails the arithmetic at run time)."""
    from pytest_oscura.measurements import measure

    return measure(samples, sample_rate_hz, names, xp)
