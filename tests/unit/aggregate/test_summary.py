"""The batch summary (the JSON report's ``summary``) and its terminal text."""

from __future__ import annotations

import dataclasses
import json
import random

import pytest

from pytest_oscura.aggregate import format_summary, group_statistics, parse_gate, summarize
from pytest_oscura.records import CaptureRecord
from tests.unit._batches import baseline_values, batch, with_value
from tests.unit.aggregate._records import inject, value


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
