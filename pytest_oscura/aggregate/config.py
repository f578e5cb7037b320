"""Thresholds of the outlier and drift checks, and the names of the outlier methods.

Light on purpose: the plugin's option declarations import this module in every pytest run, so
it imports neither numpy nor scipy (a subprocess test guards that).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_CONFIG", "OUTLIER_METHODS", "SCORE_LABELS", "AggregateConfig"]

# The one definition of the outlier method names (``--oscura-outliers``, ``compare --outliers``).
OUTLIER_METHODS: tuple[str, ...] = ("mad", "iqr", "zscore", "none")

# What each method's score is called in the report text.
SCORE_LABELS: Mapping[str, str] = {"mad": "robust z", "zscore": "z", "iqr": "IQR z"}


@dataclass(frozen=True)
class AggregateConfig:
    """Thresholds of the outlier and drift checks.

    Outliers (:mod:`~pytest_oscura.aggregate.outliers`): ``mad_threshold`` (robust z),
    ``zscore_threshold`` (z) and ``iqr_k`` (Tukey's k) are the minimum effect sizes of the three
    methods; ``outlier_fdr`` is the false discovery rate over all tested values; cells with fewer
    than ``min_outlier_n`` values are not tested.

    Drift (:mod:`~pytest_oscura.aggregate.drift`): ``drift_shift_sigma`` is the minimum median
    shift in baseline robust sigmas, ``drift_alpha`` the false discovery rate over all drift
    tests, ``drift_min_n`` the fewest values per side for a test, ``paired_consistency`` the
    share of changed captures that must move the same way.

    ``rel_floor`` floors every scale at that fraction of the centre, so that values differing
    only by floating-point noise are never flagged.
    """

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
