"""The gate: its grammar, and its verdict on a summary."""

from __future__ import annotations

from typing import Any, cast

import pytest

from pytest_oscura.aggregate import DriftResult, Findings, GateSpec, evaluate_gate, parse_gate


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

    def summary(self, **counts: int) -> Findings:
        base: dict[str, Any] = {"total": 100, "passed": 100, "failed": 0, "error": 0, "skipped": 0}
        base.update(counts)
        ran = base["total"] - base["skipped"]
        base["quality"] = 100 * base["passed"] / ran if ran else None
        # Only the keys the gate reads, hence the cast.
        return cast(
            Findings,
            {
                "counts": base,
                "outliers": {"method": "mad", "flagged": []},
                "drift": {"available": True, "cells": []},
            },
        )

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
        summary["drift"] = cast(DriftResult, {"available": False, "cells": []})
        verdict = evaluate_gate(summary, GateSpec(drift=True))
        assert verdict["passed"]
        assert verdict["notes"] == ["drift: no baseline statistics, nothing to judge"]
