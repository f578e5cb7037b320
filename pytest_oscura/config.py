"""The suite config ``oscura.toml`` at a captures root: parsing, validation, per-capture lookup.

Pure: no pytest import. Every problem raises :class:`ConfigError` naming the file, the key and
what is allowed, because the plugin shows it as a usage error without a traceback.

Layout::

    [defaults]                       # applies to every capture below the root
    measurements = ["basic"]         # measurement names and/or profile names
    logic_measurements = ["logic"]   # for logic-analyzer channels
    sample_rate_hz = 1e6             # used when neither the file nor a sidecar gives it
    units = "V"
    full_scale = 1.0                 # value of digital full scale for integer PCM (.wav)
    group = "psu"                    # capture group for aggregation (default: root folder name)
    tolerance = { rel = 1e-9, abs = 1e-12 }   # default tolerance of every measurement

    [tolerances]                     # per measurement: abs (in its unit) and/or rel (fraction)
    rms = { rel = 0.01 }

    [limits]                         # spec limits per measurement: min and/or max
    vpp = { min = 1.0, max = 3.0 }

    [[rules]]                        # later rules override earlier ones and [defaults]
    match = "rails/*.npz"            # glob(s) on the path relative to the root; "...::CH1" also
    measurements = ["rail"]          # matches the channel. "*" matches across folders.
    tolerances = { mean = { abs = 0.01 } }
    limits = { mean = { min = 3.2, max = 3.4 } }
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from pytest_oscura._files import finite_number, special_file
from pytest_oscura.errors import ConfigError

_Parsed = TypeVar("_Parsed")

CONFIG_FILE_NAME = "oscura.toml"

# Re-measuring the same file must reproduce its values to float noise; anything looser is a
# decision the suite makes explicitly in oscura.toml.
DEFAULT_REL_TOLERANCE = 1e-9
DEFAULT_ABS_TOLERANCE = 1e-12

_TOP_LEVEL = {
    "defaults": "settings for every capture",
    "tolerances": "per-measurement tolerance tables",
    "limits": "per-measurement spec limit tables",
    "rules": "array of [[rules]] tables with a 'match' glob",
}
_SETTING_KEYS = {
    "measurements": "list of measurement or profile names",
    "logic_measurements": "list of measurement or profile names for logic channels",
    "sample_rate_hz": "number > 0",
    "units": "non-empty string",
    "full_scale": "number > 0",
    "group": "non-empty string",
    "tolerance": "table with abs and/or rel",
}
_RULE_KEYS = {
    "match": "glob string or list of globs",
    "tolerances": "per-measurement tolerance tables",
    "limits": "per-measurement limit tables",
    **_SETTING_KEYS,
}


@dataclass(frozen=True)
class Tolerance:
    """Allowed deviation from the baseline: |value − baseline| ≤ abs + rel·|baseline|."""

    abs: float = 0.0
    rel: float = 0.0

    def allows(self, value: float, baseline: float) -> bool:
        return abs(value - baseline) <= self.abs + self.rel * abs(baseline)

    def describe(self, unit: str) -> str:
        parts = []
        if self.abs:
            parts.append(f"{self.abs:.4g} {unit}".rstrip())
        if self.rel:
            parts.append(f"{self.rel * 100:.4g} %")
        return "±" + (" + ".join(parts) if parts else "0")


@dataclass(frozen=True)
class Limit:
    """Spec limits of a measurement, inclusive; ``None`` means unbounded on that side."""

    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class CaptureConfig:
    """Everything the suite config says about one capture channel, rules already applied."""

    measurements: tuple[str, ...] | None = None  # None: the engine's default set
    logic_measurements: tuple[str, ...] | None = None
    sample_rate_hz: float | None = None
    units: str | None = None
    full_scale: float | None = None
    group: str | None = None
    tolerance: Tolerance = Tolerance(DEFAULT_ABS_TOLERANCE, DEFAULT_REL_TOLERANCE)
    tolerances: Mapping[str, Tolerance] = field(default_factory=dict)
    limits: Mapping[str, Limit] = field(default_factory=dict)

    def tolerance_for(self, name: str) -> Tolerance:
        return self.tolerances.get(name, self.tolerance)


@dataclass(frozen=True)
class Rule:
    patterns: tuple[str, ...]
    settings: Mapping[str, Any]


@dataclass(frozen=True)
class SuiteConfig:
    """A parsed ``oscura.toml`` (or the empty default when the root has none)."""

    path: Path | None
    defaults: CaptureConfig = CaptureConfig()
    rules: tuple[Rule, ...] = ()

    def for_capture(self, relative_path: str, channel: str) -> CaptureConfig:
        """The config of channel ``channel`` of the capture at ``relative_path`` (posix)."""
        config = self.defaults
        with_channel = f"{relative_path}::{channel}"
        for rule in self.rules:
            if any(
                fnmatch.fnmatchcase(with_channel if "::" in p else relative_path, p)
                for p in rule.patterns
            ):
                config = _apply(config, rule.settings)
        return config


def load_suite_config(root: Path) -> SuiteConfig:
    """Read and validate ``<root>/oscura.toml``; an absent file gives the defaults."""
    path = root / CONFIG_FILE_NAME
    kind = special_file(path)
    if kind is not None:
        raise ConfigError(f"{path}: is {kind}, not a regular file (never read)")
    try:
        with path.open("rb") as stream:
            data = tomllib.load(stream)
    except FileNotFoundError:
        return SuiteConfig(path=None)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply") from None
    except ValueError as exc:  # tomllib.TOMLDecodeError, or an integer of over 4300 digits
        raise ConfigError(f"{path}: invalid TOML ({str(exc).splitlines()[0]})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return parse_suite_config(data, path)
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply") from None


def parse_suite_config(data: Mapping[str, Any], path: Path) -> SuiteConfig:
    _check_keys(data, _TOP_LEVEL, path, "")
    defaults_table = _table(data.get("defaults", {}), path, "defaults")
    _check_keys(defaults_table, _SETTING_KEYS, path, "defaults.")
    settings = dict(defaults_table)
    settings["tolerances"] = data.get("tolerances", {})
    settings["limits"] = data.get("limits", {})
    defaults = _apply(CaptureConfig(), _validated(settings, path, ""))
    rules_list = data.get("rules", [])
    if not isinstance(rules_list, list):
        raise ConfigError(f"{path}: 'rules' must be an array of tables ([[rules]])")
    rules = []
    for index, raw_rule in enumerate(rules_list):
        where = f"rules[{index}]."
        rule = _table(raw_rule, path, f"rules[{index}]")
        _check_keys(rule, _RULE_KEYS, path, where)
        if "match" not in rule:
            raise ConfigError(f"{path}: {where}match is required (a glob such as 'rails/*.npz')")
        patterns = rule["match"]
        patterns = [patterns] if isinstance(patterns, str) else patterns
        if (
            not isinstance(patterns, list)
            or not patterns
            or not all(isinstance(p, str) and p for p in patterns)
        ):
            raise ConfigError(f"{path}: {where}match must be a glob string or a list of globs")
        body = {k: v for k, v in rule.items() if k != "match"}
        rules.append(Rule(tuple(patterns), _validated(body, path, where)))
    return SuiteConfig(path=path, defaults=defaults, rules=tuple(rules))


def _check_keys(
    table: Mapping[str, Any], allowed: Mapping[str, str], path: Path, where: str
) -> None:
    for key in table:
        if key not in allowed:
            choices = ", ".join(sorted(allowed))
            raise ConfigError(f"{path}: unknown key '{where}{key}'; allowed: {choices}")


def _table(value: Any, path: Path, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: '{where}' must be a table")
    return value


def _shown(value: Any) -> str:
    """``repr(value)``, cut to one short line for a message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value: Any, path: Path, where: str, *, positive: bool) -> float:
    if not finite_number(value):
        raise ConfigError(f"{path}: '{where}' must be a finite number, got {_shown(value)}")
    if positive and not value > 0:
        raise ConfigError(f"{path}: '{where}' must be > 0, got {_shown(value)}")
    if not positive and value < 0:
        raise ConfigError(f"{path}: '{where}' must be ≥ 0, got {_shown(value)}")
    return float(value)


