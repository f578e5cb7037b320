"""``python -m pytest_oscura compare OLD.json NEW.json``: batch-to-batch comparison. Pure.

Reads two JSON reports written by the plugin (top-level ``captures``: a list of capture records
with at least ``key``; ``summary`` optional), treats OLD as the baseline population and prints,
per group and measurement, how NEW's median moved (percent, baseline robust sigmas, the
two-sample and paired tests of :func:`pytest_oscura.aggregate.detect_drift`), then the gate
verdict.

Exit status: 0 the gate passes, 1 it fails, 2 usage error or unreadable report. The gate defaults
to the one recorded in NEW's ``summary.gate.spec``, else ``drift``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_oscura._text import format_number
from pytest_oscura.aggregate.config import OUTLIER_METHODS
from pytest_oscura.records import CaptureRecord

if TYPE_CHECKING:
    from pytest_oscura.aggregate import BaselineValue, DriftCell

PROG = "python -m pytest_oscura"


class _ReportError(Exception):
    """A report cannot be read; the message is one line."""


def _record(data: Any, where: str) -> CaptureRecord:
    if not isinstance(data, dict) or not isinstance(data.get("key"), str):
        raise _ReportError(f"{where}: a capture entry needs a string 'key'")
    measurements = data.get("measurements") or {}
    if not isinstance(measurements, dict):
        raise _ReportError(f"{where}: 'measurements' of {data['key']!r} is not an object")
    values: dict[str, float | None] = {}
    for name, value in measurements.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise _ReportError(f"{where}: {data['key']!r} {name!r} is not a number: {value!r}")
        values[str(name)] = None if value is None else float(value)
    return CaptureRecord(
        key=data["key"],
        root=str(data.get("root", "")),
        group=str(data.get("group", "")),
        channel=str(data.get("channel", "")),
        units=str(data.get("units", "")),
        measurements=values,
        not_applicable={str(k): str(v) for k, v in (data.get("not_applicable") or {}).items()},
        nodeid=str(data.get("nodeid", "")),
        outcome=str(data.get("outcome", "passed")),
    )


def _load(path: str) -> tuple[list[CaptureRecord], dict[str, Any]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise _ReportError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _ReportError(f"{path}: not a JSON report: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("captures"), list):
        raise _ReportError(f"{path}: not a pytest-oscura JSON report (no 'captures' list)")
    records = [_record(entry, path) for entry in data["captures"]]
    summary = data.get("summary")
    return records, summary if isinstance(summary, dict) else {}


def _cell_line(cell: DriftCell, unit: str) -> str:
    suffix = f" {unit}" if unit else ""
    parts = [
        f"{cell['group']}/{cell['measurement']}",
        f"{format_number(cell['baseline_median'], 5)} → {format_number(cell['median'], 5)}{suffix}",
    ]
    if cell["shift_pct"] is not None:
        parts.append(f"{cell['shift_pct']:+.3g} %")
    if cell["shift_sigma"] is not None:
        parts.append(f"{cell['shift_sigma']:+.2f} σ")
    if cell["test"] is not None:
        parts.append(f"{cell['test']} p={cell['p_value']:.2g}")
    paired = cell["paired"]
    if paired is not None and paired["consistency"] is not None:
        parts.append(
            f"paired {paired['n_changed']}/{paired['n']} changed, "
            f"{100 * paired['consistency']:.0f} % one way"
            + (f" p={paired['p_value']:.2g}" if paired["p_value"] is not None else "")
        )
    parts.append(cell["status"].upper() if cell["flagged"] else cell["status"])
    return "  ".join(parts)


def _compare(args: argparse.Namespace) -> int:
    from pytest_oscura import aggregate

    try:
        old, _ = _load(args.old)
        new, new_summary = _load(args.new)
    except _ReportError as exc:
        print(f"{PROG} compare: {exc}", file=sys.stderr)
        return 2
    recorded = new_summary.get("gate")
    gate_text = args.gate or (recorded.get("spec") if isinstance(recorded, dict) else None)
    recorded_method = (new_summary.get("outliers") or {}).get("method")
    method = args.outliers or (recorded_method if recorded_method in OUTLIER_METHODS else "mad")
    try:
        gate = aggregate.parse_gate(str(gate_text or "drift"))
    except ValueError as exc:
        print(f"{PROG} compare: --gate: {exc}", file=sys.stderr)
        return 2
    baseline_values: dict[str, BaselineValue] = {
        r.key: {"measurements": r.measurements, "group": r.group} for r in old
    }
    summary = aggregate.summarize(
        new, aggregate.group_statistics(old), baseline_values, method, gate
    )
    print(f"Comparing {args.old} ({len(old)} captures) → {args.new} ({len(new)} captures)")
    for cell in summary["drift"]["cells"]:
        group = summary["groups"].get(cell["group"])
        unit = group["units"].get(cell["measurement"], "") if group is not None else ""
        print(_cell_line(cell, unit))
    lines = aggregate.format_summary(summary, args.width)
    start = next(
        i for i, line in enumerate(lines) if line.startswith(("Largest deviations:", "Outliers:"))
    )
    print("\n".join(lines[start:]))
    return 0 if summary["gate"]["passed"] else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 gate passed, 1 gate failed, 2 usage error)."""
    parser = argparse.ArgumentParser(prog=PROG, description="pytest-oscura tools")
    commands = parser.add_subparsers(dest="command", required=True)
    compare = commands.add_parser(
        "compare",
        help="Compare two JSON reports batch against batch",
        description="Per group and measurement, the shift of NEW against OLD; exit 1 when the "
        "gate fails",
    )
    compare.add_argument("old", metavar="OLD.json", help="The reference report")
    compare.add_argument("new", metavar="NEW.json", help="The report to judge")
    compare.add_argument(
        "--gate",
        default=None,
        help="Gate: none or a comma-separated list of outliers, drift, quality>=N. "
        "Default: the gate recorded in NEW.json, else 'drift'",
    )
    compare.add_argument(
        "--outliers",
        choices=OUTLIER_METHODS,
        default=None,
        help="Outlier method. Default: the method recorded in NEW.json, else 'mad'",
    )
    compare.add_argument("--width", type=int, default=100, help="Line width. Default: %(default)r")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    return _compare(args)


if __name__ == "__main__":
    raise SystemExit(main())
