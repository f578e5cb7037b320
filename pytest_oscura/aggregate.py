"""Session aggregation: statistics, outliers, drift against the baseline, the gate. Pure.

Everything here works on :class:`~pytest_oscura.records.CaptureRecord` lists and returns plain
``dict``/``list``/``str``/``float``/``int``/``bool``/``None`` values, ready for the JSON report and
the baseline file. Nothing imports pytest. The results do not depend on the order in which records
arrive (xdist workers deliver them in any order): records are sorted by key first, and every
statistic is computed from the values in that order.

Which records count:

* ``passed`` and ``failed`` records contribute measurement values (a failing capture is exactly
  what an outlier or drift check should see); ``error`` records (load/config errors) and
  ``skipped`` records contribute none. An unknown outcome string is counted as ``error``.
* ``None`` values are counted as *not applicable*; NaN/inf values are counted as *non-finite* and
  left out of every statistic.

Outliers (:func:`detect_outliers`), per capture group and measurement, among tonight's values:

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
of freedom, a Monte-Carlo calibration of the robust z for a cell of ``n`` values), and the
Benjamini–Hochberg procedure runs over *all* tested values of *all* groups and measurements at
the false discovery rate ``outlier_fdr`` (1 % by default). A value is flagged only when it is
BH-significant **and** beyond the method's threshold (the threshold is the minimum effect size).
On a clean, roughly normal batch (no true outlier) anything at all is flagged with probability
at most about ``q``; heavy-tailed populations flag more. Small cells have little power: with 10
values a robust z must be far beyond 3.5 (about 20 among 3000 tested values) to be flagged.

Degenerate cells: fewer than ``min_outlier_n`` (4) values → not tested (listed as skipped).
``MAD = 0`` (more than half the values identical, e.g. quantised readings) → the scale falls back
to ``1.253314·mean|x − median|`` (the mean absolute deviation, normal-consistent), and the IQR
method's ``IQR = 0`` to ``1.349`` times that scale. Every scale is floored at ``rel_floor·|centre|``
(1e-9 relative) so that values differing only by floating-point noise are never flagged; a cell
whose scale is still 0 (all values identical) is skipped as constant.

Drift (:func:`detect_drift`) of tonight's batch against the baseline population, per group and
measurement, flagged when either holds:

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

The drift p-values of all cells are adjusted together with Benjamini–Hochberg; a test is
significant when its adjusted p-value is at most ``drift_alpha`` (1 %).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from pytest_oscura._text import format_number
from pytest_oscura.records import OUTCOMES, CaptureRecord

__all__ = [
    "DEFAULT_CONFIG",
    "OUTLIER_METHODS",
    "AggregateConfig",
    "GateSpec",
    "Stats",
    "benjamini_hochberg",
    "bh_adjust",
    "detect_drift",
    "detect_outliers",
    "evaluate_gate",
    "format_summary",
    "group_statistics",
    "outcome_counts",
    "parse_gate",
    "summarize",
]

OUTLIER_METHODS: tuple[str, ...] = ("mad", "iqr", "zscore", "none")

_MAD_TO_SIGMA = 1.482602218505602  # 1/Φ⁻¹(3/4): MAD of a normal distribution → sigma
_MEANAD_TO_SIGMA = 1.2533141373155003  # √(π/2): mean absolute deviation of a normal → sigma
_IQR_TO_SIGMA = 1.3489795003921634  # 2·Φ⁻¹(3/4): IQR of a normal distribution → sigma
_MEDIAN_SE = 1.2533141373155003  # √(π/2): standard error of the median is this × σ/√n
_ROBUST_DF_PER_VALUE = 0.4  # t degrees of freedom per value for the robust z (see _outlier_p)
_SCORE_LABELS = {"mad": "robust z", "zscore": "z", "iqr": "IQR z"}


class Stats(TypedDict):
    """Statistics of one measurement in one group; ``None`` where there are no values.

    ``mad`` is the raw median absolute deviation ``median(|x − median|)`` (not scaled to sigma);
    ``std`` is the sample standard deviation (``ddof=1``; 0.0 for a single value).
    """

    n: int
    n_not_applicable: int
    n_nonfinite: int
    mean: float | None
    std: float | None
    min: float | None
    q1: float | None
    median: float | None
    q3: float | None
    max: float | None
    mad: float | None


@dataclass(frozen=True)
class AggregateConfig:
    """Thresholds of the outlier and drift checks (see the module docstring for their use)."""

    iqr_k: float = 1.5
    zscore_threshold: float = 3.0
    mad_threshold: float = 3.5
    outlier_fdr: float = 0.01
    min_outlier_n: int = 4
    drift_shift_sigma: float = 0.5
    drift_alpha: float = 0.01
    drift_min_n: int = 8
    paired_consistency: float = 0.8
    rel_floor: float = 1e-9

    def __post_init__(self) -> None:
        for name in ("iqr_k", "zscore_threshold", "mad_threshold", "drift_shift_sigma"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}={getattr(self, name)!r} must be positive")
        for name in ("outlier_fdr", "drift_alpha"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)!r} must be between 0 and 1")
        if not 0.5 <= self.paired_consistency <= 1:
            raise ValueError(f"{self.paired_consistency=} must be between 0.5 and 1")
        if self.min_outlier_n < 3 or self.drift_min_n < 3:
            raise ValueError("min_outlier_n and drift_min_n must be at least 3")
        if not 0 <= self.rel_floor < 1e-3:
            raise ValueError(f"{self.rel_floor=} must be in [0, 1e-3)")


DEFAULT_CONFIG = AggregateConfig()


# --------------------------------------------------------------------------------------------
# Collecting values


def _sorted_records(records: Iterable[CaptureRecord]) -> list[CaptureRecord]:
    return sorted(records, key=lambda r: (r.group, r.key, r.nodeid, r.channel, r.outcome))


def _outcome(record: CaptureRecord) -> str:
    return record.outcome if record.outcome in OUTCOMES else "error"


def _contributes(record: CaptureRecord) -> bool:
    return _outcome(record) in ("passed", "failed")


class _Cell:
    """Values of one measurement in one group, in record-key order."""

    __slots__ = ("keys", "n_nonfinite", "n_not_applicable", "values")

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.values: list[float] = []
        self.n_not_applicable = 0
        self.n_nonfinite = 0


_CellMap = dict[tuple[str, str], _Cell]


def _cells(records: Iterable[CaptureRecord]) -> _CellMap:
    cells: _CellMap = {}
    for record in _sorted_records(records):
        if not _contributes(record):
            continue
        names = set(record.measurements) | set(record.not_applicable)
        for name in sorted(names):
            cell = cells.setdefault((record.group, name), _Cell())
            value = record.measurements.get(name)
            if value is None:
                cell.n_not_applicable += 1
            elif not math.isfinite(float(value)):
                cell.n_nonfinite += 1
            else:
                cell.keys.append(record.key)
                cell.values.append(float(value))
    return dict(sorted(cells.items()))


def _stats(cell: _Cell) -> Stats:
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
    q1, median, q3 = (float(v) for v in np.quantile(x, [0.25, 0.5, 0.75]))
    return {
        **empty,
        "mean": float(np.mean(x)),
        "std": float(np.std(x, ddof=1)) if x.size > 1 else 0.0,
        "min": float(np.min(x)),
        "q1": q1,
        "median": median,
        "q3": q3,
        "max": float(np.max(x)),
        "mad": float(np.median(np.abs(x - median))),
    }


def group_statistics(records: Iterable[CaptureRecord]) -> dict[str, dict[str, Stats]]:
    """Per capture group and measurement: :class:`Stats` of the values of tonight's batch.

    Returns ``{group: {measurement: stats}}``, groups and measurements sorted; plain JSON values,
    the shape the baseline file stores under ``"groups"`` and :func:`detect_drift` reads back.
    Only ``passed``/``failed`` records contribute values (see the module docstring).
    """
    return _statistics_from_cells(_cells(records))


def _statistics_from_cells(cells: _CellMap) -> dict[str, dict[str, Stats]]:
    result: dict[str, dict[str, Stats]] = {}
    for (group, name), cell in cells.items():
        result.setdefault(group, {})[name] = _stats(cell)
    return result


def outcome_counts(records: Iterable[CaptureRecord]) -> dict[str, Any]:
    """``{"total", "passed", "failed", "error", "skipped", "quality"}`` for ``records``.

    ``quality`` is the percentage of passing captures among those that ran (not skipped), or
    ``None`` when none ran.
    """
    counts: dict[str, Any] = {"total": 0, **{outcome: 0 for outcome in OUTCOMES}}
    for record in records:
        counts["total"] += 1
        counts[_outcome(record)] += 1
    ran = counts["total"] - counts["skipped"]
    counts["quality"] = 100.0 * counts["passed"] / ran if ran else None
    return counts


# --------------------------------------------------------------------------------------------
# Outliers


def bh_adjust(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (``p_adj ≤ q`` ⇔ rejected at FDR ``q``).

    With the ``m`` p-values sorted, ``p_adj(i) = min(1, min_{j ≥ i} p_(j)·m/j)``: the smallest
    FDR at which the step-up procedure (reject every ``p ≤ p_(k)`` for the largest ``k`` with
    ``p_(k) ≤ k·q/m``) rejects hypothesis ``i``. Tied p-values get the same adjusted value, so
    ties are rejected together and the result does not depend on the order of ``p_values``.
    """
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray, q: float) -> np.ndarray:
    """The hypotheses Benjamini–Hochberg rejects at FDR ``q``: ``bh_adjust(p_values) ≤ q``."""
    return np.asarray(bh_adjust(p_values) <= q, dtype=bool)