def _names(value: Any, path: Path, where: str) -> tuple[str, ...]:
    from pytest_oscura.measurements import expand_names

    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: '{where}' must be a list of measurement or profile names")
    try:
        return expand_names(value)
    except KeyError as exc:
        raise ConfigError(f"{path}: '{where}': {exc.args[0]}") from None


def _tolerance(value: Any, path: Path, where: str) -> Tolerance:
    table = _table(value, path, where)
    _check_keys(table, {"abs": "number ≥ 0", "rel": "number ≥ 0 (fraction)"}, path, where + ".")
    if not table:
        raise ConfigError(f"{path}: '{where}' needs abs and/or rel")
    return Tolerance(
        abs=_number(table.get("abs", 0.0), path, where + ".abs", positive=False),
        rel=_number(table.get("rel", 0.0), path, where + ".rel", positive=False),
    )


def _limit(value: Any, path: Path, where: str) -> Limit:
    table = _table(value, path, where)
    _check_keys(table, {"min": "number", "max": "number"}, path, where + ".")
    if not table:
        raise ConfigError(f"{path}: '{where}' needs min and/or max")
    low = table.get("min")
    high = table.get("max")
    low_f = None if low is None else _signed(low, path, where + ".min")
    high_f = None if high is None else _signed(high, path, where + ".max")
    if low_f is not None and high_f is not None and low_f > high_f:
        raise ConfigError(f"{path}: '{where}' has min {low_f} > max {high_f}")
    return Limit(low_f, high_f)


