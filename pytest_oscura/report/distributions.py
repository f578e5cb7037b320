"""Per group: each measurement's distribution tonight against the baseline, as one figure. Pure.

One row per measurement: tonight's histogram above the line (the report's passed and failed
captures of the group, those the summary's statistics use) and the baseline population's below
it (those captures' accepted values, the report's ``baseline`` per capture), each scaled to its
own tallest bin so that the shapes compare; the baseline median (from the summary's drift check)
with its tolerance band (the report's ``run.tolerances``), tonight's median, the outliers the
summary flagged, and the drift verdict written beside the row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_oscura.aggregate.results import DriftCell

import numpy as np

from pytest_oscura._text import format_number
from pytest_oscura.report.entries import Entry, PageData
from pytest_oscura.report.svg import (
    PREFIXED_UNITS,
    Scale,
    esc,
    legend,
    line,
    num,
    padded,
    rect,
    svg,
    text,
    with_unit,
)


@dataclass(frozen=True)
class Outlier:
    value: float
    label: str


@dataclass(frozen=True)
class DistributionRow:
    """One measurement of a group: tonight's and the baseline's values and the verdicts."""

    name: str
    unit: str
    tonight: Sequence[float]
    baseline: Sequence[float] = ()
    baseline_median: float | None = None
    band: tuple[float, float] | None = None
    outliers: Sequence[Outlier] = ()
    verdict: str = ""
    drifted: bool = False
    detail: str = ""


ROW = 46
GROUP_WIDTH = 940
_LABEL_W = 150
_VERDICT_W = 250
_BINS = 48


def _histogram(values: Sequence[float], sx: Scale, y0: float, height: float, up: bool) -> str:
    """Bars of a histogram over the scale's range as one path, each population scaled to its
    own tallest bin (the shapes compare, whatever the counts)."""
    x = np.asarray(values, dtype=np.float64)
    x = x[(x >= sx.low) & (x <= sx.high)]
    if not x.size or not sx.high > sx.low:
        return ""
    # Binned by hand: numpy's histogram refuses ranges narrow next to their magnitude.
    index = np.clip(((x - sx.low) / (sx.high - sx.low) * _BINS).astype(np.int64), 0, _BINS - 1)
    counts = np.bincount(index, minlength=_BINS)
    tallest = int(counts.max())
    width = (sx.stop - sx.start) / _BINS
    parts = []
    for bin_index in np.flatnonzero(counts).tolist():
        h = max(1.5, height * int(counts[bin_index]) / tallest)
        left, w = sx.start + bin_index * width, max(width - 0.6, 0.8)
        y = y0 - h if up else y0
        parts.append(f"M{num(left)} {num(y)}h{num(w)}v{num(h)}h-{num(w)}z")
    return f'<path class="{"hn" if up else "hb"}" d="{"".join(parts)}"/>'


def _end_labels(low: float, high: float, unit: str) -> tuple[str, str]:
    """The two ends of a row's axis, with the digits that tell them apart."""
    span = high - low
    magnitude = max(abs(low), abs(high))
    digits = 4
    if span > 0 and magnitude > 0:
        digits = min(12, max(4, math.ceil(math.log10(magnitude / span)) + 2))
    if unit in PREFIXED_UNITS:
        return with_unit(low, unit, digits), with_unit(high, unit, digits)
    return format_number(low, digits), format_number(high, digits)


def _row_range(row: DistributionRow) -> tuple[float, float]:
    """The values a row shows: tonight's (outliers aside) and the baseline's, and the tolerance
    band as far as one spread of those values beyond them (a band far wider than the batch
    would squeeze it into a few pixels)."""
    flagged = {o.value for o in row.outliers}
    core = [v for v in row.tonight if v not in flagged] + list(row.baseline)
    if not core:
        core = list(row.tonight)
    low, high = min(core), max(core)
    if row.band is not None:
        reach = (high - low) or abs(high) * 1e-3 or 1.0
        low = min(low, max(row.band[0], low - reach))
        high = max(high, min(row.band[1], high + reach))
    return padded([low, high], 0.06)


def _row(index: int, row: DistributionRow) -> list[str]:
    top = 30 + index * ROW
    y0 = top + ROW / 2
    x0, x1 = _LABEL_W, GROUP_WIDTH - _VERDICT_W
    out = []
    if row.drifted:
        out.append(rect(0, top + 1, GROUP_WIDTH, ROW - 2, "rowbad"))
    low, high = _row_range(row)
    sx = Scale(low, high, x0, x1)
    if row.band is not None:
        a, b = sx.clamp(row.band[0]), sx.clamp(row.band[1])
        out.append(rect(a, top + 4, b - a, ROW - 8, "tol"))
    out.append(line(x0, y0, x1, y0, "axl"))
    out.append(_histogram(row.tonight, sx, y0 - 1, ROW / 2 - 8, up=True))
    out.append(_histogram(row.baseline, sx, y0 + 1, ROW / 2 - 8, up=False))
    if row.baseline_median is not None and low <= row.baseline_median <= high:
        x = sx(row.baseline_median)
        out.append(line(x, top + 4, x, top + ROW - 4, "mb"))
    if row.tonight:
        x = sx(float(np.median(row.tonight)))
        out.append(line(x, top + 4, x, y0, "mn"))
    for outlier in row.outliers:
        x = sx.clamp(outlier.value)
        beyond = not (low <= outlier.value <= high)
        shape = (
            f'<path class="ol" d="M{num(x)} {num(y0 - 12)}l{-6 if x < x0 + 1 else 6} 4l'
            f'{6 if x < x0 + 1 else -6} 4z">'
            if beyond
            else f'<circle class="ol" cx="{num(x)}" cy="{num(y0 - 8)}" r="3.5">'
        )
        out.append(
            shape + f"<title>{esc(outlier.label)}</title>" + ("</path>" if beyond else "</circle>")
        )
    unit = f" ({row.unit})" if row.unit else ""
    out.append(text(8, y0 - 2, row.name, "rn"))
    out.append(text(8, y0 + 12, f"n {len(row.tonight)} / {len(row.baseline)}{unit}", "rs"))
    left, right = _end_labels(low, high, row.unit)
    out.append(text(x0, top + ROW - 1, left, "tk"))
    out.append(text(x1, top + ROW - 1, right, "tk", "end"))
    tone = "vd bad" if row.drifted else ("vd ok" if row.verdict.startswith("ok") else "vd")
    out.append(text(x1 + 10, y0 - 2, row.verdict, tone))
    if row.detail:
        out.append(text(x1 + 10, y0 + 12, row.detail, "rs"))
    return out