def _two_sided_p(z: np.ndarray) -> np.ndarray:
    """Two-sided tail probability of a standard normal variable."""
    from scipy.special import erfc

    return np.asarray(erfc(np.abs(z) / math.sqrt(2.0)), dtype=float)


def _outlier_p(scores: np.ndarray, method: str) -> np.ndarray:
    """Two-sided p-values of the scores of one cell of ``n`` values under a normal population.

    ``zscore``: exact — for the internally studentised residual ``r``, ``r²·n/(n − 1)²`` follows
    Beta(1/2, (n − 2)/2). ``mad``/``iqr``: Student's t with ``0.4·n`` degrees of freedom, a
    Monte-Carlo calibration of the robust z's null distribution (the MAD and IQR are only about
    37 % efficient, so their z has heavy tails for small ``n``); conservative for ``n < 10``.
    """
    from scipy.special import betainc, stdtr  # lighter than scipy.stats

    n = scores.size
    if method == "zscore":
        u = np.minimum(scores**2 * n / (n - 1) ** 2, 1.0)
        # survival function of Beta(1/2, b) at u is I_{1-u}(b, 1/2)
        return np.asarray(betainc((n - 2) / 2.0, 0.5, 1.0 - u), dtype=float)
    df = max(1.0, _ROBUST_DF_PER_VALUE * n)
    return np.asarray(2.0 * stdtr(df, -np.abs(scores)), dtype=float)


