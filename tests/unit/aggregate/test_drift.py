"""Drift of tonight's batch against the baseline population."""

from __future__ import annotations

import dataclasses

import pytest

from pytest_oscura.aggregate import (
    AggregateConfig,
    DriftCell,
    DriftResult,
    PairedTest,
    detect_drift,
    group_statistics,
)
from tests.unit._batches import MEASUREMENTS, baseline_values, batch, with_value
from tests.unit.aggregate._records import record, value


def paired(cell: DriftCell) -> PairedTest:
    found = cell["paired"]
    assert found is not None
    return found


def number(found: float | None) -> float:
    assert found is not None
    return found


class TestDrift:
    def setup_method(self):
        self.old = batch(1, n=200, groups=("a", "b"))
        self.stats = group_statistics(self.old)
        self.values = baseline_values(self.old)

    def flagged(self, result: DriftResult) -> set[tuple[str, str]]:
        return {(c["group"], c["measurement"]) for c in result["cells"] if c["flagged"]}

    def test_no_baseline(self):
        result = detect_drift(self.old, None)
        assert result["available"] is False
        assert result["cells"] == []

    def test_clean_night_is_quiet(self):
        for seed in (2, 3, 4):
            new = batch(seed, n=200, groups=("a", "b"))
            assert self.flagged(detect_drift(new, self.stats, self.values)) == set()
            assert self.flagged(detect_drift(new, self.stats)) == set()

    def test_every_capture_moved_by_eight_tenths_of_its_tolerance(self):
        # Tolerance 0.5 % relative per capture; every capture moved by 0.4 %. No item fails,
        # and the population spread (2 %) hides the shift from a two-sample test.
        tolerance = 0.005
        old = batch(1, n=200, groups=("a", "b"), noise=0.0001)
        stats, values = group_statistics(old), baseline_values(old)
        new = batch(2, n=200, groups=("a", "b"), noise=0.0001, scale=1 + 0.8 * tolerance)
        for r in new:
            base = values[r.key]["measurements"]
            for name, measured in r.measurements.items():
                expected = base[name]
                assert measured is not None
                assert expected is not None
                assert abs(measured - expected) < tolerance * abs(expected)  # no item fails
        result = detect_drift(new, stats, values)
        assert self.flagged(result) == {(g, m) for g in "ab" for m in MEASUREMENTS}
        cell = result["cells"][0]
        assert number(paired(cell)["consistency"]) > 0.95
        assert paired(cell)["median_delta_pct"] == pytest.approx(0.4, abs=0.05)
        assert abs(number(cell["shift_sigma"])) < 0.5  # the population view alone misses it
        assert "moved the same way" in cell["reasons"][0]

    def test_population_shift_with_statistics_only(self):
        new = batch(2, n=200, groups=("a", "b"), scale=1.03, prefix="other")
        result = detect_drift(new, self.stats)
        assert self.flagged(result) == {(g, m) for g in "ab" for m in MEASUREMENTS}
        assert {c["test"] for c in result["cells"]} == {"median-z"}

    def test_population_shift_with_values_uses_mann_whitney(self):
        new = batch(2, n=200, groups=("a",), scale=1.03, prefix="other")  # no paired keys
        result = detect_drift(new, self.stats, self.values)
        assert self.flagged(result) == {("a", m) for m in MEASUREMENTS}
        assert {c["test"] for c in result["cells"]} == {"mannwhitneyu"}
        assert all(c["paired"] is None for c in result["cells"])

    def test_shift_in_one_measurement_only(self):
        new = [with_value(r, "m3", value(r, "m3") * 1.002) for r in batch(2, n=200)]
        new = [dataclasses.replace(r, group="a", key=r.key.replace("rails", "a")) for r in new]
        assert self.flagged(detect_drift(new, self.stats, self.values)) == {("a", "m3")}

    def test_small_groups_are_insufficient(self):
        new = batch(2, n=5, groups=("a",), scale=1.1, prefix="other")
        result = detect_drift(new, self.stats, self.values)
        assert {c["status"] for c in result["cells"]} == {"insufficient"}
        assert self.flagged(result) == set()

    def test_new_group_and_measurement(self):
        new = [record("x", "c", m0=1.0), record("y", "a", fresh=2.0)]
        statuses = {
            (c["group"], c["measurement"]): c["status"]
            for c in detect_drift(new, self.stats)["cells"]
        }
        assert statuses == {("a", "fresh"): "new", ("c", "m0"): "new"}

    def test_constant_baseline(self):
        old = [record(f"k{i}", rate=1e6) for i in range(20)]
        same = detect_drift(old, group_statistics(old), baseline_values(old))
        assert same["flagged_count"] == 0
        moved = [record(f"k{i}", rate=1.001e6) for i in range(20)]
        result = detect_drift(moved, group_statistics(old), baseline_values(old))
        assert result["flagged_count"] == 1

    def test_identical_rerun_is_not_drift(self):
        result = detect_drift(self.old, self.stats, self.values)
        assert result["flagged_count"] == 0
        assert paired(result["cells"][0])["n_changed"] == 0

    def test_statistics_derived_from_values(self):
        new = batch(2, n=200, groups=("a",), scale=1.03, prefix="other")
        assert detect_drift(new, None, self.values)["flagged_count"] == len(MEASUREMENTS)

    def test_thresholds_configurable(self):
        new = batch(2, n=200, groups=("a",), scale=1.006, prefix="other")  # ~0.3 sigma
        assert detect_drift(new, self.stats, self.values)["flagged_count"] == 0
        config = AggregateConfig(drift_shift_sigma=0.1, drift_alpha=0.05)
        assert detect_drift(new, self.stats, self.values, config=config)["flagged_count"] > 0

    def test_bad_config(self):
        with pytest.raises(ValueError, match="drift_alpha"):
            AggregateConfig(drift_alpha=1.5)
