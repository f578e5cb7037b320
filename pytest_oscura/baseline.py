"""The baseline file: versioned, deterministic JSON, written atomically. Pure.

Layout (``oscura-baseline.json`` at the captures root)::

    {
      "schema": "pytest-oscura-baseline/1",
      "provenance": {"plugin_version": "...", "date": "YYYY-MM-DD",
                     "measurements": [...], "measurement_set_hash": "..."},
      "captures": {"rails/vdd.npz::CH1": {"group": "rails", "units": "V",
                                          "measurements": {"mean": 3.3, "thd": null}}},
      "groups": {"rails": {...population statistics...}}
    }

Keys are capture paths relative to the captures root (posix) plus ``::channel``, never
rootdir-relative node ids, so options that move pytest's rootdir cannot change them
(PITFALLS 14). Floats are written with ``repr`` (shortest round-trip text), keys sorted, so an
unchanged baseline rewrites byte for byte and a changed one diffs line by line. Update runs
read, merge and write it holding :func:`lock_path` (``fcntl.flock``; POSIX only).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_oscura._files import json_text, read_json
from pytest_oscura.errors import BaselineError

SCHEMA = "pytest-oscura-baseline/1"
DEFAULT_FILE_NAME = "oscura-baseline.json"
# How long an update run waits for another one to finish writing the same baseline.
LOCK_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class BaselineEntry:
    measurements: Mapping[str, float | None]
    group: str = ""
    units: str = ""


@dataclass(frozen=True)
class Baseline:
    captures: Mapping[str, BaselineEntry] = field(default_factory=dict)
    groups: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)


def read_baseline(path: Path) -> Baseline | None:
    """Read a baseline; ``None`` when the file does not exist.

    Raises:
        BaselineError: unreadable, not JSON, or not a baseline of this schema.
    """
    data = read_json(path, BaselineError)
    if data is None:
        return None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise BaselineError(
            f"{path}: not a pytest-oscura baseline (schema {found!r}, want {SCHEMA!r})"
        )
    captures = data.get("captures")
    if not isinstance(captures, dict):
        raise BaselineError(f"{path}: 'captures' must be an object")
    entries = {}
    for key, raw in captures.items():
        values = raw.get("measurements") if isinstance(raw, dict) else None
        if not isinstance(values, dict) or not all(
            v is None or (isinstance(v, int | float) and not isinstance(v, bool))
            for v in values.values()
        ):
            raise BaselineError(f"{path}: entry {key!r} has no valid 'measurements' object")
        entries[key] = BaselineEntry(
            measurements={k: None if v is None else float(v) for k, v in values.items()},
            group=str(raw.get("group", "")),
            units=str(raw.get("units", "")),
        )
    groups = data.get("groups", {})
    provenance = data.get("provenance", {})
    return Baseline(entries, groups if isinstance(groups, dict) else {}, provenance)


def lock_path(path: Path) -> Path:
    """The lock file next to baseline ``path`` (``.oscura-baseline.json.lock``).

    Update runs hold it while they read, merge and write the baseline. It stays in place
    (removing it would let a waiting run lock a file that no longer exists).
    """
    return path.with_name(f".{path.name}.lock")


def file_sha256(path: Path) -> str | None:
    """The SHA-256 of a file's bytes (hex), ``None`` when it does not exist or cannot be read.

    The JSON report records it for the baseline a run was checked against, so that a merge of
    shard reports can tell that every shard used the same one.
    """
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def measurement_set_hash(names: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(set(names))).encode()).hexdigest()[:16]


def today() -> str:
    """Today's date (UTC), or the one of ``SOURCE_DATE_EPOCH`` for reproducible files."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    seconds = float(epoch) if epoch and epoch.isdigit() else time.time()
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).date().isoformat()


def render(baseline: Baseline) -> str:
    """The file text of ``baseline``: sorted keys, two-space indent, trailing newline."""
    data = {
        "schema": SCHEMA,
        "provenance": dict(baseline.provenance),
        "captures": {
            key: {
                "group": entry.group,
                "units": entry.units,
                "measurements": dict(entry.measurements),
            }
            for key, entry in baseline.captures.items()
        },
        "groups": dict(baseline.groups),
    }
    return json_text(data, indent=2) + "\n"


def build(
    captures: Mapping[str, BaselineEntry], groups: Mapping[str, Any], plugin_version: str
) -> Baseline:
    names = sorted({name for entry in captures.values() for name in entry.measurements})
    provenance = {
        "plugin_version": plugin_version,
        "date": today(),
        "measurements": names,
        "measurement_set_hash": measurement_set_hash(names),
    }
    return Baseline(dict(captures), dict(groups), provenance)


@dataclass(frozen=True)
class Changes:
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def diff(old: Mapping[str, BaselineEntry], new: Mapping[str, BaselineEntry]) -> Changes:
    """Keys added, changed (any value, group or unit differs) and removed, ``old`` → ``new``."""
    return Changes(
        added=tuple(sorted(set(new) - set(old))),
        changed=tuple(sorted(k for k in set(new) & set(old) if new[k] != old[k])),
        removed=tuple(sorted(set(old) - set(new))),
    )
