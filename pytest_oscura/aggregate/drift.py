"""Drift: tonight's batch against the baseline population, per group and measurement.

A cell is flagged when either holds:

* **population shift**: the median moved by at least ``drift_shift_sigma`` (0.5) baseline robust
  sigmas (``1.4826·MAD``, falling back to the std, floored at ``rel_floor`` times the median)
  **and** a two-sample test is significant: Mann–Whitney U (normal approximation with ties,
  two-sided) on tonight's values against the baseline's per-capture values where both sides have
  at least ``drift_min_n`` (8) values, otherwise, with only the baseline's statistics, a z-test of
  the median difference (standard error ``1.2533·σ·√(1/n + 1/n_baseline)``).
* **paired shift** (needs the baseline's per-capture values): for captures present on both sides,
  the differences ``new − baseline``; Wilcoxon signed-rank test (normal approximation) where at
  least ``drift_min_n`` captures changed, and at least ``paired_consistency`` (80 %) of the changed
  captures moved in the same direction. This catches a batch in which every capture moved by a
  little less than its own tolerance, however wide the population is.

The drift p-values of all cells (population and paired tests together) are adjusted with
Benjamini–Hochberg (:func:`~pytest_oscura.aggregate.significance.bh_adjust`); a test is
significant when its adjusted p-value is at most ``drift_alpha`` (1 %).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from pytest_oscura.aggregate.cells import (
    MAD_TO_SIGMA,
    Cell,
    CellMap,
    collect_cells,
    percent_change,
    statistics,
)
from pytest_oscura.aggregate.config import DEFAULT_CONFIG, AggregateConfig
from pytest_oscura.aggregate.results import (
    BaselineValue,
    DriftCell,
    DriftResult,
    PairedTest,
    Stats,
)
from pytest_oscura.aggregate.significance import (
    bh_adjust,
    mann_whitney_p,
    normal_p_values,
    wilcoxon_p,
)
from pytest_oscura.records import CaptureRecord

__all__ = ["detect_drift", "drift_from_cells"]

_MEDIAN_SE = 1.2533141373155003  # √(π/2): standard error of the median is this × σ/√n


def _baseline_cells(
    baseline_values: Mapping[str, BaselineValue] | None,
) -> dict[tuple[str, str], dict[str, float]]:
    """``{(group, measurement): {key: value}}`` from the baseline's per-capture entries."""
    cells: dict[tuple[str, str], dict[str, float]] = {}
    values = baseline_values or {}
    for key in sorted(values):
        entry = values[key]
        # Read leniently: a hand-edited baseline file may lack either key.
        group = str(entry.get("group", ""))
        for name, value in sorted((entry.get("measurements") or {}).items()):
            if value is None or not math.isfinite(float(value)):
                continue
            cells.setdefault((group, name), {})[key] = float(value)
    return cells


def _baseline_sigma(stats: Stats, rel_floor: float, centre: float) -> float:
    # ``.get``: statistics read back from a baseline file may lack keys.
    sigma = MAD_TO_SIGMA * float(stats.get("mad") or 0.0)
    if sigma == 0:
        sigma = float(stats.get("std") or 0.0)
    return max(sigma, rel_floor * abs(centre))


def _paired(
    cell: Cell, base: Mapping[str, float], config: AggregateConfig, base_median: float
) -> PairedTest | None:
    pairs = [(v, base[k]) for k, v in zip(cell.keys, cell.values, strict=True) if k in base]
    if not pairs:
        return None
    new = np.asarray([p[0] for p in pairs])
    old = np.asarray([p[1] for p in pairs])
    delta = new - old
    # A change below floating-point noise is no change: it would give the test a direction.
    noise = config.rel_floor * np.maximum(np.abs(new), np.abs(old))
    changed = delta[np.abs(delta) > noise]
    up, down = int((changed > 0).sum()), int((changed < 0).sum())
    median_delta = float(np.median(delta))
    enough = changed.size >= config.drift_min_n
    return {
        "n": int(delta.size),
        "n_changed": int(changed.size),
        "median_delta": median_delta,
        "median_delta_pct": 100.0 * median_delta / abs(base_median) if base_median else None,
        "consistency": max(up, down) / changed.size if changed.size else None,
        "test": "wilcoxon" if enough else None,
        "p_value": wilcoxon_p(changed) if enough else None,
        "p_adjusted": None,  # filled in by _judge_drift, over all tests of the run
    }


