"""The JSON report: written once by the controller (or a run without xdist), read back by the
command-line tools. Pure: no pytest import.

Layout (``schema`` :data:`SCHEMA`)::

    {"schema": "pytest-oscura-report/1", "plugin_version": "…", "date": "YYYY-MM-DD",
     "captures": [one CaptureRecord as a dict, plus "path", per item, sorted by node id],
     "summary": {the run's aggregate summary: counts, groups, outliers, drift, gate, notes}}

Keys added within schema 1 (readers ignore what they do not know), written by the plugin for the
HTML report (``python -m pytest_oscura html`` renders a page from a report file alone):

* per capture ``"baseline"``: the baseline entry's values the capture was judged against
  (``null`` where it had none);
* ``"run"`` (:class:`RunInfo`): the strategy, duration, captures roots, the accept command, the
  stored baseline waveforms folders and the tolerances per group and measurement.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from pytest_oscura._files import json_text, write_atomically
from pytest_oscura._version import __version__
from pytest_oscura.baseline import today
from pytest_oscura.records import CaptureRecord, RecordDict

if TYPE_CHECKING:
    from pytest_oscura.aggregate import Summary

SCHEMA = "pytest-oscura-report/1"


class CaptureEntry(RecordDict):
    """One item of the report: its record, its capture file relative to pytest's rootdir, and
    the baseline values it was judged against (``None``: no baseline entry)."""

    path: str
    baseline: NotRequired[dict[str, float | None] | None]


class ToleranceDict(TypedDict):
    abs: float
    rel: float


class RunInfo(TypedDict):
    """Facts of the run the HTML page shows and needs to find the capture files again.

    ``roots`` and ``baseline_waveforms`` map each captures root as displayed to an absolute
    folder; ``tolerances`` is ``{group: {measurement: {"abs", "rel"}}}`` where every capture of
    the group has the same tolerance for the measurement.
    """

    strategy: str
    duration_s: float
    roots: dict[str, str]
    accept_command: str
    updated_baseline: bool
    baseline_waveforms: dict[str, str]
    tolerances: dict[str, dict[str, ToleranceDict]]


class Report(TypedDict):
    schema: str
    plugin_version: str
    date: str
    captures: list[CaptureEntry]
    summary: Summary
    run: NotRequired[RunInfo]


class ReportError(Exception):
    """A report cannot be read; the message is one line naming the file."""


def build_report(
    records: Iterable[CaptureRecord],
    rootdir: Path,
    roots: Mapping[str, Path],
    summary: Summary,
    run: RunInfo | None = None,
    baselines: Mapping[tuple[str, str], Mapping[str, float | None] | None] | None = None,
) -> Report:
    """The report as plain data.

    Args:
        records: one per item, in any order (sorted here by node id).
        rootdir: pytest's rootdir; capture paths are given relative to it.
        roots: captures root as displayed → absolute folder, to locate each capture file.
        summary: the run's aggregate summary.
        run: the run's facts for the HTML page (the ``"run"`` key), if given.
        baselines: ``(root, key)`` → the baseline values each capture was judged against
            (the ``"baseline"`` key of each capture), if given; non-finite values become null.
    """
    captures: list[CaptureEntry] = []
    for record in sorted(records, key=lambda r: r.nodeid):
        file_part = record.key.rsplit("::", 1)[0]
        absolute = roots[record.root] / file_part if record.root in roots else Path(file_part)
        try:
            path = absolute.relative_to(rootdir).as_posix()
        except ValueError:
            path = absolute.as_posix()
        values = None if baselines is None else baselines.get((record.root, record.key))
        baseline = None if values is None else _finite_values(values)
        captures.append({**record.to_dict(), "path": path, "baseline": baseline})
    report: Report = {
        "schema": SCHEMA,
        "plugin_version": __version__,
        "date": today(),
        "captures": captures,
        "summary": summary,
    }
    if run is not None:
        report["run"] = run
    return report


def _finite_values(values: Mapping[str, float | None]) -> dict[str, float | None]:
    return {k: v if v is not None and math.isfinite(v) else None for k, v in values.items()}


def write_report(path: Path, report: Report) -> None:
    write_atomically(path, json_text(report, indent=2) + "\n")


@dataclass(frozen=True)
class LoadedReport:
    """A report read back: its capture records and its summary (as written, unchecked)."""

    records: list[CaptureRecord]
    summary: Mapping[str, Any]
    #: the whole report as read (the HTML page renders from it)
    data: Mapping[str, Any] = field(default_factory=dict)


def read_report(path: Path) -> LoadedReport:
    """Read a JSON report written by the plugin (or one with at least a ``captures`` list of
    entries with a string ``key``).

    Raises:
        ReportError: unreadable, not JSON, or not a report (one line naming the file).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: not a JSON report: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("captures"), list):
        raise ReportError(f"{path}: not a pytest-oscura JSON report (no 'captures' list)")
    records = [_record(entry, path) for entry in data["captures"]]
    summary = data.get("summary")
    return LoadedReport(records, summary if isinstance(summary, dict) else {}, data)


def _record(data: Any, where: Path) -> CaptureRecord:
    if not isinstance(data, dict) or not isinstance(data.get("key"), str):
        raise ReportError(f"{where}: a capture entry needs a string 'key'")
    measurements = data.get("measurements") or {}
    if not isinstance(measurements, dict):
        raise ReportError(f"{where}: 'measurements' of {data['key']!r} is not an object")
    values: dict[str, float | None] = {}
    for name, value in measurements.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ReportError(f"{where}: {data['key']!r} {name!r} is not a number: {value!r}")
        values[str(name)] = None if value is None else float(value)
    return CaptureRecord(
        key=data["key"],
        root=str(data.get("root", "")),
        group=str(data.get("group", "")),
        channel=str(data.get("channel", "")),
        units=str(data.get("units", "")),
        measurements=values,
        not_applicable={str(k): str(v) for k, v in (data.get("not_applicable") or {}).items()},
        nodeid=str(data.get("nodeid", "")),
        outcome=str(data.get("outcome", "passed")),
    )