def distribution_svg(rows: Sequence[DistributionRow], label: str) -> str:
    """One row per measurement: tonight above the line, the baseline below, the tolerance band."""
    body = legend(
        _LABEL_W,
        16,
        [
            ("s-hn", "tonight"),
            ("s-hb", "baseline"),
            ("s-tol", "baseline median ± tolerance"),
            ("s-mn", "tonight's median"),
            ("s-ol", "outlier"),
        ],
    )
    for index, row in enumerate(rows):
        body += _row(index, row)
    return svg(GROUP_WIDTH, 30 + ROW * len(rows) + 6, label, body)


def _finite(values: list[float | None]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _verdict(cell: DriftCell | None, unit: str) -> tuple[str, str]:
    """The drift verdict written beside a row, and one line of detail under it."""
    if cell is None:
        return "no drift check", ""
    status = str(cell.get("status", ""))
    sigma = cell.get("shift_sigma")
    shift = f" {sigma:+.2f} σ" if isinstance(sigma, int | float) else ""
    before, after = cell.get("baseline_median"), cell.get("median")
    shown = unit if unit in PREFIXED_UNITS else ""
    detail = ""
    if isinstance(before, int | float) and isinstance(after, int | float):
        detail = f"median {with_unit(before, shown)} → {with_unit(after, shown)}"
    pct = cell.get("shift_pct")
    if isinstance(pct, int | float):
        detail += f" ({pct:+.3f} %)" if abs(pct) < 10 else f" ({pct:+.0f} %)"
    if cell.get("flagged"):
        return f"DRIFT{shift}", detail
    if status == "new":
        return "new: not in the baseline", ""
    if status == "insufficient":
        return "too few values to judge", f"n {cell.get('n', 0)} / {cell.get('n_baseline', 0)}"
    return f"ok{shift}", detail


def group_figure(
    data: PageData, group: str, members: list[Entry], only: set[str] | None = None
) -> tuple[str, str]:
    """The group's distribution figure and the line naming measurements without values.

    ``only`` limits the rows to those measurements (the drifted ones, for the drift card).
    """
    info = data.groups.get(group) or {}
    stats = info.get("measurements") or {}
    units = info.get("units") or {}
    cells = {str(c.get("measurement")): c for c in data.drift_cells if c.get("group") == group}
    outliers = _outliers(data, group)
    counted = [e for e in members if e.outcome in ("passed", "failed")]
    original = members[0].group if members else group
    rows: list[DistributionRow] = []
    without: list[str] = []
    for name in stats:
        if only is not None and name not in only:
            continue
        tonight = _finite([e.measurements.get(name) for e in counted])
        if not tonight:
            reasons = {e.not_applicable[name] for e in counted if name in e.not_applicable}
            without.append(name + (f" ({sorted(reasons)[0]})" if len(reasons) == 1 else ""))
            continue
        unit = str(units.get(name, ""))
        baseline = _finite([e.baseline.get(name) for e in counted if e.baseline])
        cell = cells.get(name)
        centre = cell.get("baseline_median") if cell else None
        median = float(centre) if isinstance(centre, int | float) else _median(baseline)
        tolerance = data.tolerance(original, name)
        band = None
        if median is not None and tolerance is not None:
            reach = tolerance[0] + tolerance[1] * abs(median)
            band = (median - reach, median + reach)
        verdict, detail = _verdict(cell, unit)
        flagged = outliers.get(name, [])
        if flagged:
            verdict += f" · {len(flagged)} outlier{'s' if len(flagged) > 1 else ''}"
        drifted = bool(cell and cell.get("flagged"))
        rows.append(
            DistributionRow(
                name, unit, tonight, baseline, median, band, flagged, verdict, drifted, detail
            )
        )
    figure = distribution_svg(rows, f"distributions of {group}") if rows else ""
    note = ("No values to plot for: " + ", ".join(without) + ".") if without else ""
    return figure, note


def _outliers(data: PageData, group: str) -> dict[str, list[Outlier]]:
    """The summary's flagged outliers of ``group``, per measurement, labelled for hovering."""
    found: dict[str, list[Outlier]] = {}
    for flagged in (data.summary.get("outliers") or {}).get("flagged") or []:
        if not isinstance(flagged, dict) or flagged.get("group") != group:
            continue
        value = flagged.get("value")
        if isinstance(value, int | float):
            label = f"{flagged.get('key')}: {format_number(value, 5)}"
            if isinstance(flagged.get("deviation_pct"), int | float):
                label += f" ({flagged['deviation_pct']:+.2g} % from the median)"
            found.setdefault(str(flagged.get("measurement")), []).append(
                Outlier(float(value), label)
            )
    return found
