"""``python -m pytest_oscura compare OLD.json NEW.json``: batch-to-batch comparison. Pure.

Reads two JSON reports written by the plugin, treats OLD as the baseline population and prints,
per group and measurement, how NEW's median moved (percent, baseline robust sigmas, the
two-sample and paired tests of :func:`pytest_oscura.aggregate.detect_drift`), then the gate
verdict.

Exit status: 0 the gate passes, 1 it fails, 2 usage error or unreadable report. The gate defaults
to the one recorded in NEW's ``summary.gate.spec``, else ``drift``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_oscura._text import format_number
from pytest_oscura.aggregate.config import OUTLIER_METHODS
from pytest_oscura.report.json_report import ReportError, read_report

if TYPE_CHECKING:
    from pytest_oscura.aggregate import BaselineValue, DriftCell

PROG = "python -m pytest_oscura compare"


def add_parser(commands: Any) -> None:
    """Declare the command on the ``python -m pytest_oscura`` sub-command parsers."""
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
    compare.set_defaults(run=run)


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


def run(args: argparse.Namespace) -> int:
    """Run the command; the exit status (0 the gate passed, 1 it failed, 2 unusable input)."""
    from pytest_oscura import aggregate

    try:
        old = read_report(Path(args.old)).records
        loaded = read_report(Path(args.new))
        new = loaded.records
    except ReportError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    recorded = loaded.summary.get("gate")
    gate_text = args.gate or (recorded.get("spec") if isinstance(recorded, dict) else None)
    recorded_method = (loaded.summary.get("outliers") or {}).get("method")
    method = args.outliers or (recorded_method if recorded_method in OUTLIER_METHODS else "mad")
    try:
        gate = aggregate.parse_gate(str(gate_text or "drift"))
    except ValueError as exc:
        print(f"{PROG}: --gate: {exc}", file=sys.stderr)
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
