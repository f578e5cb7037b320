"""The JSON report read as the HTML page needs it: its captures, groups and their findings. Pure.

The page is rendered from the JSON report's data, whether the plugin just built it or
``python -m pytest_oscura html`` read it from a file (possibly written by an older version or
merged from shards): every key is read leniently, and what is missing is simply not shown.
Failure rows, flagged outliers and drift cells carry the shapes the writer gives them
(``FailureDict``, ``FlaggedOutlier``, ``DriftCell``); a file from another version may lack keys,
so they are read with ``.get``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from pytest_oscura.aggregate.results import DriftCell, FlaggedOutlier
    from pytest_oscura.records import FailureDict

FAILED, ERROR, OUTLIER, DRIFT = "failed", "error", "outlier", "drift"
TIMING = frozenset(
    {"frequency", "period", "duty_cycle", "pulse_width", "rise_time", "fall_time", "edge_count"}
)
SPECTRAL = frozenset({"thd", "snr", "sinad", "enob", "sfdr"})
#: Measurements in the capture's unit that are a level on the waveform (drawn as a line).
LEVEL_LINES = ("mean", "min", "max", "top", "base")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass
class Entry:
    """One capture item of the report, with what the page found about it."""

    key: str
    root: str
    group: str
    channel: str
    units: str
    nodeid: str
    outcome: str
    path: str
    measurements: dict[str, float | None]
    not_applicable: dict[str, str]
    failures: list[FailureDict]
    error: str | None
    baseline: dict[str, float | None] | None
    summary_group: str = ""
    outliers: list[FlaggedOutlier] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return "c-" + slug(self.nodeid or self.key)

    @property
    def kinds(self) -> list[str]:
        """Why the capture needs attention: failed, error, outlier (any of them)."""
        kinds = []
        if self.outcome == "failed":
            kinds.append(FAILED)
        elif self.outcome == "error":
            kinds.append(ERROR)
        if self.outliers:
            kinds.append(OUTLIER)
        return kinds

    def flagged_names(self) -> set[str]:
        """Measurements that failed or were flagged as outliers (what the plots must show)."""
        names = {str(f.get("measurement", "")) for f in self.failures}
        return names | {str(o.get("measurement", "")) for o in self.outliers}

    def has_marks(self) -> bool:
        """Whether levels and crossings were measured (and are worth drawing)."""
        return any(
            self.measurements.get(name) is not None
            for name in ("top", "base", "amplitude", *TIMING)
        )

    def needs_zoom(self) -> bool:
        return bool(self.flagged_names() & TIMING)

    def needs_spectrum(self) -> bool:
        return bool(self.flagged_names() & SPECTRAL)


def slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text)


def _entry(data: Any) -> Entry | None:
    if not isinstance(data, dict) or not isinstance(data.get("key"), str):
        return None
    baseline = data.get("baseline")
    return Entry(
        key=data["key"],
        root=str(data.get("root", "")),
        group=str(data.get("group", "")),
        channel=str(data.get("channel", "")),
        units=str(data.get("units", "")),
        nodeid=str(data.get("nodeid", "")),
        outcome=str(data.get("outcome", "passed")),
        path=str(data.get("path", "")),
        measurements={str(k): _float(v) for k, v in _dict(data.get("measurements")).items()},
        not_applicable={str(k): str(v) for k, v in _dict(data.get("not_applicable")).items()},
        failures=[
            cast("FailureDict", f) for f in _list(data.get("failures")) if isinstance(f, dict)
        ],
        error=str(data["error"]) if data.get("error") else None,
        baseline=(
            {str(k): _float(v) for k, v in baseline.items()} if isinstance(baseline, dict) else None
        ),
    )


@dataclass
class PageData:
    """The report, read once for the page."""

    report: Mapping[str, Any]
    entries: list[Entry]
    summary: dict[str, Any]
    run: dict[str, Any]
    drift_cells: list[DriftCell]

    @property
    def groups(self) -> dict[str, Any]:
        return _dict(self.summary.get("groups"))

    def tolerance(self, group: str, measurement: str) -> tuple[float, float] | None:
        """``(abs, rel)`` of a measurement in a capture group, when the report carries it."""
        found = _dict(_dict(self.run.get("tolerances")).get(group)).get(measurement)
        if not isinstance(found, dict):
            return None
        absolute, relative = _float(found.get("abs")), _float(found.get("rel"))
        if absolute is None or relative is None:
            return None
        return absolute, relative

    def attention(self) -> list[Entry]:
        """Failed, then erroring, then outlier captures, each by node id."""
        order = {FAILED: 0, ERROR: 1, OUTLIER: 2}
        flagged = [e for e in self.entries if e.kinds]
        return sorted(flagged, key=lambda e: (order[e.kinds[0]], e.nodeid, e.key))

    def drifted(self) -> list[DriftCell]:
        return [c for c in self.drift_cells if c.get("flagged")]

    def accept_command(self, entry: Entry | None = None) -> str:
        """The command that accepts new values: for one capture, or for the whole run."""
        import shlex

        command = self.run.get("accept_command")
        if not isinstance(command, str) or not command:
            roots = sorted({e.root for e in self.entries if e.root}) or ["DIR"]
            args = " ".join(f"--oscura-captures {shlex.quote(root)}" for root in roots)
            command = f"pytest {args} --oscura-update-baseline"
        if entry is None or not entry.nodeid:
            return command
        return command.replace("pytest ", f"pytest {shlex.quote(entry.nodeid)} ", 1)


def read_page_data(report: Mapping[str, Any]) -> PageData:
    """Entries, summary and run facts of ``report``, with each capture's findings attached."""
    entries = [e for e in map(_entry, _list(report.get("captures"))) if e is not None]
    summary = _dict(report.get("summary"))
    groups = _dict(summary.get("groups"))
    several_roots = len({e.root for e in entries}) > 1
    by_key: dict[str, Entry] = {}
    for entry in entries:
        # The summary names groups split by unit ("caps [V]") and keys by root when the run
        # had several roots; find each capture under the name the summary gives it.
        split = f"{entry.group} [{entry.units}]"
        entry.summary_group = (
            split if entry.group not in groups and split in groups else entry.group
        )
        by_key[f"{entry.root}::{entry.key}" if several_roots else entry.key] = entry
    for flagged in _list(_dict(summary.get("outliers")).get("flagged")):
        if isinstance(flagged, dict) and flagged.get("key") in by_key:
            by_key[flagged["key"]].outliers.append(cast("FlaggedOutlier", flagged))
    cells = [
        cast("DriftCell", c)
        for c in _list(_dict(summary.get("drift")).get("cells"))
        if isinstance(c, dict)
    ]
    return PageData(report, entries, summary, _dict(report.get("run")), cells)
