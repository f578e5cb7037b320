"""Synthetic capture batches for the aggregation tests (fixed seeds, plain floats)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from pytest_oscura.aggregate import BaselineValue
from pytest_oscura.records import CaptureRecord

MEASUREMENTS = tuple(f"m{j}" for j in range(10))


def population(n: int, measurements: Sequence[str] = MEASUREMENTS) -> np.ndarray:
    """Per-capture true values: capture i, measurement j ≈ (j + 1) V with a 2 % spread."""
    rng = np.random.default_rng(12345)
    centres = np.arange(1, len(measurements) + 1, dtype=float)
    return centres * (1.0 + 0.02 * rng.standard_normal((n, len(measurements))))


def batch(
    seed: int,
    n: int = 300,
    groups: Sequence[str] = ("rails",),
    measurements: Sequence[str] = MEASUREMENTS,
    noise: float = 0.0005,
    scale: float = 1.0,
    prefix: str = "cap",
) -> list[CaptureRecord]:
    """One night: the population values × ``scale`` plus relative measurement noise."""
    rng = np.random.default_rng(seed)
    truth = population(n, measurements)
    records = []
    for group in groups:
        values = truth * scale * (1.0 + noise * rng.standard_normal(truth.shape))
        for i in range(n):
            records.append(
                CaptureRecord(
                    key=f"{group}/{prefix}_{i:04d}.npz::CH1",
                    root="captures",
                    group=group,
                    channel="CH1",
                    units="V",
                    measurements={m: float(values[i, j]) for j, m in enumerate(measurements)},
                    nodeid=f"captures/{group}/{prefix}_{i:04d}.npz::CH1",
                )
            )
    return records


def with_value(record: CaptureRecord, name: str, value: float | None) -> CaptureRecord:
    return dataclasses.replace(record, measurements={**record.measurements, name: value})


def baseline_values(records: Sequence[CaptureRecord]) -> dict[str, BaselineValue]:
    """The baseline file's ``captures`` entries for ``records``."""
    return {r.key: {"measurements": dict(r.measurements), "group": r.group} for r in records}
