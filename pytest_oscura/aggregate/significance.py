"""Significance tests: Benjamini–Hochberg, Mann–Whitney U, Wilcoxon signed-rank, p-values.

Computed with numpy and ``scipy.special`` only, because ``import scipy.stats`` alone costs over
a second at every session end.

False discovery rate: the outlier check and the drift check each run many tests in one session
(every value, every measurement of every group) and control the expected share of false alarms
among the flagged ones with the Benjamini–Hochberg step-up procedure (Benjamini & Hochberg 1995),
through :func:`bh_adjust`, the one implementation: a hypothesis is rejected at FDR ``q`` when
its adjusted p-value is at most ``q``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "benjamini_hochberg",
    "bh_adjust",
    "mann_whitney_p",
    "normal_p",
    "normal_p_values",
    "outlier_p_values",
    "wilcoxon_p",
]

_ROBUST_DF_PER_VALUE = 0.4  # t degrees of freedom per value for the robust z (see outlier_p_values)


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


def normal_p_values(z: np.ndarray) -> np.ndarray:
    """Two-sided tail probabilities ``erfc(|z|/√2)`` of standard normal variables (vectorised)."""
    from pytest_oscura._lazy import import_lazily

    erfc = import_lazily("scipy.special").erfc
    return np.asarray(erfc(np.abs(z) / math.sqrt(2.0)), dtype=float)


def normal_p(z: float) -> float:
    """Two-sided tail probability ``erfc(|z|/√2)`` of one standard normal variable.

    The rank tests use ``math.erfc``, the median z-test (:func:`normal_p_values`) scipy's: the
    two differ in the last bits, and the reports keep the p-values they have always shown.
    """
    return math.erfc(abs(z) / math.sqrt(2.0))


def outlier_p_values(scores: np.ndarray, method: str) -> np.ndarray:
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


def mann_whitney_p(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided p-value of the Mann–Whitney U test, normal approximation with tie correction.

    U = R₁ − n₁(n₁+1)/2; z = (|U − n₁n₂/2| − ½) / σ with
    σ² = n₁n₂/12 · ((n+1) − Σ(t³−t)/(n(n−1))) (Hollander & Wolfe). Used where both sides have at
    least ``drift_min_n`` values, where the approximation is standard.
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
    return normal_p(z)


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
    return normal_p((w_plus - n * (n + 1) / 4.0) / math.sqrt(variance))
