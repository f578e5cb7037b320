"""Outliers: captures far from their peers, per group and measurement, among tonight's values.

Methods (:data:`~pytest_oscura.aggregate.config.OUTLIER_METHODS`):

* ``mad`` (default): modified z-score ``M = 0.6745·(x − median)/MAD`` (Iglewicz & Hoaglin);
  candidate when ``|M| > 3.5``.
* ``zscore``: ``z = (x − mean)/std`` (``ddof=1``); candidate when ``|z| > 3``. The outlier itself
  inflates ``std`` (masking): with ``n ≤ 10`` no value can exceed ``|z| = 3``.
* ``iqr``: Tukey fences ``[q1 − k·IQR, q3 + k·IQR]`` with ``k = 1.5``; candidate outside them.
  Its score is ``(x − median)/(IQR/1.349)`` (the normal-consistent sigma of the IQR).
* ``none``: no outlier detection.

False alarms are controlled across the whole run: every tested value gets a two-sided p-value
from its score under a normal population of its cell (``zscore``: exact, from the Beta
distribution of the studentised residual; ``mad`` and ``iqr``: Student's t with ``0.4·n`` degrees
of freedom, a Monte-Carlo calibration of the robust z for a cell of ``n`` values; see
:func:`~pytest_oscura.aggregate.significance.outlier_p_values`), and the Benjamini–Hochberg
procedure runs over *all* tested values of *all* groups and measurements at the false discovery
rate ``outlier_fdr`` (1 % by default). A value is flagged only when it is BH-significant **and**
beyond the method's threshold (the threshold is the minimum effect size). On a clean, roughly
normal batch (no true outlier) anything at all is flagged with probability at most about ``q``;
heavy-tailed populations flag more. Small cells have little power: with 10 values a robust z
must be far beyond 3.5 (about 20 among 3000 tested values) to be flagged.

Degenerate cells: fewer than ``min_outlier_n`` (4) values → not tested (listed as skipped).
``MAD = 0`` (more than half the values identical, e.g. quantised readings) → the scale falls back
to ``1.253314·mean|x − median|`` (the mean absolute deviation, normal-consistent), and the IQR
method's ``IQR = 0`` to ``1.349`` times that scale. Every scale is floored at ``rel_floor·|centre|``
(1e-9 relative) so that values differing only by floating-point noise are never flagged; a cell
whose scale is still 0 (all values identical) is skipped as constant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from pytest_oscura.aggregate.cells import (
    MAD_TO_SIGMA,
    Cell,
    CellMap,
    collect_cells,
    percent_change,
    power_of_two_scale,
)
from pytest_oscura.aggregate.config import (
    DEFAULT_CONFIG,
    OUTLIER_METHODS,
    SCORE_LABELS,
    AggregateConfig,
)
from pytest_oscura.aggregate.results import FlaggedOutlier, OutliersResult, SkippedCell
from pytest_oscura.aggregate.significance import bh_adjust, outlier_p_values
from pytest_oscura.records import CaptureRecord

__all__ = ["detect_outliers", "outliers_from_cells"]

_MEANAD_TO_SIGMA = 1.2533141373155003  # √(π/2): mean absolute deviation of a normal → sigma
_IQR_TO_SIGMA = 1.3489795003921634  # 2·Φ⁻¹(3/4): IQR of a normal distribution → sigma


class _Scored(NamedTuple):
    """One tested cell: a score per value, which values are beyond the threshold, the centre."""

    group: str
    name: str
    cell: Cell
    scores: np.ndarray
    beyond: np.ndarray
    centre: float


def _fallback_sigma(x: np.ndarray, centre: float) -> float:
    return _MEANAD_TO_SIGMA * float(np.mean(np.abs(x - centre)))


def _score(
    x: np.ndarray, method: str, config: AggregateConfig
) -> tuple[np.ndarray, np.ndarray, float, bool] | str:
    """(scores, beyond-threshold mask, centre, scale fell back?) or why the cell is skipped.

    Scores do not change when every value is divided by the same power of two, which is exact:
    computed so, values near the float limit cannot overflow the squares and differences.
    """
    unit = power_of_two_scale(x)
    x = x / unit
    median = float(np.median(x))
    fallback = False
    if method == "zscore":
        centre = float(np.mean(x))
        sigma = float(np.std(x, ddof=1))
    else:
        centre = median
        if method == "mad":
            sigma = MAD_TO_SIGMA * float(np.median(np.abs(x - median)))
        else:
            q1, q3 = (float(v) for v in np.quantile(x, [0.25, 0.75]))
            sigma = (q3 - q1) / _IQR_TO_SIGMA
        if sigma == 0:
            sigma, fallback = _fallback_sigma(x, median), True
    sigma = max(sigma, config.rel_floor * abs(centre))
    if sigma == 0 or not math.isfinite(sigma):
        return "all values identical"
    scores = (x - centre) / sigma
    if method == "mad":
        beyond = np.abs(scores) > config.mad_threshold
    elif method == "zscore":
        beyond = np.abs(scores) > config.zscore_threshold
    else:
        q1, q3 = (float(v) for v in np.quantile(x, [0.25, 0.75]))
        iqr = q3 - q1 if q3 > q1 else _IQR_TO_SIGMA * sigma
        beyond = (x < q1 - config.iqr_k * iqr) | (x > q3 + config.iqr_k * iqr)
    return scores, beyond, centre * unit, fallback


def _method_threshold(method: str, config: AggregateConfig) -> float | None:
    return {
        "mad": config.mad_threshold,
        "zscore": config.zscore_threshold,
        "iqr": config.iqr_k,
    }.get(method)


def _outlier_control(method: str, config: AggregateConfig, tested: int) -> str:
    if method == "none":
        return "outlier detection off (method none)"
    criterion = {
        "mad": f"|robust z| > {config.mad_threshold:g}",
        "zscore": f"|z| > {config.zscore_threshold:g}",
        "iqr": f"outside Tukey fences (k = {config.iqr_k:g})",
    }[method]
    null = "exact studentised-residual" if method == "zscore" else "Student-t (0.4·n df)"
    return (
        f"FDR {100 * config.outlier_fdr:g} % (Benjamini–Hochberg over {null} p-values of the "
        f"{SCORE_LABELS[method]} of all {tested} values tested); flagged when BH-significant "
        f"and {criterion}"
    )


def detect_outliers(
    records: Iterable[CaptureRecord],
    method: str = "mad",
    *,
    config: AggregateConfig = DEFAULT_CONFIG,
) -> OutliersResult:
    """Flag captures far from their peers, per group and measurement, with the FDR controlled.

    Args:
        records: tonight's records, in any order.
        method: one of :data:`~pytest_oscura.aggregate.config.OUTLIER_METHODS`.
        config: thresholds.

    Returns:
        An :class:`~pytest_oscura.aggregate.results.OutliersResult`: ``flagged`` is sorted by
        group, measurement and key; ``counts`` is ``{group: {measurement: number flagged}}``
        over the tested cells; ``skipped`` lists the cells not tested and why;
        ``scale_fallback`` lists the ``"group/measurement"`` cells whose MAD (or IQR) was 0 and
        whose scale came from the mean absolute deviation; ``control`` says in one sentence how
        the false-alarm rate is controlled.

    Raises:
        ValueError: unknown ``method``.
    """
    return outliers_from_cells(collect_cells(records), method, config)


def _score_cells(
    cells: CellMap, method: str, config: AggregateConfig
) -> tuple[list[_Scored], list[SkippedCell], list[str]]:
    """The tested cells, the skipped ones, and the cells whose scale fell back."""
    scored: list[_Scored] = []
    skipped: list[SkippedCell] = []
    scale_fallback: list[str] = []
    for (group, name), cell in cells.items():
        x = np.asarray(cell.values, dtype=float)
        if x.size < config.min_outlier_n:
            reason = f"fewer than {config.min_outlier_n} values"
            skipped.append(
                {"group": group, "measurement": name, "n": int(x.size), "reason": reason}
            )
            continue
        outcome = _score(x, method, config)
        if isinstance(outcome, str):
            skipped.append(
                {"group": group, "measurement": name, "n": int(x.size), "reason": outcome}
            )
            continue
        scores, beyond, centre, fallback = outcome
        if fallback:
            scale_fallback.append(f"{group}/{name}")
        scored.append(_Scored(group, name, cell, scores, beyond, centre))
    return scored, skipped, scale_fallback


def outliers_from_cells(cells: CellMap, method: str, config: AggregateConfig) -> OutliersResult:
    """:func:`detect_outliers` on cells already collected."""
    if method not in OUTLIER_METHODS:
        raise ValueError(
            f"unknown outlier method {method!r}; choose one of {', '.join(OUTLIER_METHODS)}"
        )
    scored, skipped, scale_fallback = (
        _score_cells(cells, method, config) if method != "none" else ([], [], [])
    )
    p_all = (
        np.concatenate([outlier_p_values(entry.scores, method) for entry in scored])
        if scored
        else np.zeros(0, dtype=float)
    )
    # One Benjamini–Hochberg over every tested value of every cell: the FDR holds for the run.
    rejected = bh_adjust(p_all) <= config.outlier_fdr
    tested = int(p_all.size)
    flagged: list[FlaggedOutlier] = []
    counts: dict[str, dict[str, int]] = {}
    offset = 0
    for entry in scored:
        size = entry.scores.size
        flags = rejected[offset : offset + size] & entry.beyond
        p_cell = p_all[offset : offset + size]
        offset += size
        counts.setdefault(entry.group, {})[entry.name] = int(flags.sum())
        for index in np.nonzero(flags)[0]:
            value = entry.cell.values[int(index)]
            flagged.append(
                {
                    "group": entry.group,
                    "measurement": entry.name,
                    "key": entry.cell.keys[int(index)],
                    "value": value,
                    "centre": entry.centre,
                    "score": float(entry.scores[index]),
                    "p_value": float(p_cell[index]),
                    "deviation_pct": percent_change(value, entry.centre),
                }
            )
    return {
        "method": method,
        "threshold": _method_threshold(method, config),
        "fdr": config.outlier_fdr if method != "none" else None,
        "control": _outlier_control(method, config, tested),
        "tested": tested,
        "flagged_count": len(flagged),
        "flagged": flagged,
        "counts": counts,
        "skipped": skipped,
        "scale_fallback": scale_fallback,
    }
