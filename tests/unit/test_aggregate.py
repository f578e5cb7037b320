"""Session aggregation: statistics, outliers, drift, gate and the batch summary."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pytest

from pytest_oscura import aggregate
from pytest_oscura.aggregate import (
    AggregateConfig,
    GateSpec,
    benjamini_hochberg,
    bh_adjust,
    detect_drift,
    detect_outliers,
    evaluate_gate,
    format_summary,
    group_statistics,
    outcome_counts,
    parse_gate,
    summarize,
)
from pytest_oscura.records import CaptureRecord
from tests.unit._batches import MEASUREMENTS, baseline_values, batch, with_value

FDR = aggregate.DEFAULT_CONFIG.outlier_fdr


def record(
    key: str, group: str = "g", outcome: str = "passed", **values: float | None
) -> CaptureRecord:
    return CaptureRecord(
        key=key, root="r", group=group, channel="CH1", measurements=values, outcome=outcome
    )


def values_records(
    values: Sequence[float], name: str = "x", group: str = "g"
) -> list[CaptureRecord]:
    return [
        CaptureRecord(f"c{i:03d}.npy::CH1", "r", group, "CH1", measurements={name: float(v)})
        for i, v in enumerate(values)
    ]


def value(r: CaptureRecord, name: str) -> float:
    found = r.measurements[name]
    assert found is not None
    return found


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


def inject(
    records: Sequence[CaptureRecord], targets: Iterable[tuple[int, str, float]]
) -> list[CaptureRecord]:
    """Move capture ``index`` measurement ``name`` by ``factor`` (relative)."""
    records = list(records)
    for index, name, factor in targets:
        old = records[index]
        records[index] = with_value(old, name, value(old, name) * (1 + factor))
    return records


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


class TestDrift:
    def setup_method(self):
        self.old = batch(1, n=200, groups=("a", "b"))
        self.stats = group_statistics(self.old)
        self.values = baseline_values(self.old)

    def flagged(self, result: dict[str, Any]) -> set[tuple[str, str]]:
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
            for name, value in r.measurements.items():
                assert value is not None
                assert abs(value - base[name]) < tolerance * abs(base[name])  # no item fails
        result = detect_drift(new, stats, values)
        assert self.flagged(result) == {(g, m) for g in "ab" for m in MEASUREMENTS}
        cell = result["cells"][0]
        assert cell["paired"]["consistency"] > 0.95
        assert cell["paired"]["median_delta_pct"] == pytest.approx(0.4, abs=0.05)
        assert abs(cell["shift_sigma"]) < 0.5  # the population view alone misses it
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
        assert result["cells"][0]["paired"]["n_changed"] == 0

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


class TestGate:
    @pytest.mark.parametrize(
        ("spec", "expected"),
        [
            ("none", GateSpec()),
            (" NONE ", GateSpec()),
            ("outliers", GateSpec(outliers=True)),
            ("drift, outliers", GateSpec(outliers=True, drift=True)),
            ("outliers,drift,quality>=95", GateSpec(True, True, 95.0)),
            ("quality >= 99.5", GateSpec(min_quality=99.5)),
        ],
    )
    def test_grammar(self, spec, expected):
        assert parse_gate(spec) == expected

    def test_text_round_trip(self):
        assert parse_gate("quality>=95,drift,outliers").text == "outliers,drift,quality>=95"
        assert GateSpec().text == "none"

    @pytest.mark.parametrize(
        ("spec", "message"),
        [
            ("", "empty gate specification"),
            ("bogus", "unknown gate item 'bogus'"),
            ("outliers,,drift", "unknown gate item ''"),
            ("quality", r"write the minimum percentage as quality>=N"),
            ("quality>95", r"write the minimum percentage as quality>=N"),
            ("quality>=abc", "'abc' is not a number"),
            ("quality>=101", "between 0 and 100"),
            ("none,drift", "'none' cannot be combined"),
            ("drift,drift", "'drift' given twice"),
            ("quality>=90,quality>=95", "'quality' given twice"),
        ],
    )
    def test_grammar_errors(self, spec, message):
        with pytest.raises(ValueError, match=message):
            parse_gate(spec)

    def summary(self, **counts: int) -> dict[str, Any]:
        base: dict[str, Any] = {"total": 100, "passed": 100, "failed": 0, "error": 0, "skipped": 0}
        base.update(counts)
        ran = base["total"] - base["skipped"]
        base["quality"] = 100 * base["passed"] / ran if ran else None
        return {
            "counts": base,
            "outliers": {"method": "mad", "flagged": []},
            "drift": {"available": True, "cells": []},
        }

    def test_quality(self):
        verdict = evaluate_gate(self.summary(passed=93, failed=7), parse_gate("quality>=95"))
        assert verdict == {
            "spec": "quality>=95",
            "passed": False,
            "reasons": ["quality 93.0 % < 95 % (93 of 100 captures passed)"],
            "notes": [],
        }
        assert evaluate_gate(self.summary(passed=95, failed=5), parse_gate("quality>=95"))["passed"]

    def test_quality_without_captures(self):
        verdict = evaluate_gate(self.summary(total=0, passed=0), parse_gate("quality>=1"))
        assert verdict["reasons"] == ["quality: no captures ran"]

    def test_none_always_passes(self):
        assert evaluate_gate(self.summary(passed=0, failed=100), parse_gate("none"))["passed"]

    def test_drift_without_baseline_is_a_note(self):
        summary = self.summary()
        summary["drift"] = {"available": False, "cells": []}
        verdict = evaluate_gate(summary, GateSpec(drift=True))
        assert verdict["passed"]
        assert verdict["notes"] == ["drift: no baseline statistics, nothing to judge"]


class TestSummary:
    def night(self) -> tuple[list[CaptureRecord], list[CaptureRecord]]:
        old = batch(1, n=300, groups=("clocks", "rails"))
        new = inject(batch(2, n=300, groups=("clocks", "rails")), [(17, "m0", 0.3)])
        new = [with_value(r, "m5", value(r, "m5") * 1.004) for r in new]
        new[3] = dataclasses.replace(new[3], outcome="failed")
        new[4] = dataclasses.replace(new[4], outcome="error", measurements={})
        new[5] = dataclasses.replace(new[5], outcome="skipped")
        return old, new

    def test_summary_schema_and_json(self):
        old, new = self.night()
        summary = summarize(
            new,
            group_statistics(old),
            baseline_values(old),
            "mad",
            parse_gate("outliers,drift,quality>=99"),
        )
        assert set(summary) == {"counts", "groups", "outliers", "drift", "gate", "notes"}
        assert summary["counts"]["failed"] == 1
        assert summary["counts"]["quality"] == pytest.approx(100 * 597 / 599)
        clocks = summary["groups"]["clocks"]
        assert clocks["counts"]["total"] == 300
        assert clocks["units"]["m0"] == ""  # not in the registry: no unit
        assert clocks["measurements"]["m0"]["n"] == 298  # failed counts, error and skipped do not
        assert [o["key"] for o in summary["outliers"]["flagged"]] == ["clocks/cap_0017.npz::CH1"]
        drifted = {
            (c["group"], c["measurement"]) for c in summary["drift"]["cells"] if c["flagged"]
        }
        assert drifted == {("clocks", "m5"), ("rails", "m5")}
        assert summary["gate"]["passed"] is False
        assert [r.split(":")[0] for r in summary["gate"]["reasons"]] == ["outliers", "drift"]
        json.dumps(summary, allow_nan=False)

    def test_independent_of_record_order(self):
        old, new = self.night()
        reference = summarize(
            new, group_statistics(old), baseline_values(old), "mad", parse_gate("drift")
        )
        shuffled = list(new)
        random.Random(4).shuffle(shuffled)
        old_shuffled = list(old)
        random.Random(5).shuffle(old_shuffled)
        again = summarize(
            shuffled,
            group_statistics(old_shuffled),
            baseline_values(old_shuffled),
            "mad",
            parse_gate("drift"),
        )
        assert json.dumps(again, sort_keys=False) == json.dumps(reference, sort_keys=False)
        assert format_summary(again) == format_summary(reference)

    def test_format(self):
        old, new = self.night()
        new = [
            dataclasses.replace(r, measurements={"rms": r.measurements.get("m0"), **r.measurements})
            for r in new
        ]
        summary = summarize(
            new,
            group_statistics(old),
            baseline_values(old),
            "mad",
            parse_gate("outliers,quality>=50"),
            notes=["worker gw1 crashed; its captures are missing"],
        )
        lines = format_summary(summary, width=80)
        assert lines[0] == "Batch Summary Report — 600 captures, 2 groups"
        assert lines[1] == "Passed 597 · failed 1 · errors 1 · skipped 1 · quality 99.7 %"
        assert "[clocks] 300 captures, success 99.3 %" in lines
        rms = next(line for line in lines if line.startswith("  rms"))
        assert " V ± " in rms
        assert "median" in rms
        assert "outliers 1 (0.3 %)" in rms
        assert any(line.startswith("  m0  ") and " V" not in line for line in lines)
        deviations = next(line for line in lines if line.startswith("Largest deviations:"))
        assert "clocks/cap_0017.npz::CH1" in deviations
        assert "robust z" in deviations
        assert any(
            line.startswith("Outliers: 2 flagged in 6578 values — FDR 1 %") for line in lines
        )
        assert any(line.startswith("Drift: 2 of 20 measurements drifted") for line in lines)
        assert "Note: worker gw1 crashed; its captures are missing" in lines
        gate = lines.index("Gate: FAILED (outliers,quality>=50)")
        assert lines[gate + 1].startswith("  outliers: 2 flagged, largest")
        assert all(line.startswith("    ") for line in lines[gate + 2 :])  # wrapped reason
        assert all(len(line) <= 80 for line in lines if not line.startswith("  "))

    def test_format_passing_gate_and_no_baseline(self):
        summary = summarize(batch(1, n=30), None, None, "none", parse_gate("none"))
        lines = format_summary(summary)
        assert "Outliers: detection off" in lines
        assert "Drift: no baseline statistics to compare with" in lines
        assert lines[-1] == "Gate: passed (none)"

    def test_empty_run(self):
        summary = summarize([], None, None, "mad", parse_gate("quality>=90"))
        lines = format_summary(summary)
        assert lines[0] == "Batch Summary Report — 0 captures, 0 groups"
        assert summary["gate"]["reasons"] == ["quality: no captures ran"]

    def test_bad_gate_raises(self):
        with pytest.raises(ValueError, match="unknown gate item"):
            summarize([], gate_spec=parse_gate("outlier"))


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