def _fallback_sigma(x: np.ndarray, centre: float) -> float:
    return _MEANAD_TO_SIGMA * float(np.mean(np.abs(x - centre)))


def _score(
    x: np.ndarray, method: str, config: AggregateConfig
) -> tuple[np.ndarray, np.ndarray, float, bool] | str:
    """(scores, beyond-threshold mask, centre, scale fell back?) or why the cell is skipped."""
    median = float(np.median(x))
    fallback = False
    if method == "zscore":
        centre = float(np.mean(x))
        sigma = float(np.std(x, ddof=1))
    else:
        centre = median
        if method == "mad":
            sigma = _MAD_TO_SIGMA * float(np.median(np.abs(x - median)))
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
    return scores, beyond, centre, fallback


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
        f"{_SCORE_LABELS[method]} of all {tested} values tested); flagged when BH-significant "
        f"and {criterion}"
    )


def _pct(value: float, reference: float) -> float | None:
    return 100.0 * (value - reference) / abs(reference) if reference != 0 else None


def detect_outliers(
    records: Iterable[CaptureRecord],
    method: str = "mad",
    *,
    config: AggregateConfig = DEFAULT_CONFIG,
) -> dict[str, Any]:
    """Flag captures far from their peers, per group and measurement, with the FDR controlled.

    Args:
        records: tonight's records, in any order.
        method: one of :data:`OUTLIER_METHODS`.
        config: thresholds.

    Returns:
        ``{"method", "threshold", "fdr", "control", "tested", "flagged_count", "flagged",
        "counts", "skipped"}``: ``flagged`` is a list of ``{"group", "measurement", "key",
        "value", "centre", "score", "p_value", "deviation_pct"}`` sorted by group, measurement
        and key; ``counts`` is ``{group: {measurement: number flagged}}`` over the tested cells;
        ``skipped`` lists ``{"group", "measurement", "n", "reason"}``; ``scale_fallback`` lists
        the ``"group/measurement"`` cells whose MAD (or IQR) was 0 and whose scale came from the
        mean absolute deviation; ``control`` says in one sentence how the false-alarm rate is
        controlled.

    Raises:
        ValueError: unknown ``method``.
    """
    return _outliers_from_cells(_cells(records), method, config)


def _outliers_from_cells(cells: _CellMap, method: str, config: AggregateConfig) -> dict[str, Any]:
    if method not in OUTLIER_METHODS:
        raise ValueError(
            f"unknown outlier method {method!r}; choose one of {', '.join(OUTLIER_METHODS)}"
        )
    result: dict[str, Any] = {
        "method": method,
        "threshold": _method_threshold(method, config),
        "fdr": config.outlier_fdr if method != "none" else None,
        "control": "",
        "tested": 0,
        "flagged_count": 0,
        "flagged": [],
        "counts": {},
        "skipped": [],
        "scale_fallback": [],
    }
    if method == "none":
        result["control"] = _outlier_control(method, config, 0)
        return result
    scored: list[tuple[str, str, _Cell, np.ndarray, np.ndarray, float]] = []
    for (group, name), cell in cells.items():
        x = np.asarray(cell.values, dtype=float)
        if x.size < config.min_outlier_n:
            result["skipped"].append(
                {
                    "group": group,
                    "measurement": name,
                    "n": int(x.size),
                    "reason": f"fewer than {config.min_outlier_n} values",
                }
            )
            continue
        outcome = _score(x, method, config)
        if isinstance(outcome, str):
            result["skipped"].append(
                {"group": group, "measurement": name, "n": int(x.size), "reason": outcome}
            )
            continue
        scores, beyond, centre, fallback = outcome
        if fallback:
            result["scale_fallback"].append(f"{group}/{name}")
        scored.append((group, name, cell, scores, beyond, centre))
    all_scores = (
        np.concatenate([entry[3] for entry in scored]) if scored else np.zeros(0, dtype=float)
    )
    p_all = (
        np.concatenate([_outlier_p(entry[3], method) for entry in scored])
        if scored
        else np.zeros(0, dtype=float)
    )
    # One Benjamini–Hochberg over every tested value of every cell: the FDR holds for the run.
    rejected = bh_adjust(p_all) <= config.outlier_fdr
    offset = 0
    for group, name, cell, scores, beyond, centre in scored:
        size = scores.size
        flags = rejected[offset : offset + size] & beyond
        p_cell = p_all[offset : offset + size]
        offset += size
        result["counts"].setdefault(group, {})[name] = int(flags.sum())
        for index in np.nonzero(flags)[0]:
            value = cell.values[int(index)]
            result["flagged"].append(
                {
                    "group": group,
                    "measurement": name,
                    "key": cell.keys[int(index)],
                    "value": value,
                    "centre": centre,
                    "score": float(scores[index]),
                    "p_value": float(p_cell[index]),
                    "deviation_pct": _pct(value, centre),
                }
            )
    result["tested"] = int(all_scores.size)
    result["flagged_count"] = len(result["flagged"])
    result["control"] = _outlier_control(method, config, result["tested"])
    return result


