"""Collecting tonight's values per (group, measurement) cell, and their statistics.

Everything downstream (statistics, outliers, drift) works on these cells. The results do not
depend on the order in which records arrive (xdist workers deliver them in any order): records
are sorted by key first, and every statistic is computed from the values in that order.

Which records count:

* ``passed`` and ``failed`` records contribute measurement values (a failing capture is exactly
  what an outlier or drift check should see); ``error`` records (load/config errors) and
  ``skipped`` records contribute none. An unknown outcome string is counted as ``error``.
* ``None`` values are counted as *not applicable*; NaN/inf values are counted as *non-finite* and
  left out of every statistic.

Quantiles are numpy's default (linear interpolation, Hyndman & Fan type 7).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from pytest_oscura.aggregate.results import Counts, Stats
from pytest_oscura.records import OUTCOMES, CaptureRecord

__all__ = [
    "MAD_TO_SIGMA",
    "Cell",
    "CellMap",
    "Stats",
    "cell_units",
    "collect_cells",
    "contributes",
    "group_statistics",
    "mixed_unit_groups",
    "outcome_counts",
    "percent_change",
    "power_of_two_scale",
    "sorted_records",
    "statistics",
    "statistics_by_group",
    "unit_group",
]

MAD_TO_SIGMA = 1.482602218505602  # 1/Φ⁻¹(3/4): MAD of a normal distribution → sigma


@dataclass
class Cell:
    """Values of one measurement in one group, in record-key order (``keys[i]`` ↔ ``values[i]``)."""

    keys: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    n_not_applicable: int = 0
    n_nonfinite: int = 0


CellMap = dict[tuple[str, str], Cell]
"""``{(group, measurement): cell}``, sorted by group and measurement."""


def sorted_records(records: Iterable[CaptureRecord]) -> list[CaptureRecord]:
    """``records`` in a fixed order, so that no result depends on the arrival order."""
    return sorted(records, key=lambda r: (r.group, r.key, r.nodeid, r.channel, r.outcome))


def _outcome(record: CaptureRecord) -> str:
    return record.outcome if record.outcome in OUTCOMES else "error"


def contributes(record: CaptureRecord) -> bool:
    """Whether the record's values enter the statistics (``passed`` and ``failed`` only)."""
    return _outcome(record) in ("passed", "failed")


def collect_cells(records: Iterable[CaptureRecord]) -> CellMap:
    """Tonight's finite values per (group, measurement), with the n/a and non-finite counts."""
    cells: CellMap = {}
    for record in sorted_records(records):
        if not contributes(record):
            continue
        names = set(record.measurements) | set(record.not_applicable)
        for name in sorted(names):
            cell = cells.setdefault((record.group, name), Cell())
            value = record.measurements.get(name)
            if value is None:
                cell.n_not_applicable += 1
            elif not math.isfinite(float(value)):
                cell.n_nonfinite += 1
            else:
                cell.keys.append(record.key)
                cell.values.append(float(value))
    return dict(sorted(cells.items()))


def statistics(cell: Cell) -> Stats:
    """:class:`Stats` of one cell: mean, sample std (``ddof=1``), quartiles, raw MAD.

    Computed on the values divided by a power of two near the largest magnitude, which is exact,
    so squares and sums of extreme values (a capture with one sample of 1e300) cannot overflow;
    a statistic whose value itself exceeds the float range is ``None``.
    """
    x = np.asarray(cell.values, dtype=float)
    empty: Stats = {
        "n": int(x.size),
        "n_not_applicable": cell.n_not_applicable,
        "n_nonfinite": cell.n_nonfinite,
        "mean": None,
        "std": None,
        "min": None,
        "q1": None,
        "median": None,
        "q3": None,
        "max": None,
        "mad": None,
    }
    if x.size == 0:
        return empty
    scale = power_of_two_scale(x)
    u = x / scale
    q1, median, q3 = (float(v) for v in np.quantile(u, [0.25, 0.5, 0.75]))
    return {
        **empty,
        "mean": _unscaled(float(np.mean(u)), scale),
        "std": _unscaled(float(np.std(u, ddof=1)), scale) if x.size > 1 else 0.0,
        "min": float(np.min(x)),
        "q1": _unscaled(q1, scale),
        "median": _unscaled(median, scale),
        "q3": _unscaled(q3, scale),
        "max": float(np.max(x)),
        "mad": _unscaled(float(np.median(np.abs(u - median))), scale),
    }


