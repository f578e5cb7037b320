"""Suite config: parsing, validation messages, rule resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_oscura.config import (
    DEFAULT_REL_TOLERANCE,
    Limit,
    Tolerance,
    load_suite_config,
)
from pytest_oscura.errors import ConfigError

GOOD = """
[defaults]
sample_rate_hz = 1e6
measurements = ["mean", "vpp"]
tolerance = { rel = 0.01 }

[tolerances]
mean = { abs = 0.005 }

[limits]
vpp = { min = 1.0, max = 3.0 }

[[rules]]
match = "rails/*"
group = "rails"
measurements = ["basic"]
limits = { mean = { min = 3.2 } }

[[rules]]
match = ["rails/vdd.npy::CH2"]
tolerances = { mean = { rel = 0.5 } }
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "oscura.toml").write_text(text)
    return tmp_path


def test_absent_file_gives_defaults(tmp_path: Path) -> None:
    suite = load_suite_config(tmp_path)
    config = suite.for_capture("a.npy", "CH1")
    assert config.measurements is None
    assert config.sample_rate_hz is None
    assert config.tolerance_for("rms") == Tolerance(abs=1e-12, rel=DEFAULT_REL_TOLERANCE)


def test_rules_apply_in_order_and_merge(tmp_path: Path) -> None:
    suite = load_suite_config(write(tmp_path, GOOD))
    other = suite.for_capture("clocks/clk.npy", "CH1")
    assert other.measurements == ("mean", "vpp")
    assert other.group is None
    assert other.tolerance_for("vpp") == Tolerance(rel=0.01)
    assert other.tolerance_for("mean") == Tolerance(abs=0.005)
    rail = suite.for_capture("rails/vdd.npy", "CH1")
    assert rail.group == "rails"
    assert rail.measurements == ("mean", "rms", "ac_rms", "min", "max", "vpp")
    assert rail.limits == {"vpp": Limit(1.0, 3.0), "mean": Limit(3.2, None)}
    assert rail.sample_rate_hz == 1e6
    assert rail.tolerance_for("mean") == Tolerance(abs=0.005)
    assert suite.for_capture("rails/vdd.npy", "CH2").tolerance_for("mean") == Tolerance(rel=0.5)


def test_tolerance_rule() -> None:
    tolerance = Tolerance(abs=0.1, rel=0.01)
    assert tolerance.allows(10.2, 10.0)
    assert not tolerance.allows(10.21, 10.0)
    assert tolerance.describe("V") == "±0.1 V + 1 %"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[defaults]\nsample_rate = 1",
            r"unknown key 'defaults.sample_rate'; allowed: .*sample_rate_hz",
        ),
        ("[default]\n", r"unknown key 'default'; allowed: defaults, limits, rules, tolerances"),
        ("[defaults]\nsample_rate_hz = -5", r"'sample_rate_hz' must be > 0, got -5"),
        (
            "[defaults]\nmeasurements = ['rms', 'wobble']",
            r"unknown measurement or profile 'wobble'",
        ),
        (
            "[tolerances]\nrms = { relative = 0.1 }",
            r"unknown key 'tolerances.rms.relative'; allowed: abs, rel",
        ),
        ("[tolerances]\nwobble = { rel = 0.1 }", r"unknown measurement 'tolerances.wobble'"),
        ("[tolerances]\nrms = { rel = -0.1 }", r"'tolerances.rms.rel' must be ≥ 0"),
        ("[limits]\nrms = { min = 2, max = 1 }", r"'limits.rms' has min 2.0 > max 1.0"),
        ("[[rules]]\ngroup = 'x'", r"rules\[0\].match is required"),
        ("[[rules]]\nmatch = 3", r"rules\[0\].match must be a glob string"),
        ("[defaults\n", r"invalid TOML"),
    ],
)
def test_validation_names_file_key_and_fix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as excinfo:
        load_suite_config(write(tmp_path, text))
    assert str(excinfo.value).startswith(str(tmp_path / "oscura.toml"))
