"""Per-capture sidecars (``<capture file name>.json``) and the rule for channel names. Pure.

A sidecar declares what a file does not carry: ``sample_rate_hz``, ``units``, ``channels``
(names, one per channel, which also rename a file's channels), ``full_scale`` and free-form
``tags``. It is read with :func:`pytest_oscura._files.read_json` (at most
``MAX_SIDECAR_BYTES``; hostile bytes are one-line errors) and every key is validated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pytest_oscura._files import finite_number, read_json
from pytest_oscura.captures._limits import MAX_SIDECAR_BYTES
from pytest_oscura.errors import ConfigError


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a channel (item) name, or ``None``."""
    if not name.strip():
        return "is empty"
    if "::" in name:
        return "contains '::', which separates node-id parts"
    if not name.isprintable():
        return "contains control characters"
    return None


SIDECAR_KEYS = {
    "sample_rate_hz": "samples per second (number > 0)",
    "units": "unit of the sample values (string)",
    "channels": "channel names (list of strings, one per channel)",
    "full_scale": "value of digital full scale for integer PCM (number > 0)",
    "tags": "free-form metadata (object)",
}


@dataclass(frozen=True)
class Sidecar:
    """Per-capture metadata from ``<capture file name>.json``."""

    sample_rate_hz: float | None = None
    units: str | None = None
    channels: tuple[str, ...] | None = None
    full_scale: float | None = None
    tags: dict[str, object] | None = None


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def read_sidecar(path: Path) -> Sidecar | None:
    """Read the sidecar of capture ``path``; ``None`` when there is none. Raises ConfigError."""
    side = sidecar_path(path)
    data = read_json(side, ConfigError, max_bytes=MAX_SIDECAR_BYTES)
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ConfigError(f"{side}: expected a JSON object")
    for key in data:
        if key not in SIDECAR_KEYS:
            allowed = ", ".join(sorted(SIDECAR_KEYS))
            raise ConfigError(f"{side}: unknown key {key!r}; allowed: {allowed}")
    return Sidecar(
        sample_rate_hz=_positive(data, "sample_rate_hz", side),
        units=_string(data, "units", side),
        channels=_names(data, side),
        full_scale=_positive(data, "full_scale", side),
        tags=_tags(data, side),
    )


def _positive(data: dict[str, object], key: str, where: Path) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"{where}: {key} must be a number > 0, got {value!r}")
    if not finite_number(value):
        raise ConfigError(f"{where}: {key} must be finite, got {value!r:.60}")
    return float(value)


def _string(data: dict[str, object], key: str, where: Path) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: {key} must be a non-empty string, got {value!r}")
    return value


def _names(data: dict[str, object], where: Path) -> tuple[str, ...] | None:
    value = data.get("channels")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: channels must be a list of non-empty strings")
    if len(set(value)) != len(value):
        raise ConfigError(f"{where}: channels has duplicate names")
    for name in value:
        problem = name_problem(name)
        if problem:
            raise ConfigError(f"{where}: channel name {name[:40]!r} {problem}")
    return tuple(value)


def _tags(data: dict[str, object], where: Path) -> dict[str, object] | None:
    value = data.get("tags")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: tags must be an object")
    return value