# --------------------------------------------------------------------------------------------
# Drift


def _baseline_cells(
    baseline_values: Mapping[str, Mapping[str, Any]] | None,
) -> dict[tuple[str, str], dict[str, float]]:
    """``{(group, measurement): {key: value}}`` from the baseline's per-capture entries."""
    cells: dict[tuple[str, str], dict[str, float]] = {}
    for key in sorted(baseline_values or {}):
        entry = (baseline_values or {})[key]
        group = str(entry.get("group", ""))
        for name, value in sorted((entry.get("measurements") or {}).items()):
            if value is None or not math.isfinite(float(value)):
                continue
            cells.setdefault((group, name), {})[key] = float(value)
    return cells


def _baseline_sigma(stats: Mapping[str, Any], rel_floor: float, centre: float) -> float:
    sigma = _MAD_TO_SIGMA * float(stats.get("mad") or 0.0)
    if sigma == 0:
        sigma = float(stats.get("std") or 0.0)
    return max(sigma, rel_floor * abs(centre))


def _paired(
    cell: _Cell, base: Mapping[str, float], config: AggregateConfig, base_median: float
) -> dict[str, Any] | None:
    pairs = [(v, base[k]) for k, v in zip(cell.keys, cell.values, strict=True) if k in base]
    if not pairs:
        return None
    new = np.asarray([p[0] for p in pairs])
    old = np.asarray([p[1] for p in pairs])
    delta = new - old
    noise = config.rel_floor * np.maximum(np.abs(new), np.abs(old))
    changed = delta[np.abs(delta) > noise]
    up, down = int((changed > 0).sum()), int((changed < 0).sum())
    median_delta = float(np.median(delta))
    info: dict[str, Any] = {
        "n": int(delta.size),
        "n_changed": int(changed.size),
        "median_delta": median_delta,
        "median_delta_pct": 100.0 * median_delta / abs(base_median) if base_median else None,
        "consistency": max(up, down) / changed.size if changed.size else None,
        "test": None,
        "p_value": None,
    }
    if changed.size >= config.drift_min_n:
        info["test"] = "wilcoxon"
        info["p_value"] = wilcoxon_p(changed)
    return info


def _average_ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1-based ranks with ties given their average rank, and the size of each tie group."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, ordered.size])
    average = starts + (sizes + 1) / 2.0  # mean of the 1-based ranks starts+1 .. starts+size
    ranks = np.empty(values.size)
    ranks[order] = np.repeat(average, sizes)
    return ranks, sizes


def _normal_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2.0))


