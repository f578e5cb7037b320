"""A signal under measurement and the computations its measurements share. Pure.

Every array operation goes through the array namespace ``xp`` (numpy by default), restricted to
what numpy and CuPy both provide, so the same code can run on a GPU.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from pytest_oscura.measurements.registry import NotApplicable


class Signal:
    """One channel's samples (1-D, in the capture's units) and sample rate in Hz.

    Shared intermediate results are ``cached_property`` attributes, so a measurement set computes
    each of them once per signal.
    """

    def __init__(self, samples: Any, sample_rate_hz: float, xp: Any = None) -> None:
        if xp is None:
            import numpy

            xp = numpy
        self.xp = xp
        self.samples = xp.asarray(samples, dtype=xp.float64)
        self.sample_rate_hz = float(sample_rate_hz)

    @property
    def size(self) -> int:
        return int(self.samples.size)

    @cached_property
    def problem(self) -> str | None:
        """Why no measurement applies to this signal at all, or ``None``."""
        if self.samples.ndim != 1:
            return f"samples must be 1-D, got {self.samples.ndim}-D"
        if self.size == 0:
            return "no samples"
        if not bool(self.xp.isfinite(self.samples).all()):
            return "samples contain NaN or infinite values"
        if not (self.sample_rate_hz > 0 and self.sample_rate_hz < float("inf")):
            return f"sample rate {self.sample_rate_hz!r} Hz is not a positive number"
        return None

    def require_valid(self) -> None:
        if self.problem is not None:
            raise NotApplicable(self.problem)

    @cached_property
    def mean(self) -> float:
        return float(self.xp.mean(self.samples))

    @cached_property
    def mean_square(self) -> float:
        return float(self.xp.mean(self.samples * self.samples))

    @cached_property
    def minimum(self) -> float:
        return float(self.xp.min(self.samples))

    @cached_property
    def maximum(self) -> float:
        return float(self.xp.max(self.samples))
