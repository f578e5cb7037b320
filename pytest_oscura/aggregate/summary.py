"""The batch summary: :func:`summarize` builds it, :func:`format_summary` prints it.

:func:`summarize` returns the JSON report's ``summary``; :func:`format_summary` renders it as the
terminal "Batch Summary Report".

Everything works on :class:`~pytest_oscura.records.CaptureRecord` lists and returns plain JSON
values (see :mod:`~pytest_oscura.aggregate.results`); records are collected into cells once
(:mod:`~pytest_oscura.aggregate.cells`) and the statistics, outlier and drift checks all read
those cells.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence

from pytest_oscura._text import format_number
from pytest_oscura.aggregate.cells import (
    cell_units,
    collect_cells,
    outcome_counts,
    sorted_records,
    statistics_by_group,
)
from pytest_oscura.aggregate.config import DEFAULT_CONFIG, SCORE_LABELS, AggregateConfig
from pytest_oscura.aggregate.drift import drift_from_cells
from pytest_oscura.aggregate.gate import GateSpec, evaluate_gate, outlier_rank
from pytest_oscura.aggregate.outliers import outliers_from_cells
from pytest_oscura.aggregate.results import BaselineValue, GroupSummary, Stats, Summary
from pytest_oscura.records import CaptureRecord

__all__ = ["format_summary", "summarize"]

_NO_GATE = GateSpec()
_MAX_DETAIL_LINES = 10
_MAX_DEVIATIONS = 5


def summarize(
    records: Iterable[CaptureRecord],
    baseline_groups: Mapping[str, Mapping[str, Stats]] | None = None,
    baseline_values: Mapping[str, BaselineValue] | None = None,
    outlier_method: str = "mad",
    gate_spec: GateSpec = _NO_GATE,
    *,
    config: AggregateConfig = DEFAULT_CONFIG,
    notes: Sequence[str] = (),
) -> Summary:
    """Everything the session end needs: statistics, outliers, drift, gate and counts.

    Returns a JSON-able :class:`~pytest_oscura.aggregate.results.Summary` (the JSON report's
    ``summary``)::

        {"counts":   {"total", "passed", "failed", "error", "skipped", "quality"},
         "groups":   {group: {"counts": {...same keys as above...},
                              "success_rate": percent | None,
                              "units": {measurement: unit},
                              "measurements": {measurement: Stats}}},
         "outliers": detect_outliers(...),
         "drift":    detect_drift(...),
         "notes":    [str, ...],
         "gate":     evaluate_gate(...)}

    ``gate_spec`` is parsed by the caller, once (:func:`~.gate.parse_gate`). ``notes`` are
    passed through (for example "worker gw1 crashed; 120 captures missing").

    Raises:
        ValueError: unknown ``outlier_method``.
    """
    ordered = sorted_records(records)
    cells = collect_cells(ordered)
    stats = statistics_by_group(cells)
    units = cell_units(ordered)
    groups: dict[str, GroupSummary] = {}
    for group in sorted({r.group for r in ordered}):
        counts = outcome_counts(r for r in ordered if r.group == group)
        groups[group] = {
            "counts": counts,
            "success_rate": counts["quality"],
            "units": units.get(group, {}),
            "measurements": stats.get(group, {}),
        }
    counts = outcome_counts(ordered)
    outliers = outliers_from_cells(cells, outlier_method, config)
    drift = drift_from_cells(cells, baseline_groups, baseline_values, config)
    return {
        "counts": counts,
        "groups": groups,
        "outliers": outliers,
        "drift": drift,
        "notes": list(notes),
        "gate": evaluate_gate({"counts": counts, "outliers": outliers, "drift": drift}, gate_spec),
    }


def _wrap(text: str, width: int) -> list[str]:
    indent = "    " if text.startswith("  ") else "  "
    return textwrap.wrap(text, width, subsequent_indent=indent, break_on_hyphens=False) or [""]


def _percent(value: float | None) -> str:
    return f"{value:.1f} %" if value is not None else "—"


def format_summary(summary: Summary, width: int = 100) -> list[str]:
    """Lines of the terminal "Batch Summary Report" for a :func:`summarize` result.

    One header line, one counts line, per group a header and one line per measurement (mean ±
    std, median, outliers), then the largest deviations, the outlier control, drift, notes and the
    gate verdict. Long lines are wrapped at ``width`` characters with an indented continuation;
    the five largest deviations and the first ten drifted measurements are listed.
    """
    width = max(width, 40)
    counts = summary["counts"]
    groups = summary["groups"]
    outliers = summary["outliers"]
    drift = summary["drift"]
    gate = summary["gate"]
    n_groups = len(groups)
    lines = [
        f"Batch Summary Report — {counts['total']} captures, "
        f"{n_groups} group{'s' if n_groups != 1 else ''}",
        f"Passed {counts['passed']} · failed {counts['failed']} · "
        f"errors {counts['error']} · skipped {counts['skipped']} · quality "
        + _percent(counts["quality"]),
    ]
    for group, info in groups.items():
        lines.append(
            f"[{group}] {info['counts']['total']} captures, success "
            + _percent(info["success_rate"])
        )
        measurements = info["measurements"]
        name_width = max((len(name) for name in measurements), default=0)
        for name, stats in measurements.items():
            unit = info["units"].get(name, "")
            text = (
                f"  {name:<{name_width}}  mean {format_number(stats['mean'], 5, unit)} ± "
                f"{format_number(stats['std'], 3, unit)}  "
                f"median {format_number(stats['median'], 5, unit)}  n {stats['n']}"
            )
            if stats["n_not_applicable"]:
                text += f"  n/a {stats['n_not_applicable']}"
            flagged = outliers["counts"].get(group, {}).get(name)
            if flagged is not None and flagged > 0 and stats["n"]:
                text += f"  outliers {flagged} ({100 * flagged / stats['n']:.1f} %)"
            lines.append(text)
    flagged_list = sorted(outliers["flagged"], key=outlier_rank)
    if flagged_list:
        label = SCORE_LABELS.get(outliers["method"], "score")
        items = [
            f"{o['key']} {o['measurement']} "
            + (f"{o['deviation_pct']:+.1f} % " if o["deviation_pct"] is not None else "")
            + f"({label} {o['score']:.1f})"
            for o in flagged_list
        ]
        more = len(items) - _MAX_DEVIATIONS
        text = "Largest deviations: " + ", ".join(items[:_MAX_DEVIATIONS])
        lines += _wrap(text + (f" (+{more} more)" if more > 0 else ""), width)
    if outliers["method"] != "none":
        lines += _wrap(
            f"Outliers: {outliers['flagged_count']} flagged in "
            f"{outliers['tested']} values — {outliers['control']}",
            width,
        )
    else:
        lines.append("Outliers: detection off")
    if not drift["available"]:
        lines.append("Drift: no baseline statistics to compare with")
    else:
        drifted = [c for c in drift["cells"] if c["flagged"]]
        judged = sum(1 for c in drift["cells"] if c["status"] in ("ok", "drift"))
        lines.append(
            f"Drift: {len(drifted)} of {judged} measurements drifted from the baseline"
            f" (BH {100 * drift['alpha']:g} %)"
        )
        for cell in drifted[:_MAX_DETAIL_LINES]:
            lines += _wrap(f"  {cell['group']}/{cell['measurement']}: {cell['reasons'][0]}", width)
        if len(drifted) > _MAX_DETAIL_LINES:
            lines.append(f"  (+{len(drifted) - _MAX_DETAIL_LINES} more in the JSON report)")
    for note in summary["notes"]:
        lines += _wrap(f"Note: {note}", width)
    if gate["passed"]:
        lines.append(f"Gate: passed ({gate['spec']})")
    else:
        lines.append(f"Gate: FAILED ({gate['spec']})")
        for reason in gate["reasons"]:
            lines += _wrap(f"  {reason}", width)
    return lines