def mann_whitney_p(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided p-value of the Mann–Whitney U test, normal approximation with tie correction.

    U = R₁ − n₁(n₁+1)/2; z = (|U − n₁n₂/2| − ½) / σ with
    σ² = n₁n₂/12 · ((n+1) − Σ(t³−t)/(n(n−1))) (Hollander & Wolfe). Used where both sides have at
    least ``drift_min_n`` values, where the approximation is standard; computed with numpy
    because ``import scipy.stats`` alone costs over a second at every session end.
    """
    n1, n2 = x.size, y.size
    n = n1 + n2
    ranks, ties = _average_ranks(np.concatenate([x, y]))
    u = float(ranks[:n1].sum()) - n1 * (n1 + 1) / 2.0
    tie_term = float((ties**3 - ties).sum()) / (n * (n - 1))
    variance = n1 * n2 / 12.0 * ((n + 1) - tie_term)
    if variance <= 0:
        return 1.0
    z = max(abs(u - n1 * n2 / 2.0) - 0.5, 0.0) / math.sqrt(variance)
    return _normal_p(z)


def wilcoxon_p(differences: np.ndarray) -> float:
    """Two-sided p-value of the Wilcoxon signed-rank test on non-zero ``differences``.

    W⁺ = Σ ranks of |d| where d > 0; z = (W⁺ − n(n+1)/4) / σ with
    σ² = n(n+1)(2n+1)/24 − Σ(t³−t)/48: the normal approximation with tie correction.
    """
    d = differences[differences != 0]
    n = d.size
    if n == 0:
        return 1.0
    ranks, ties = _average_ranks(np.abs(d))
    w_plus = float(ranks[d > 0].sum())
    variance = n * (n + 1) * (2 * n + 1) / 24.0 - float((ties**3 - ties).sum()) / 48.0
    if variance <= 0:
        return 1.0
    return _normal_p((w_plus - n * (n + 1) / 4.0) / math.sqrt(variance))


def detect_drift(
    records: Iterable[CaptureRecord],
    baseline_groups: Mapping[str, Mapping[str, Mapping[str, Any]]] | None,
    baseline_values: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    config: AggregateConfig = DEFAULT_CONFIG,
) -> dict[str, Any]:
    """Compare tonight's distribution of each measurement with the baseline population.

    Args:
        records: tonight's records, in any order.
        baseline_groups: ``{group: {measurement: stats}}`` as stored by the baseline (the output
            of :func:`group_statistics`); ``None`` or empty derives them from ``baseline_values``.
        baseline_values: the baseline's per-capture entries ``{key: {"measurements": {name:
            value}, "group": group}}``, for the Mann–Whitney U test and the paired test; optional.
        config: thresholds.

    Returns:
        ``{"available", "alpha", "shift_threshold", "min_n", "control", "flagged_count",
        "cells"}``; each cell is ``{"group", "measurement", "status", "n", "n_baseline",
        "median", "baseline_median", "baseline_sigma", "shift_sigma", "shift_pct", "test",
        "p_value", "p_adjusted", "paired", "flagged", "reasons"}`` with ``status`` one of ``ok``,
        ``drift``, ``insufficient`` (too few values for a test), ``new`` (not in the baseline) and
        ``paired`` ``None`` or ``{"n", "n_changed", "median_delta", "median_delta_pct",
        "consistency", "test", "p_value", "p_adjusted"}``. Cells are sorted by group and
        measurement.
    """
    return _drift_from_cells(_cells(records), baseline_groups, baseline_values, config)


def _drift_from_cells(
    tonight: _CellMap,
    baseline_groups: Mapping[str, Mapping[str, Mapping[str, Any]]] | None,
    baseline_values: Mapping[str, Mapping[str, Any]] | None,
    config: AggregateConfig,
) -> dict[str, Any]:
    base_cells = _baseline_cells(baseline_values)
    groups: dict[str, Mapping[str, Mapping[str, Any]]] = dict(baseline_groups or {})
    if not groups and base_cells:
        derived: dict[str, dict[str, Stats]] = {}
        for (group, name), by_key in base_cells.items():
            cell = _Cell()
            cell.values = list(by_key.values())
            derived.setdefault(group, {})[name] = _stats(cell)
        groups = dict(derived)
    available = bool(groups)
    control = (
        f"Benjamini–Hochberg over all drift tests at {100 * config.drift_alpha:g} %; "
        f"population: median shift ≥ {config.drift_shift_sigma:g} baseline robust σ and "
        f"Mann–Whitney U (or median z-test from baseline statistics), n ≥ {config.drift_min_n} "
        f"each side; paired: Wilcoxon signed-rank on per-capture changes, ≥ "
        f"{100 * config.paired_consistency:g} % in one direction"
    )
    result: dict[str, Any] = {
        "available": available,
        "alpha": config.drift_alpha,
        "shift_threshold": config.drift_shift_sigma,
        "min_n": config.drift_min_n,
        "control": control if available else "no baseline statistics: drift not judged",
        "flagged_count": 0,
        "cells": [],
    }
    if not available:
        return result
    cells: list[dict[str, Any]] = []
    for (group, name), cell in tonight.items():
        stats = groups.get(group, {}).get(name)
        x = np.asarray(cell.values, dtype=float)
        entry: dict[str, Any] = {
            "group": group,
            "measurement": name,
            "status": "ok",
            "n": int(x.size),
            "n_baseline": int(stats.get("n") or 0) if stats else 0,
            "median": float(np.median(x)) if x.size else None,
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
        cells.append(entry)
        if stats is None:
            entry["status"] = "new"
            continue
        if stats.get("median") is None:
            entry["status"] = "insufficient"
            continue
        base_median = float(stats["median"])
        entry["baseline_median"] = base_median
        base_raw = base_cells.get((group, name), {})
        entry["paired"] = _paired(cell, base_raw, config, base_median) if base_raw else None
        if x.size == 0:
            entry["status"] = "insufficient"
            continue
        median = float(entry["median"])
        sigma = max(
            _baseline_sigma(stats, config.rel_floor, base_median), config.rel_floor * abs(median)
        )
        entry["baseline_sigma"] = sigma
        entry["shift_sigma"] = (median - base_median) / sigma if sigma > 0 else 0.0
        entry["shift_pct"] = _pct(median, base_median)
        n_base = entry["n_baseline"]
        if x.size >= config.drift_min_n and len(base_raw) >= config.drift_min_n:
            p_value = mann_whitney_p(x, np.asarray(list(base_raw.values()), dtype=float))
            entry["test"], entry["p_value"] = "mannwhitneyu", p_value
        elif x.size >= config.drift_min_n and n_base >= config.drift_min_n:
            se = _MEDIAN_SE * sigma * math.sqrt(1.0 / x.size + 1.0 / n_base)
            z = (median - base_median) / se if se > 0 else 0.0
            entry["test"] = "median-z"
            entry["p_value"] = float(_two_sided_p(np.asarray([z]))[0])
        paired = entry["paired"]
        if entry["test"] is None and (paired is None or paired["test"] is None):
            entry["status"] = "insufficient"
    _judge_drift(cells, config)
    result["cells"] = cells
    result["flagged_count"] = sum(1 for c in cells if c["flagged"])
    return result


def _judge_drift(cells: list[dict[str, Any]], config: AggregateConfig) -> None:
    slots: list[tuple[dict[str, Any], float]] = []
    for entry in cells:
        if entry["p_value"] is not None:
            slots.append((entry, entry["p_value"]))
        if entry["paired"] is not None and entry["paired"]["p_value"] is not None:
            slots.append((entry["paired"], entry["paired"]["p_value"]))
    adjusted = bh_adjust([p for _, p in slots])
    for (target, _), p_adj in zip(slots, adjusted, strict=True):
        target["p_adjusted"] = float(p_adj)
    for entry in cells:
        paired = entry["paired"]
        if paired is not None:
            paired.setdefault("p_adjusted", None)
        shift = entry["shift_sigma"]
        if (
            entry["p_adjusted"] is not None
            and entry["p_adjusted"] <= config.drift_alpha
            and shift is not None
            and abs(shift) >= config.drift_shift_sigma
        ):
            entry["reasons"].append(
                f"median moved {_pct_text(entry['shift_pct'])}= {shift:+.2f} σ of the baseline "
                f"({_test_name(entry['test'])} p = {entry['p_value']:.2g})"
            )
        if (
            paired is not None
            and paired["p_adjusted"] is not None
            and paired["p_adjusted"] <= config.drift_alpha
            and (paired["consistency"] or 0.0) >= config.paired_consistency
        ):
            entry["reasons"].append(
                f"{100 * paired['consistency']:.0f} % of {paired['n_changed']} captures moved "
                f"the same way, median change {_pct_text(paired['median_delta_pct'])}"
                f"(Wilcoxon p = {paired['p_value']:.2g})"
            )
        if entry["reasons"]:
            entry["flagged"] = True
            entry["status"] = "drift"


def _pct_text(pct: float | None) -> str:
    return f"{pct:+.3g} % " if pct is not None else ""


def _test_name(test: str | None) -> str:
    return {"mannwhitneyu": "Mann–Whitney U", "median-z": "median z-test"}.get(str(test), "test")


# --------------------------------------------------------------------------------------------
# Gate


@dataclass(frozen=True)
class GateSpec:
    """A parsed ``--oscura-gate`` value: what fails the session beyond item failures."""

    outliers: bool = False
    drift: bool = False
    min_quality: float | None = None

    @property
    def text(self) -> str:
        parts = [name for name in ("outliers", "drift") if getattr(self, name)]
        if self.min_quality is not None:
            parts.append(f"quality>={self.min_quality:g}")
        return ",".join(parts) or "none"


_NO_GATE = GateSpec()
_QUALITY = re.compile(r"quality\s*>=\s*(?P<value>\S*)\Z")


def parse_gate(spec: str) -> GateSpec:
    """Parse a gate specification.

    Grammar (case-insensitive, spaces ignored around items)::

        spec    := "none" | item ("," item)*
        item    := "outliers" | "drift" | "quality>=" NUMBER
        NUMBER  := a percentage from 0 to 100, for example 95 or 99.5

    ``outliers`` fails the session when any outlier is flagged, ``drift`` when any measurement
    drifted against the baseline, ``quality>=N`` when fewer than N % of the captures that ran
    passed. ``none`` (alone) gates on nothing. Each item at most once.

    Raises:
        ValueError: the message names the offending item and shows the grammar.
    """
    help_text = 'expected "none" or a comma-separated list of outliers, drift, quality>=N'
    text = spec.strip().lower()
    if not text:
        raise ValueError(f"empty gate specification; {help_text}")
    items = [item.strip() for item in text.split(",")]
    if items == ["none"]:
        return GateSpec()
    seen: set[str] = set()
    outliers = drift = False
    min_quality: float | None = None
    for item in items:
        match = _QUALITY.match(item)
        name = "quality" if match or item.startswith("quality") else item
        if name in seen:
            raise ValueError(f"gate item {name!r} given twice in {spec!r}")
        seen.add(name)
        if item == "outliers":
            outliers = True
        elif item == "drift":
            drift = True
        elif match:
            raw = match.group("value")
            try:
                min_quality = float(raw)
            except ValueError:
                raise ValueError(
                    f"gate item {item!r}: {raw!r} is not a number; write for example quality>=95"
                ) from None
            if not 0 <= min_quality <= 100:
                raise ValueError(f"gate item {item!r}: the percentage must be between 0 and 100")
        elif name == "quality":
            raise ValueError(
                f"gate item {item!r}: write the minimum percentage as quality>=N, e.g. quality>=95"
            )
        elif item == "none":
            raise ValueError(f"gate item 'none' cannot be combined with others in {spec!r}")
        else:
            raise ValueError(f"unknown gate item {item!r} in {spec!r}; {help_text}")
    return GateSpec(outliers=outliers, drift=drift, min_quality=min_quality)


def evaluate_gate(summary: Mapping[str, Any], gate_spec: GateSpec) -> dict[str, Any]:
    """Judge a summary (from :func:`summarize`; its ``gate`` key is not needed) against a gate.

    Returns:
        ``{"spec": text, "passed": bool, "reasons": [one line per failing item], "notes":
        [one line per item that could not be judged]}``.
    """
    gate = gate_spec
    reasons: list[str] = []
    notes: list[str] = []
    if gate.outliers:
        outliers = summary.get("outliers") or {}
        flagged = list(outliers.get("flagged") or [])
        if flagged:
            label = _SCORE_LABELS.get(str(outliers.get("method")), "score")
            worst = sorted(flagged, key=_outlier_rank)[:3]
            shown = ", ".join(
                f"{o['key']} {o['measurement']} ({label} {o['score']:+.1f})" for o in worst
            )
            reasons.append(f"outliers: {len(flagged)} flagged, largest {shown}")
        if outliers.get("method") in (None, "none"):
            notes.append("outliers: detection is off, nothing to judge")
    if gate.drift:
        drift = summary.get("drift") or {}
        cells = [c for c in drift.get("cells") or [] if c.get("flagged")]
        if cells:
            shown = "; ".join(
                f"{c['group']}/{c['measurement']} {c['reasons'][0]}" for c in cells[:3]
            )
            more = f" (+{len(cells) - 3} more)" if len(cells) > 3 else ""
            reasons.append(f"drift: {len(cells)} measurement(s) drifted: {shown}{more}")
        if not drift.get("available"):
            notes.append("drift: no baseline statistics, nothing to judge")
    if gate.min_quality is not None:
        counts = summary.get("counts") or {}
        quality = counts.get("quality")
        if quality is None:
            reasons.append("quality: no captures ran")
        elif quality < gate.min_quality:
            ran = counts.get("total", 0) - counts.get("skipped", 0)
            reasons.append(
                f"quality {quality:.1f} % < {gate.min_quality:g} % "
                f"({counts.get('passed', 0)} of {ran} captures passed)"
            )
    return {"spec": gate.text, "passed": not reasons, "reasons": reasons, "notes": notes}


def _outlier_rank(outlier: Mapping[str, Any]) -> tuple[float, str, str, str]:
    return (-abs(outlier["score"]), outlier["group"], outlier["key"], outlier["measurement"])


# --------------------------------------------------------------------------------------------
# Summary


def _units(records: Iterable[CaptureRecord]) -> dict[str, dict[str, str]]:
    """``{group: {measurement: unit}}``: from the registry and the records' sample units."""
    from pytest_oscura.measurements import REGISTRY

    found: dict[tuple[str, str], set[str]] = {}
    for record in records:
        if not _contributes(record):
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


