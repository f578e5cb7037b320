"""Collecting values per (group, measurement): statistics and outcome counts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pytest_oscura.aggregate import group_statistics, mixed_unit_groups, outcome_counts, unit_group
from tests.unit.aggregate._records import record, values_records


class TestGroupStatistics:
    def test_known_values(self):
        records = values_records([3.0, 1.0, 100.0, 2.0, 4.0])
        stats = group_statistics(records)["g"]["x"]
        assert stats == {
            "n": 5,
            "n_not_applicable": 0,
            "n_nonfinite": 0,
            "mean": 22.0,
            "std": pytest.approx(float(np.std([1, 2, 3, 4, 100], ddof=1))),
            "min": 1.0,
            "q1": 2.0,
            "median": 3.0,
            "q3": 4.0,
            "max": 100.0,
            "mad": 1.0,
        }

    def test_not_applicable_nonfinite_and_outcomes(self):
        records = [
            record("a", x=1.0),
            record("b", x=None),
            record("c", x=float("nan")),
            record("d", outcome="failed", x=3.0),
            record("e", outcome="error", x=1000.0),
            record("f", outcome="skipped", x=1000.0),
        ]
        stats = group_statistics(records)["g"]["x"]
        assert (stats["n"], stats["n_not_applicable"], stats["n_nonfinite"]) == (2, 1, 1)
        assert stats["max"] == 3.0

    def test_only_not_applicable_gives_none(self):
        stats = group_statistics([record("a", x=None)])["g"]["x"]
        assert stats["n"] == 0
        assert stats["median"] is None
        assert stats["mean"] is None

    def test_single_value_std_zero_and_json(self):
        stats = group_statistics([record("a", x=2.5)])
        assert stats["g"]["x"]["std"] == 0.0
        json.dumps(stats, allow_nan=False)

    @pytest.mark.parametrize(
        "values",
        [[3.0, 1.0, 100.0, 2.0, 4.0], [1e-3, 2.5e-3, -7e-4], [3.3] * 4, [1e-12, 3e-12, 2.5e-12]],
    )
    def test_scaling_is_exact(self, values):
        """Dividing by a power of two is exact: ordinary values give numpy's numbers bit for bit."""
        x = np.asarray(values)
        stats = group_statistics(values_records(values))["g"]["x"]
        assert stats["mean"] == float(np.mean(x))
        assert stats["std"] == float(np.std(x, ddof=1))
        assert stats["median"] == float(np.median(x))
        assert stats["mad"] == float(np.median(np.abs(x - np.median(x))))

    def test_extreme_values_stay_finite(self):
        """PITFALLS 21: one capture with a 1e300 sample must not make any statistic infinite."""
        with np.errstate(all="raise"):  # no overflow anywhere, not even a silent one
            stats = group_statistics(values_records([1e300, 1.0, 2.0, 1.7e308, 1.7e308]))
        x = stats["g"]["x"]
        assert x["std"] == pytest.approx(
            float(np.std(np.array([1e300, 1, 2, 1.7e308, 1.7e308]) / 1e300, ddof=1)) * 1e300
        )
        assert x["mean"] == pytest.approx(1.7e308 / 5 * 2 + 1e300 / 5)
        json.dumps(stats, allow_nan=False)

    def test_a_statistic_beyond_the_float_range_is_none(self):
        stats = group_statistics(values_records([-1.7e308, 1.7e308]))["g"]["x"]
        assert stats["std"] is None  # 2.4e308 has no float
        assert stats["mean"] == 0.0
        json.dumps(stats, allow_nan=False)

    def test_groups_and_measurements_sorted(self):
        records = [record("a", "zeta", b=1.0, a=2.0), record("b", "alpha", c=1.0)]
        stats = group_statistics(records)
        assert list(stats) == ["alpha", "zeta"]
        assert list(stats["zeta"]) == ["a", "b"]


class TestOutcomeCounts:
    def test_quality_excludes_skipped(self):
        outcomes = ["passed"] * 7 + ["failed", "error", "skipped", "weird"]
        counts = outcome_counts(record(str(i), outcome=o) for i, o in enumerate(outcomes))
        assert counts == {
            "total": 11,
            "passed": 7,
            "failed": 1,
            "error": 2,  # the unknown outcome counts as an error
            "skipped": 1,
            "quality": 70.0,
        }

    def test_nothing_ran(self):
        assert outcome_counts([record("a", outcome="skipped")])["quality"] is None


class TestUnitGroups:
    def test_only_groups_with_several_units_are_mixed(self):
        pairs = [("adc", "V"), ("adc", "bit"), ("rails", "V"), ("rails", "V"), ("clk", "")]
        assert mixed_unit_groups(pairs) == {"adc"}
        assert mixed_unit_groups([]) == set()

    def test_a_mixed_group_is_split_by_unit(self):
        assert unit_group("adc", "bit", {"adc"}) == "adc [bit]"
        assert unit_group("rails", "V", {"adc"}) == "rails"