def detect_drift(
    records: Iterable[CaptureRecord],
    baseline_groups: Mapping[str, Mapping[str, Stats]] | None,
    baseline_values: Mapping[str, BaselineValue] | None = None,
    *,
    config: AggregateConfig = DEFAULT_CONFIG,
) -> DriftResult:
    """Compare tonight's distribution of each measurement with the baseline population.

    Args:
        records: tonight's records, in any order.
        baseline_groups: ``{group: {measurement: stats}}`` as stored by the baseline (the output
            of :func:`~pytest_oscura.aggregate.cells.group_statistics`); ``None`` or empty
            derives them from ``baseline_values``.
        baseline_values: the baseline's per-capture entries ``{key: {"measurements": {name:
            value}, "group": group}}``, for the Mann–Whitney U test and the paired test; optional.
        config: thresholds.

    Returns:
        A :class:`~pytest_oscura.aggregate.results.DriftResult`; its cells
        (:class:`~pytest_oscura.aggregate.results.DriftCell`) are sorted by group and
        measurement.
    """
    return drift_from_cells(collect_cells(records), baseline_groups, baseline_values, config)


def drift_from_cells(
    tonight: CellMap,
    baseline_groups: Mapping[str, Mapping[str, Stats]] | None,
    baseline_values: Mapping[str, BaselineValue] | None,
    config: AggregateConfig,
) -> DriftResult:
    """:func:`detect_drift` on tonight's cells already collected."""
    base_cells = _baseline_cells(baseline_values)
    groups: Mapping[str, Mapping[str, Stats]] = baseline_groups or {}
    if not groups and base_cells:
        derived: dict[str, dict[str, Stats]] = {}
        for (group, name), by_key in base_cells.items():
            derived.setdefault(group, {})[name] = statistics(Cell(values=list(by_key.values())))
        groups = derived
    available = bool(groups)
    control = (
        f"Benjamini–Hochberg over all drift tests at {100 * config.drift_alpha:g} %; "
        f"population: median shift ≥ {config.drift_shift_sigma:g} baseline robust σ and "
        f"Mann–Whitney U (or median z-test from baseline statistics), n ≥ {config.drift_min_n} "
        f"each side; paired: Wilcoxon signed-rank on per-capture changes, ≥ "
        f"{100 * config.paired_consistency:g} % in one direction"
    )
    cells: list[DriftCell] = []
    if available:
        for (group, name), cell in tonight.items():
            stats = groups.get(group, {}).get(name)
            base_raw = base_cells.get((group, name), {})
            cells.append(_drift_cell(group, name, cell, stats, base_raw, config))
        _judge_drift(cells, config)
    return {
        "available": available,
        "alpha": config.drift_alpha,
        "shift_threshold": config.drift_shift_sigma,
        "min_n": config.drift_min_n,
        "control": control if available else "no baseline statistics: drift not judged",
        "flagged_count": sum(1 for c in cells if c["flagged"]),
        "cells": cells,
    }