def summarize(
    records: Iterable[CaptureRecord],
    baseline_groups: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
    baseline_values: Mapping[str, Mapping[str, Any]] | None = None,
    outlier_method: str = "mad",
    gate_spec: GateSpec = _NO_GATE,
    *,
    config: AggregateConfig = DEFAULT_CONFIG,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """Everything the session end needs: statistics, outliers, drift, gate and counts.

    Returns a JSON-able dict (the JSON report's ``summary``)::

        {"counts":   {"total", "passed", "failed", "error", "skipped", "quality"},
         "groups":   {group: {"counts": {...same keys as above...},
                              "success_rate": percent | None,
                              "units": {measurement: unit},
                              "measurements": {measurement: Stats}}},
         "outliers": detect_outliers(...),
         "drift":    detect_drift(...),
         "gate":     evaluate_gate(...),
         "notes":    [str, ...]}

    ``gate_spec`` is parsed by the caller, once (:func:`parse_gate`). ``notes`` are passed
    through (for example "worker gw1 crashed; 120 captures missing").

    Raises:
        ValueError: unknown ``outlier_method``.
    """
    ordered = _sorted_records(records)
    cells = _cells(ordered)
    stats = _statistics_from_cells(cells)
    units = _units(ordered)
    groups: dict[str, Any] = {}
    for group in sorted({r.group for r in ordered}):
        members = [r for r in ordered if r.group == group]
        counts = outcome_counts(members)
        groups[group] = {
            "counts": counts,
            "success_rate": counts["quality"],
            "units": units.get(group, {}),
            "measurements": stats.get(group, {}),
        }
    summary: dict[str, Any] = {
        "counts": outcome_counts(ordered),
        "groups": groups,
        "outliers": _outliers_from_cells(cells, outlier_method, config),
        "drift": _drift_from_cells(cells, baseline_groups, baseline_values, config),
        "notes": list(notes),
    }
    summary["gate"] = evaluate_gate(summary, gate_spec)
    return summary


_MAX_DETAIL_LINES = 10
_MAX_DEVIATIONS = 5


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    indent = "    " if text.startswith("  ") else "  "
    return textwrap.wrap(text, width, subsequent_indent=indent, break_on_hyphens=False) or [""]


def format_summary(summary: Mapping[str, Any], width: int = 100) -> list[str]:
    """Lines of the terminal "Batch Summary Report" for a :func:`summarize` result.

    One header line, one counts line, per group a header and one line per measurement (mean ±
    std, median, outliers), then the largest deviations, the outlier control, drift, notes and the
    gate verdict. Long lines are wrapped at ``width`` characters with an indented continuation;
    the five largest deviations and the first ten drifted measurements are listed.
    """
    width = max(width, 40)
    counts = summary.get("counts") or {}
    groups: Mapping[str, Any] = summary.get("groups") or {}
    outliers = summary.get("outliers") or {}
    drift = summary.get("drift") or {}
    gate = summary.get("gate") or {}
    quality = counts.get("quality")
    n_groups = len(groups)
    lines = [
        f"Batch Summary Report — {counts.get('total', 0)} captures, "
        f"{n_groups} group{'s' if n_groups != 1 else ''}",
        f"Passed {counts.get('passed', 0)} · failed {counts.get('failed', 0)} · "
        f"errors {counts.get('error', 0)} · skipped {counts.get('skipped', 0)} · quality "
        + (f"{quality:.1f} %" if quality is not None else "—"),
    ]
    outlier_counts: Mapping[str, Mapping[str, int]] = outliers.get("counts") or {}
    for group, info in groups.items():
        gcounts = info.get("counts") or {}
        rate = info.get("success_rate")
        lines.append(
            f"[{group}] {gcounts.get('total', 0)} captures, success "
            + (f"{rate:.1f} %" if rate is not None else "—")
        )
        measurements: Mapping[str, Stats] = info.get("measurements") or {}
        name_width = max((len(name) for name in measurements), default=0)
        for name, stats in measurements.items():
            unit = (info.get("units") or {}).get(name, "")
            text = (
                f"  {name:<{name_width}}  mean {format_number(stats['mean'], 5, unit)} ± "
                f"{format_number(stats['std'], 3, unit)}  "
                f"median {format_number(stats['median'], 5, unit)}  n {stats['n']}"
            )
            if stats["n_not_applicable"]:
                text += f"  n/a {stats['n_not_applicable']}"
            flagged = outlier_counts.get(group, {}).get(name)
            if flagged is not None and flagged > 0 and stats["n"]:
                text += f"  outliers {flagged} ({100 * flagged / stats['n']:.1f} %)"
            lines.append(text)
    flagged_list = sorted(outliers.get("flagged") or [], key=_outlier_rank)
    if flagged_list:
        label = _SCORE_LABELS.get(str(outliers.get("method")), "score")
        items = [
            f"{o['key']} {o['measurement']} "
            + (f"{o['deviation_pct']:+.1f} % " if o["deviation_pct"] is not None else "")
            + f"({label} {o['score']:.1f})"
            for o in flagged_list
        ]
        more = len(items) - _MAX_DEVIATIONS
        text = "Largest deviations: " + ", ".join(items[:_MAX_DEVIATIONS])
        lines += _wrap(text + (f" (+{more} more)" if more > 0 else ""), width)
    if outliers.get("method") not in (None, "none"):
        lines += _wrap(
            f"Outliers: {outliers.get('flagged_count', 0)} flagged in "
            f"{outliers.get('tested', 0)} values — {outliers.get('control', '')}",
            width,
        )
    else:
        lines.append("Outliers: detection off")
    if not drift.get("available"):
        lines.append("Drift: no baseline statistics to compare with")
    else:
        cells = drift.get("cells") or []
        drifted = [c for c in cells if c.get("flagged")]
        judged = sum(1 for c in cells if c.get("status") in ("ok", "drift"))
        lines.append(
            f"Drift: {len(drifted)} of {judged} measurements drifted from the baseline"
            f" (BH {100 * drift.get('alpha', 0):g} %)"
        )
        for cell in drifted[:_MAX_DETAIL_LINES]:
            lines += _wrap(f"  {cell['group']}/{cell['measurement']}: {cell['reasons'][0]}", width)
        if len(drifted) > _MAX_DETAIL_LINES:
            lines.append(f"  (+{len(drifted) - _MAX_DETAIL_LINES} more in the JSON report)")
    for note in summary.get("notes") or []:
        lines += _wrap(f"Note: {note}", width)
    if gate:
        if gate.get("passed", True):
            lines.append(f"Gate: passed ({gate.get('spec', 'none')})")
        else:
            lines.append(f"Gate: FAILED ({gate.get('spec')})")
            for reason in gate.get("reasons") or []:
                lines += _wrap(f"  {reason}", width)
    return lines