def power_of_two_scale(x: np.ndarray) -> float:
    """The power of two at or below ``max(|x|)`` (1.0 for zeros): dividing by it is exact."""
    largest = float(np.max(np.abs(x))) if x.size else 0.0
    if not (largest > 0 and math.isfinite(largest)):
        return 1.0
    return math.ldexp(1.0, math.frexp(largest)[1] - 1)


def _unscaled(value: float, scale: float) -> float | None:
    with np.errstate(over="ignore"):
        result = float(np.float64(value) * scale)
    return result if math.isfinite(result) else None


def statistics_by_group(cells: CellMap) -> dict[str, dict[str, Stats]]:
    """``{group: {measurement: stats}}`` of ``cells``, in the cells' (sorted) order."""
    result: dict[str, dict[str, Stats]] = {}
    for (group, name), cell in cells.items():
        result.setdefault(group, {})[name] = statistics(cell)
    return result


def group_statistics(records: Iterable[CaptureRecord]) -> dict[str, dict[str, Stats]]:
    """Per capture group and measurement: :class:`Stats` of the values of tonight's batch.

    Returns ``{group: {measurement: stats}}``, groups and measurements sorted; plain JSON values,
    the shape the baseline file stores under ``"groups"`` and
    :func:`~pytest_oscura.aggregate.drift.detect_drift` reads back. Only ``passed``/``failed``
    records contribute values (see the module docstring).
    """
    return statistics_by_group(collect_cells(records))


def outcome_counts(records: Iterable[CaptureRecord]) -> Counts:
    """``{"total", "passed", "failed", "error", "skipped", "quality"}`` for ``records``.

    ``quality`` is the percentage of passing captures among those that ran (not skipped), or
    ``None`` when none ran.
    """
    tally = Counter(_outcome(record) for record in records)
    total = sum(tally.values())
    ran = total - tally["skipped"]
    return {
        "total": total,
        "passed": tally["passed"],
        "failed": tally["failed"],
        "error": tally["error"],
        "skipped": tally["skipped"],
        "quality": 100.0 * tally["passed"] / ran if ran else None,
    }


def percent_change(value: float, reference: float) -> float | None:
    """``100·(value − reference)/|reference|``, or ``None`` where the reference is 0."""
    return 100.0 * (value - reference) / abs(reference) if reference != 0 else None


def cell_units(records: Iterable[CaptureRecord]) -> dict[str, dict[str, str]]:
    """``{group: {measurement: unit}}``: from the registry and the records' sample units.

    A cell whose captures give the measurement in several units reads ``mixed(A,B)``.
    """
    from pytest_oscura.measurements import REGISTRY

    found: dict[tuple[str, str], set[str]] = {}
    for record in records:
        if not contributes(record):
            continue
        for name in set(record.measurements) | set(record.not_applicable):
            known = REGISTRY.get(name)
            unit = known.unit_for(record.units) if known is not None else ""
            found.setdefault((record.group, name), set()).add(unit)
    units: dict[str, dict[str, str]] = {}
    for (group, name), options in sorted(found.items()):
        units.setdefault(group, {})[name] = (
            options.pop() if len(options) == 1 else f"mixed({','.join(sorted(options))})"
        )
    return units


def mixed_unit_groups(group_units: Iterable[tuple[str, str]]) -> set[str]:
    """The groups whose captures come in more than one unit (V, bit, FS, ...)."""
    units: dict[str, set[str]] = {}
    for group, unit in group_units:
        units.setdefault(group, set()).add(unit)
    return {group for group, found in units.items() if len(found) > 1}


def unit_group(group: str, units: str, mixed: set[str]) -> str:
    """The aggregation group: ``group``, or ``group [units]`` where the group mixes units.

    Values in different units are no population: such a group is split by unit.
    """
    return f"{group} [{units}]" if group in mixed else group
