"""Small record builders shared by the aggregation tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pytest_oscura.records import CaptureRecord
from tests.unit._batches import with_value


def record(
    key: str, group: str = "g", outcome: str = "passed", **values: float | None
) -> CaptureRecord:
    return CaptureRecord(
        key=key, root="r", group=group, channel="CH1", measurements=values, outcome=outcome
    )


def values_records(
    values: Sequence[float], name: str = "x", group: str = "g"
) -> list[CaptureRecord]:
    return [
        CaptureRecord(f"c{i:03d}.npy::CH1", "r", group, "CH1", measurements={name: float(v)})
        for i, v in enumerate(values)
    ]


def value(r: CaptureRecord, name: str) -> float:
    found = r.measurements[name]
    assert found is not None
    return found


def inject(
    records: Sequence[CaptureRecord], targets: Iterable[tuple[int, str, float]]
) -> list[CaptureRecord]:
    """Move capture ``index`` measurement ``name`` by ``factor`` (relative)."""
    records = list(records)
    for index, name, factor in targets:
        old = records[index]
        records[index] = with_value(old, name, value(old, name) * (1 + factor))
    return records
