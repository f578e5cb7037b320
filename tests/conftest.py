"""Shared helpers: analytical captures written in the formats the plugin reads."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
REAL_CAPTURES = Path(os.environ.get("OSCURA_REAL_CAPTURES", REPO.parent / "shared/captures/real"))


def sine(
    n: int = 4000,
    rate_hz: float = 1e5,
    freq_hz: float = 1e3,
    amplitude: float = 1.0,
    offset: float = 0.0,
):
    t = np.arange(n) / rate_hz
    return offset + amplitude * np.sin(2 * np.pi * freq_hz * t)


@pytest.fixture
def real_captures() -> Path:
    if not REAL_CAPTURES.is_dir():
        pytest.skip(f"real captures not found at {REAL_CAPTURES} (set OSCURA_REAL_CAPTURES)")
    return REAL_CAPTURES


# CI runs the property tests on a fixed, derandomized set of examples: a red build then always
# means a change, never a newly drawn example. Local runs keep exploring new examples.
if os.environ.get("CI"):
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, database=None)
    settings.load_profile("ci")