def _drift_cell(
    group: str,
    name: str,
    cell: Cell,
    stats: Stats | None,
    base_raw: Mapping[str, float],
    config: AggregateConfig,
) -> DriftCell:
    """One cell's statistics and tests, not yet judged (see :func:`_judge_drift`)."""
    x = np.asarray(cell.values, dtype=float)
    median = float(np.median(x)) if x.size else None
    entry: DriftCell = {
        "group": group,
        "measurement": name,
        "status": "ok",
        "n": int(x.size),
        "n_baseline": int(stats.get("n") or 0) if stats else 0,
        "median": median,
        "baseline_median": None,
        "baseline_sigma": None,
        "shift_sigma": None,
        "shift_pct": None,
        "test": None,
        "p_value": None,
        "p_adjusted": None,
        "paired": None,
        "flagged": False,
        "reasons": [],
    }
    if stats is None:
        entry["status"] = "new"
        return entry
    stored_median = stats.get("median")
    if stored_median is None:
        entry["status"] = "insufficient"
        return entry
    base_median = float(stored_median)
    entry["baseline_median"] = base_median
    paired = _paired(cell, base_raw, config, base_median) if base_raw else None
    entry["paired"] = paired
    if median is None:
        entry["status"] = "insufficient"
        return entry
    sigma = max(
        _baseline_sigma(stats, config.rel_floor, base_median), config.rel_floor * abs(median)
    )
    entry["baseline_sigma"] = sigma
    entry["shift_sigma"] = (median - base_median) / sigma if sigma > 0 else 0.0
    entry["shift_pct"] = percent_change(median, base_median)
    n_base = entry["n_baseline"]
    if x.size >= config.drift_min_n and len(base_raw) >= config.drift_min_n:
        entry["test"] = "mannwhitneyu"
        entry["p_value"] = mann_whitney_p(x, np.asarray(list(base_raw.values()), dtype=float))
    elif x.size >= config.drift_min_n and n_base >= config.drift_min_n:
        # Only the baseline's statistics: a z-test of the median difference.
        se = _MEDIAN_SE * sigma * math.sqrt(1.0 / x.size + 1.0 / n_base)
        z = (median - base_median) / se if se > 0 else 0.0
        entry["test"] = "median-z"
        entry["p_value"] = float(normal_p_values(np.asarray([z]))[0])
    if entry["test"] is None and (paired is None or paired["test"] is None):
        entry["status"] = "insufficient"
    return entry


def _judge_drift(cells: list[DriftCell], config: AggregateConfig) -> None:
    """Adjust every test's p-value together (Benjamini–Hochberg), then flag and explain."""
    tests: list[DriftCell | PairedTest] = []
    for entry in cells:
        tests.append(entry)
        if entry["paired"] is not None:
            tests.append(entry["paired"])
    tested = [(test, p) for test in tests if (p := test["p_value"]) is not None]
    adjusted = bh_adjust([p for _, p in tested])
    for (test, _), p_adjusted in zip(tested, adjusted, strict=True):
        test["p_adjusted"] = float(p_adjusted)
    for entry in cells:
        reasons = entry["reasons"]
        shift, p_value, p_adjusted = entry["shift_sigma"], entry["p_value"], entry["p_adjusted"]
        if (
            p_value is not None
            and p_adjusted is not None
            and p_adjusted <= config.drift_alpha
            and shift is not None
            and abs(shift) >= config.drift_shift_sigma
        ):
            reasons.append(
                f"median moved {_pct_text(entry['shift_pct'])}= {shift:+.2f} σ of the baseline "
                f"({_test_name(entry['test'])} p = {p_value:.2g})"
            )
        paired = entry["paired"]
        if paired is not None:
            consistency, p_paired = paired["consistency"], paired["p_value"]
            if (
                p_paired is not None
                and paired["p_adjusted"] is not None
                and paired["p_adjusted"] <= config.drift_alpha
                and consistency is not None
                and consistency >= config.paired_consistency
            ):
                reasons.append(
                    f"{100 * consistency:.0f} % of {paired['n_changed']} captures moved "
                    f"the same way, median change {_pct_text(paired['median_delta_pct'])}"
                    f"(Wilcoxon p = {p_paired:.2g})"
                )
        if reasons:
            entry["flagged"] = True
            entry["status"] = "drift"


def _pct_text(pct: float | None) -> str:
    return f"{pct:+.3g} % " if pct is not None else ""


def _test_name(test: str | None) -> str:
    return {"mannwhitneyu": "Mann–Whitney U", "median-z": "median z-test"}.get(str(test), "test")
