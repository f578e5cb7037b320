"""Cost of the measurement engine next to one ``scipy.fft.rfft`` of the same capture.

Run explicitly (not part of ``testpaths``)::

    pytest benchmarks -p no:xdist

MEASUREMENTS.md's target: the full default set on 1,000,000 samples costs at most about 3× the
rfft. Compare ``full-*`` with ``rfft-*`` in the same group; ``engine_ratio.py`` prints the ratio
directly. The 10,000-sample case shows the fixed per-capture overhead.
"""

from __future__ import annotations

from typing import Any

import pytest
import scipy.fft

from benchmarks._signals import SAMPLE_RATE_HZ, sine, square
from pytest_oscura.measurements import DEFAULT_MEASUREMENTS, measure

MEGA = 1_000_000
CAPTURES = {
    "square-1M": square(MEGA),
    "sine-1M": sine(MEGA),
    "square-10k": square(10_000),
    "sine-10k": sine(10_000),
}


@pytest.mark.parametrize("capture", CAPTURES)
def test_full_default_set(benchmark: Any, capture: str) -> None:
    samples = CAPTURES[capture]
    benchmark.group = capture
    values = benchmark(measure, samples, SAMPLE_RATE_HZ, DEFAULT_MEASUREMENTS)
    assert values["frequency"] is not None


@pytest.mark.parametrize("capture", CAPTURES)
def test_one_rfft(benchmark: Any, capture: str) -> None:
    samples = CAPTURES[capture]
    benchmark.group = capture
    spectrum = benchmark(scipy.fft.rfft, samples)
    assert spectrum.size == samples.size // 2 + 1