def _signed(value: Any, path: Path, where: str) -> float:
    if not finite_number(value):
        raise ConfigError(f"{path}: '{where}' must be a finite number, got {_shown(value)}")
    return float(value)


def _measurement_tables(
    value: Any, path: Path, where: str, parse: Callable[[Any, Path, str], _Parsed]
) -> dict[str, _Parsed]:
    from pytest_oscura.measurements import REGISTRY

    table = _table(value, path, where.rstrip("."))
    result = {}
    for name, spec in table.items():
        if name not in REGISTRY:
            known = ", ".join(sorted(REGISTRY))
            raise ConfigError(f"{path}: unknown measurement '{where}{name}'; known: {known}")
        result[name] = parse(spec, path, f"{where}{name}")
    return result


def _validated(settings: Mapping[str, Any], path: Path, where: str) -> dict[str, object]:
    """Check each setting's value and convert it to its typed form."""
    out: dict[str, object] = {}
    for key, value in settings.items():
        here = f"{where}{key}"
        if key in ("measurements", "logic_measurements"):
            out[key] = _names(value, path, here)
        elif key in ("sample_rate_hz", "full_scale"):
            out[key] = _number(value, path, here, positive=True)
        elif key in ("units", "group"):
            if not isinstance(value, str) or not value:
                raise ConfigError(
                    f"{path}: '{here}' must be a non-empty string, got {_shown(value)}"
                )
            out[key] = value
        elif key == "tolerance":
            out[key] = _tolerance(value, path, here)
        elif key == "tolerances":
            out[key] = _measurement_tables(value, path, f"{here}.", _tolerance)
        elif key == "limits":
            out[key] = _measurement_tables(value, path, f"{here}.", _limit)
    return out


def _apply(config: CaptureConfig, settings: Mapping[str, Any]) -> CaptureConfig:
    changes = dict(settings)
    if "tolerances" in changes:
        changes["tolerances"] = {**config.tolerances, **changes["tolerances"]}
    if "limits" in changes:
        changes["limits"] = {**config.limits, **changes["limits"]}
    return replace(config, **changes)
