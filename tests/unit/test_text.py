"""The one number formatter, in the forms its call sites use."""

from __future__ import annotations

import pytest

from pytest_oscura._text import format_number


class TestFormatNumber:
    @pytest.mark.parametrize(
        ("args", "expected"),
        [
            ((1.23456789, 5, "V"), "1.2346 V"),  # summary: mean and median
            ((0.000123456, 3, "V"), "0.000123 V"),  # summary: std
            ((1234567.0, 5), "1.2346e+06"),  # compare CLI: medians, unit printed apart
            ((2.5,), "2.5"),  # failure table: 6 digits by default
            ((0.1 + 0.2,), "0.3"),
            ((-1e-300, 6, "s"), "-1e-300 s"),
        ],
    )
    def test_significant_digits_and_unit(self, args, expected):
        assert format_number(*args) == expected

    def test_missing_value(self):
        assert format_number(None) == "—"
        assert format_number(None, 5, "V") == "—"  # no unit after the dash
        assert format_number(None, missing="n/a") == "n/a"  # the failure table's spelling

    def test_nonfinite(self):
        assert format_number(float("nan"), 5, "V") == "nan V"
        assert format_number(float("-inf")) == "-inf"
