"""Verdicts and failure text."""

from __future__ import annotations

from pytest_oscura.compare import compare, format_failures
from pytest_oscura.config import CaptureConfig, Limit, Tolerance

UNITS = {"mean": "V", "rms": "V", "frequency": "Hz"}


def config(**kwargs: object) -> CaptureConfig:
    return CaptureConfig(tolerance=Tolerance(rel=0.01), **kwargs)  # type: ignore[arg-type]


def test_within_tolerance_passes_and_outside_fails() -> None:
    failures = compare({"mean": 1.009, "rms": 1.02}, {}, {"mean": 1.0, "rms": 1.0}, config(), UNITS)
    assert [(f.measurement, f.kind, f.allowed) for f in failures] == [("rms", "tolerance", "±1 %")]


def test_not_applicable_on_both_sides_passes_one_side_fails() -> None:
    assert (
        compare(
            {"frequency": None}, {"frequency": "constant"}, {"frequency": None}, config(), UNITS
        )
        == []
    )
    now_na = compare(
        {"frequency": None}, {"frequency": "constant signal"}, {"frequency": 50.0}, config(), UNITS
    )
    assert [(f.kind, f.allowed) for f in now_na] == [("applicability", "now n/a: constant signal")]
    was_na = compare({"frequency": 50.0}, {}, {"frequency": None}, config(), UNITS)
    assert [f.kind for f in was_na] == ["applicability"]


def test_missing_measurement_in_baseline_fails() -> None:
    failures = compare({"mean": 1.0, "rms": 1.0}, {}, {"mean": 1.0}, config(), UNITS)
    assert [(f.measurement, f.kind) for f in failures] == [("rms", "missing")]


def test_limits_apply_with_and_without_baseline() -> None:
    limited = config(limits={"mean": Limit(0.0, 1.0)})
    assert [f.kind for f in compare({"mean": 1.5}, {}, None, limited, UNITS)] == ["limit"]
    both = compare({"mean": 1.5}, {}, {"mean": 1.0}, limited, UNITS)
    assert [f.kind for f in both] == ["limit", "tolerance"]
    assert compare({"mean": 0.5}, {}, None, limited, UNITS) == []
    na = compare({"mean": None}, {"mean": "no samples"}, None, limited, UNITS)
    assert na[0].allowed == "spec limit, but no samples"


def test_failure_table_lists_every_failure_with_numbers_and_hint() -> None:
    failures = compare({"mean": 3.4, "rms": 3.4}, {}, {"mean": 3.3, "rms": 3.3}, config(), UNITS)
    text = format_failures("psu/rail.npy::CH1", failures, 2, "Accept with: X")
    lines = text.splitlines()
    assert lines[0] == "psu/rail.npy::CH1: 2 of 2 measurements out of bounds"
    assert lines[1].split() == ["measurement", "value", "baseline", "Δ", "Δ%", "allowed", "unit"]
    assert lines[2].split() == ["mean", "3.4", "3.3", "+0.1", "+3.03", "%", "±1", "%", "V"]
    assert lines[-1] == "Accept with: X"


def test_limit_only_failures_do_not_suggest_accepting() -> None:
    failures = compare({"mean": 2.0}, {}, None, config(limits={"mean": Limit(max=1.0)}), UNITS)
    assert "Accept" not in format_failures("k", failures, 1, "Accept with: X")
