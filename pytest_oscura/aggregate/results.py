"""The typed shapes of the aggregation results: the JSON report's ``summary``, as is.

They are ``TypedDict``s, not dataclasses, because the JSON report embeds the summary unchanged
and the baseline file stores :class:`Stats` under ``"groups"``: a result *is* its JSON. Every
value is a plain ``dict``/``list``/``str``/``float``/``int``/``bool``/``None``. Light: no numpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NotRequired, TypedDict

__all__ = [
    "BaselineValue",
    "Counts",
    "DriftCell",
    "DriftResult",
    "Findings",
    "FlaggedOutlier",
    "GateVerdict",
    "GroupSummary",
    "OutliersResult",
    "PairedTest",
    "SkippedCell",
    "Stats",
    "Summary",
]


class Stats(TypedDict):
    """Statistics of one measurement in one group; ``None`` where there are no values, or
    where the statistic itself exceeds the float range (the std of ±1.7e308).

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


class Counts(TypedDict):
    """Outcome counts; ``quality`` is the percentage passed among the captures that ran."""

    total: int
    passed: int
    failed: int
    error: int
    skipped: int
    quality: float | None


class GroupSummary(TypedDict):
    """One capture group of the summary; ``success_rate`` repeats ``counts["quality"]``."""

    counts: Counts
    success_rate: float | None
    units: dict[str, str]
    measurements: dict[str, Stats]


class FlaggedOutlier(TypedDict):
    """One flagged value; ``deviation_pct`` is ``None`` where the centre is 0."""

    group: str
    measurement: str
    key: str
    value: float
    centre: float
    score: float
    p_value: float
    deviation_pct: float | None


class SkippedCell(TypedDict):
    """A (group, measurement) cell the outlier check did not test, and why."""

    group: str
    measurement: str
    n: int
    reason: str


class OutliersResult(TypedDict):
    """The outlier check over tonight's batch (see :func:`~.outliers.detect_outliers`).

    ``threshold`` and ``fdr`` are ``None`` for method ``none``; ``counts`` is ``{group:
    {measurement: number flagged}}`` over the tested cells; ``scale_fallback`` lists the
    ``"group/measurement"`` cells whose MAD (or IQR) was 0.
    """

    method: str
    threshold: float | None
    fdr: float | None
    control: str
    tested: int
    flagged_count: int
    flagged: list[FlaggedOutlier]
    counts: dict[str, dict[str, int]]
    skipped: list[SkippedCell]
    scale_fallback: list[str]


class PairedTest(TypedDict):
    """Per-capture changes ``new − baseline`` of the captures present on both sides.

    ``test`` is ``"wilcoxon"`` or ``None`` (too few changed captures); ``p_adjusted`` is the
    Benjamini–Hochberg adjusted p-value over all drift tests of the run.
    """

    n: int
    n_changed: int
    median_delta: float
    median_delta_pct: float | None
    consistency: float | None
    test: str | None
    p_value: float | None
    p_adjusted: float | None


class DriftCell(TypedDict):
    """One (group, measurement) of the drift check.

    ``status`` is ``ok``, ``drift``, ``insufficient`` (too few values for a test) or ``new`` (not
    in the baseline); ``test`` is ``"mannwhitneyu"``, ``"median-z"`` or ``None``; ``reasons``
    has one line per test that flagged the cell.
    """

    group: str
    measurement: str
    status: str
    n: int
    n_baseline: int
    median: float | None
    baseline_median: float | None
    baseline_sigma: float | None
    shift_sigma: float | None
    shift_pct: float | None
    test: str | None
    p_value: float | None
    p_adjusted: float | None
    paired: PairedTest | None
    flagged: bool
    reasons: list[str]


class DriftResult(TypedDict):
    """The drift check against the baseline (see :func:`~.drift.detect_drift`)."""

    available: bool
    alpha: float
    shift_threshold: float
    min_n: int
    control: str
    flagged_count: int
    cells: list[DriftCell]


class GateVerdict(TypedDict):
    """The gate's verdict: ``reasons`` one line per failing item, ``notes`` per unjudged one."""

    spec: str
    passed: bool
    reasons: list[str]
    notes: list[str]


class Findings(TypedDict):
    """What the gate judges: the part of a :class:`Summary` it reads."""

    counts: Counts
    outliers: OutliersResult
    drift: DriftResult


class Summary(Findings):
    """The JSON report's ``summary`` (see :func:`~.summary.summarize`)."""

    groups: dict[str, GroupSummary]
    notes: list[str]
    gate: GateVerdict


class BaselineValue(TypedDict):
    """One capture entry of the baseline file, as the drift check reads it.

    ``units`` is only needed by callers that split groups by unit; drift ignores it.
    """

    measurements: Mapping[str, float | None]
    group: str
    units: NotRequired[str]
