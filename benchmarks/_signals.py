"""Benchmark captures, shared by the pytest-benchmark tests and ``engine_ratio.py``."""

from __future__ import annotations

from typing import Any

import numpy

Array = numpy.ndarray[Any, numpy.dtype[numpy.float64]]

SAMPLE_RATE_HZ = 1e6


def square(size: int) -> Array:
    """A 1 kHz, 30 % duty square with 3-sample edges and 1 % noise, at 1 MS/s."""
    rng = numpy.random.default_rng(0)
    phase = numpy.arange(size) % 1000.0
    clean = numpy.interp(phase, [0, 3, 300, 303, 1000], [0.0, 3.3, 3.3, 0.0, 0.0])
    return numpy.asarray(clean + rng.normal(0.0, 0.033, size), dtype=numpy.float64)


def sine(size: int) -> Array:
    """A 1234.5 Hz full-scale sine with white noise at 60 dB SNR, at 1 MS/s (on 1,000,000
    samples: 1234.5 cycles, sampled non-coherently)."""
    rng = numpy.random.default_rng(1)
    t = numpy.arange(size) / SAMPLE_RATE_HZ
    return numpy.sin(2 * numpy.pi * 1234.5 * t) + rng.normal(0.0, numpy.sqrt(0.5) * 1e-3, size)


def glitched_square(size: int) -> Array:
    """:func:`square` with one sample at 10x its amplitude: the levels re-bin their core."""
    samples = square(size)
    samples[size // 2 + 150] = 33.0
    return samples


def buried_square(size: int) -> Array:
    """A 1 kHz, 25 % duty square under noise of 0.35 of its amplitude: noise-made edges, the
    frequency from the spectrum, timing not applicable."""
    rng = numpy.random.default_rng(2)
    clean = numpy.where(numpy.arange(size) % 1000 < 250, 1.0, 0.0)
    return numpy.asarray(clean + rng.normal(0.0, 0.35, size), dtype=numpy.float64)
