"""Outlier detection with the false discovery rate controlled over the run."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_oscura import aggregate
from pytest_oscura.aggregate import AggregateConfig, detect_outliers
from tests.unit._batches import MEASUREMENTS, batch
from tests.unit.aggregate._records import inject, values_records

FDR = aggregate.DEFAULT_CONFIG.outlier_fdr


class TestOutliers:
    TARGETS = ((3, "m0", 0.25), (77, "m4", -0.20), (150, "m9", 0.15), (420, "m2", 0.3))

    @pytest.mark.parametrize("method", ["mad", "iqr", "zscore"])
    def test_injected_outliers_are_flagged(self, method):
        records = inject(batch(1, n=300, groups=("a", "b")), self.TARGETS)
        result = detect_outliers(records, method)
        flagged = {(o["key"], o["measurement"]) for o in result["flagged"]}
        expected = {(records[i].key, name) for i, name, _ in self.TARGETS}
        assert flagged == expected
        assert result["tested"] == 2 * 300 * len(MEASUREMENTS)
        assert result["counts"]["b"]["m2"] == 1
        big = next(o for o in result["flagged"] if o["measurement"] == "m0")
        assert big["deviation_pct"] == pytest.approx(25, abs=6)
        assert big["score"] > 5

    @pytest.mark.parametrize("method", ["mad", "iqr", "zscore"])
    def test_clean_batches_stay_within_the_false_alarm_rate(self, method):
        # BH at FDR q on clean data flags anything at all with probability <= q (about 1 %).
        runs = 12
        noisy_runs = sum(
            detect_outliers(batch(seed, n=300, noise=0.01), method)["flagged_count"] > 0
            for seed in range(100, 100 + runs)
        )
        assert noisy_runs <= 1, f"{noisy_runs} of {runs} clean runs flagged outliers"

    def test_clean_small_groups_stay_quiet(self):
        # 40 groups of 6: normal p-values of the robust z would flag in nearly every run.
        groups = tuple(f"g{i:02d}" for i in range(40))
        noisy = sum(
            detect_outliers(batch(seed, n=6, groups=groups, noise=0.01), "mad")["flagged_count"] > 0
            for seed in range(5)
        )
        assert noisy <= 1

    def test_per_value_false_alarm_rate_with_fixed_thresholds_would_be_higher(self):
        # Sanity of the premise: at a fixed |z| > 3.5 alone, a clean 6000-value run has hits.
        records = batch(7, n=300, groups=("a", "b"), noise=0.01)
        result = detect_outliers(records, "mad")
        assert result["flagged_count"] <= FDR * result["tested"]
        values = np.array([[r.measurements[m] for m in MEASUREMENTS] for r in records[:300]])
        med = np.median(values, axis=0)
        mad = np.median(np.abs(values - med), axis=0)
        assert (np.abs(0.6745 * (values - med) / mad) > 3.5).sum() > 0

    def test_too_few_values_skipped(self):
        result = detect_outliers(values_records([1.0, 1.0, 50.0]), "mad")
        assert result["flagged"] == []
        assert result["skipped"] == [
            {"group": "g", "measurement": "x", "n": 3, "reason": "fewer than 4 values"}
        ]

    def test_mad_zero_falls_back_to_mean_absolute_deviation(self):
        result = detect_outliers(values_records([1.0] * 60 + [1.5]), "mad")
        assert [o["key"] for o in result["flagged"]] == ["c060.npy::CH1"]
        assert result["scale_fallback"] == ["g/x"]

    def test_iqr_zero_falls_back(self):
        result = detect_outliers(values_records([1.0] * 60 + [1.5]), "iqr")
        assert [o["key"] for o in result["flagged"]] == ["c060.npy::CH1"]

    @pytest.mark.parametrize("method", ["mad", "iqr", "zscore"])
    def test_identical_values_skipped(self, method):
        result = detect_outliers(values_records([0.0] * 20), method)
        assert result["flagged"] == []
        assert result["skipped"][0]["reason"] == "all values identical"

    @pytest.mark.parametrize("method", ["mad", "iqr", "zscore"])
    def test_float_noise_is_not_an_outlier(self, method):
        values = [1.0] * 50 + [1.0 + 2.2e-16, 1.0 - 1.1e-16, 1.0 + 4.4e-16]
        assert detect_outliers(values_records(values), method)["flagged"] == []

    def test_none_method(self):
        result = detect_outliers(inject(batch(1, n=50), [(0, "m0", 1.0)]), "none")
        assert result["flagged"] == []
        assert result["control"] == "outlier detection off (method none)"

    def test_unknown_method(self):
        with pytest.raises(ValueError, match="unknown outlier method 'grubbs'; choose one of"):
            detect_outliers([], "grubbs")

    def test_control_text_states_fdr(self):
        text = detect_outliers(batch(1, n=20), "mad")["control"]
        assert text.startswith("FDR 1 % (Benjamini–Hochberg")
        assert "200 values tested" in text

    def test_stricter_fdr_config(self):
        records = inject(batch(1, n=300), [(5, "m1", 0.02)])  # ~1 % move: about 3 sigma
        loose = detect_outliers(records, "mad", config=AggregateConfig(outlier_fdr=0.2))
        strict = detect_outliers(records, "mad", config=AggregateConfig(outlier_fdr=1e-6))
        assert strict["flagged_count"] <= loose["flagged_count"]


def test_extreme_values_give_finite_scores() -> None:
    """Scores are computed on values divided by a power of two: 1e300 cannot overflow them."""
    import json

    values = [1.0 + 0.01 * i for i in range(20)] + [1e300]
    with np.errstate(over="raise", invalid="raise"):
        result = detect_outliers(values_records(values))
    assert [o["key"] for o in result["flagged"]] == ["c020.npy::CH1"]
    json.dumps(result, allow_nan=False)
