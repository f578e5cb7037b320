"""The verdict of one item: its measurements against baseline ± tolerance and spec limits,
the failure rows and the text a failing item shows. Pure: no pytest import.

:func:`judge` is the whole verdict of an item (which baseline entry applies, what a missing
entry means, the hint that says how to accept new values); :func:`compare` the per-measurement
checks; :func:`format_failures` the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_oscura._text import format_number
from pytest_oscura.config import CaptureConfig
from pytest_oscura.records import Failure

if TYPE_CHECKING:
    from pytest_oscura.baseline import Baseline
    from pytest_oscura.jobs import ItemResult


@dataclass(frozen=True)
class Verdict:
    """An item's failing checks and the message it fails with (empty when it passes)."""

    failures: tuple[Failure, ...]
    message: str


def judge(
    key: str,
    result: ItemResult,
    config: CaptureConfig,
    baseline: Baseline | None,
    *,
    baseline_path: Path,
    update_baseline: bool,
    captures_args: str,
) -> Verdict:
    """Judge one item's measurements against its baseline entry and its spec limits.

    Args:
        key: the item's baseline key (``path/below/root::channel``).
        result: what measuring the item gave (without an error).
        config: the item's tolerances and limits.
        baseline: the captures root's baseline, ``None`` when there is no baseline file.
        baseline_path: where that baseline lives (named in the message of a missing entry).
        update_baseline: a baseline update run, where only spec limits can fail.
        captures_args: the ``--oscura-captures ...`` arguments of this run, for the hints.

    A value the baseline does not have yet fails (``missing``) with the command that records it.
    """
    from pytest_oscura.measurements import REGISTRY

    values, reasons = result.values, result.not_applicable
    unit_of = {
        name: REGISTRY[name].unit_for(result.units) if name in REGISTRY else "" for name in values
    }
    update_command = f"pytest {captures_args} --oscura-update-baseline"
    entry = None if baseline is None or update_baseline else baseline.captures.get(key)
    if update_baseline or entry is not None:
        failures = compare(
            values, reasons, None if entry is None else entry.measurements, config, unit_of
        )
        if not failures:
            return Verdict((), "")
        hint = f"Accept the new values with: {update_command}"
        return Verdict(tuple(failures), format_failures(key, failures, len(values), hint))
    limit_failures = compare(values, reasons, None, config, unit_of)
    failures = limit_failures + [
        Failure(name, value, None, "missing", "not in baseline", unit_of[name])
        for name, value in values.items()
    ]
    where = "no baseline file" if baseline is None else "no entry in baseline"
    message = (
        f"{key}: {where} {baseline_path.name} ({baseline_path})\nRecord it with: {update_command}"
    )
    if limit_failures:
        message += "\n" + format_failures(key, limit_failures, len(values), "")
    return Verdict(tuple(failures), message)


def compare(
    values: Mapping[str, float | None],
    not_applicable: Mapping[str, str],
    baseline: Mapping[str, float | None] | None,
    config: CaptureConfig,
    unit_of: Mapping[str, str],
) -> list[Failure]:
    """Every failing check of one capture channel, in measurement order.

    Args:
        values: measured values, ``None`` where not applicable.
        not_applicable: reason for each ``None``.
        baseline: the baseline entry's values, or ``None`` to skip the baseline comparison
            (a baseline update run, where only spec limits apply).
        config: tolerances and limits for this capture.
        unit_of: each measurement's unit for this capture (``"V"``, ``"s"``, ...).

    A value passes its baseline when |value − baseline| ≤ abs + rel·|baseline|. Not applicable on
    both sides passes; applicable on one side only fails (``applicability``). A measurement
    the baseline does not have fails (``missing``).
    """
    failures: list[Failure] = []
    for name, value in values.items():
        unit = unit_of.get(name, "")
        limit = config.limits.get(name)
        if limit is not None:
            if value is None:
                reason = not_applicable.get(name, "not applicable")
                failures.append(
                    Failure(name, None, None, "limit", f"spec limit, but {reason}", unit)
                )
            elif limit.min is not None and value < limit.min:
                failures.append(
                    Failure(name, value, None, "limit", f"spec ≥ {limit.min:.6g}", unit)
                )
            elif limit.max is not None and value > limit.max:
                failures.append(
                    Failure(name, value, None, "limit", f"spec ≤ {limit.max:.6g}", unit)
                )
        if baseline is None:
            continue
        tolerance = config.tolerance_for(name)
        if name not in baseline:
            failures.append(Failure(name, value, None, "missing", "not in baseline", unit))
            continue
        expected = baseline[name]
        if value is None and expected is None:
            continue
        if value is None or expected is None:
            why = (
                f"now n/a: {not_applicable.get(name, 'not applicable')}"
                if value is None
                else "n/a in baseline"
            )
            failures.append(Failure(name, value, expected, "applicability", why, unit))
            continue
        if not tolerance.allows(value, expected):
            failures.append(
                Failure(name, value, expected, "tolerance", tolerance.describe(unit), unit)
            )
    return failures


def _delta(value: float | None, baseline: float | None) -> tuple[str, str]:
    if value is None or baseline is None:
        return "", ""
    delta = value - baseline
    percent = f"{delta / abs(baseline) * 100:+.3g} %" if baseline else ""
    return f"{delta:+.4g}", percent


def format_failures(key: str, failures: Sequence[Failure], total: int, accept_hint: str) -> str:
    """The failure text of one item: a one-line title, a table, and how to accept new values."""
    header = ("measurement", "value", "baseline", "Δ", "Δ%", "allowed", "unit")
    rows = [header]
    for failure in failures:
        delta, percent = _delta(failure.value, failure.baseline)
        rows.append(
            (
                failure.measurement,
                format_number(failure.value, missing="n/a"),
                format_number(failure.baseline, missing="n/a") if failure.kind != "limit" else "",
                delta,
                percent,
                failure.allowed,
                failure.unit,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    failing = len({f.measurement for f in failures})
    lines = [f"{key}: {failing} of {total} measurements out of bounds"]
    for row in rows:
        lines.append(
            "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        )
    if any(f.kind in ("tolerance", "applicability", "missing") for f in failures):
        lines.append(accept_hint)
    return "\n".join(lines)
