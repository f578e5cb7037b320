"""Benjamini–Hochberg and the rank tests."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_oscura.aggregate import (
    AggregateConfig,
    DriftCell,
    PairedTest,
    benjamini_hochberg,
    bh_adjust,
    detect_drift,
    detect_outliers,
    group_statistics,
)
from pytest_oscura.aggregate.significance import outlier_p_values
from pytest_oscura.records import CaptureRecord
from tests.unit._batches import baseline_values, batch
from tests.unit.aggregate._records import inject, value


class TestBenjaminiHochberg:
    def test_textbook_example(self):
        p = [0.01, 0.04, 0.03, 0.005, 0.5]
        # sorted 0.005 0.01 0.03 0.04 0.5 vs k·0.05/5 = 0.01 0.02 0.03 0.04 0.05
        assert benjamini_hochberg(p, 0.05).tolist() == [True, True, True, True, False]
        # q = 0.03: 0.006 0.012 0.018 0.024 0.03 → the two smallest
        assert benjamini_hochberg(p, 0.03).tolist() == [True, False, False, True, False]
        assert not benjamini_hochberg(p, 0.01).any()

    def test_adjusted_agrees_with_rejections(self):
        p = np.random.default_rng(0).uniform(size=200) ** 3
        for q in (0.01, 0.05, 0.2):
            assert ((bh_adjust(p) <= q) == benjamini_hochberg(p, q)).all()

    def test_ties_are_rejected_together(self):
        p = [0.02, 0.9, 0.02, 0.01, 0.02]
        # sorted 0.01 0.02 0.02 0.02 0.9 vs k·0.03/5 = 0.006 0.012 0.018 0.024 0.03: the tie
        # fails at ranks 2 and 3 but passes at rank 4, so all three ties are rejected
        assert benjamini_hochberg(p, 0.03).tolist() == [True, False, True, True, True]
        assert not benjamini_hochberg(p, 0.02).any()
        adjusted = bh_adjust(p)
        assert adjusted[0] == adjusted[2] == adjusted[4] == adjusted[3] == pytest.approx(0.025)

    def test_independent_of_order(self):
        p = np.random.default_rng(1).uniform(size=50) ** 4
        p[10:15] = p[3]  # ties
        order = np.random.default_rng(2).permutation(p.size)
        assert (bh_adjust(p[order]) == bh_adjust(p)[order]).all()

    def test_empty(self):
        assert benjamini_hochberg([], 0.01).size == 0
        assert bh_adjust([]).size == 0


def test_rank_tests_agree_with_scipy() -> None:
    import numpy as np
    from scipy import stats

    from pytest_oscura.aggregate import mann_whitney_p, wilcoxon_p

    rng = np.random.default_rng(3)
    for _ in range(20):
        x = np.round(rng.normal(0.0, 1.0, 40), 1)  # rounding makes ties
        y = np.round(rng.normal(0.3, 1.0, 35), 1)
        expected = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic").pvalue
        assert mann_whitney_p(x, y) == pytest.approx(expected, rel=1e-9)
        d = np.round(rng.normal(0.2, 1.0, 30), 1)
        expected = stats.wilcoxon(
            d, alternative="two-sided", method="approx", correction=False
        ).pvalue
        assert wilcoxon_p(d) == pytest.approx(expected, rel=1e-9)


class TestOneBenjaminiHochbergForBothChecks:
    """Outliers and drift both reject where ``bh_adjust(p) <= q``, over all their tests at once."""

    def test_outliers_reject_where_bh_adjust_over_all_cells_allows(self):
        records = inject(
            batch(1, n=40, groups=("a", "b"), measurements=("m0", "m1")),
            [(3, "m0", 0.1), (7, "m1", 0.075), (45, "m0", 0.15), (60, "m1", 0.08)],
        )
        cells: dict[tuple[str, str], list[CaptureRecord]] = {}
        for r in records:
            for name in r.measurements:
                cells.setdefault((r.group, name), []).append(r)
        scores, p_values, keys = [], [], []
        for (_, name), members in sorted(cells.items()):
            x = np.array([value(r, name) for r in sorted(members, key=lambda r: r.key)])
            z = (x - x.mean()) / x.std(ddof=1)
            scores.append(z)
            p_values.append(outlier_p_values(z, "zscore"))
            keys += [(r.key, name) for r in sorted(members, key=lambda r: r.key)]
        z_all, p_all = np.concatenate(scores), np.concatenate(p_values)
        sizes = []
        for fdr in (0.001, 0.01, 0.2):
            config = AggregateConfig(outlier_fdr=fdr)
            result = detect_outliers(records, "zscore", config=config)
            beyond = np.abs(z_all) > config.zscore_threshold
            expected = {keys[i] for i in np.flatnonzero((bh_adjust(p_all) <= fdr) & beyond)}
            assert {(o["key"], o["measurement"]) for o in result["flagged"]} == expected
            assert result["tested"] == p_all.size
            sizes.append(len(expected))
        assert sizes == [1, 1, 4]  # the FDR decides: a strict one flags only the largest

    def test_drift_adjusts_every_test_together(self):
        old = batch(1, n=60, groups=("a", "b"))
        new = batch(2, n=60, groups=("a", "b"), scale=1.002)
        result = detect_drift(new, group_statistics(old), baseline_values(old))
        tests: list[DriftCell | PairedTest] = []
        for cell in result["cells"]:
            tests.append(cell)
            if cell["paired"] is not None:
                tests.append(cell["paired"])
        p_values = [t["p_value"] for t in tests if t["p_value"] is not None]
        adjusted = [t["p_adjusted"] for t in tests if t["p_value"] is not None]
        assert len(p_values) == 2 * len(result["cells"])  # population and paired test each
        assert adjusted == bh_adjust(p_values).tolist()
        assert all(t["p_adjusted"] is None for t in tests if t["p_value"] is None)
