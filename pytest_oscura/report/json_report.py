"""The JSON report: written once by the controller (or a run without xdist), read back by the
command-line tools. Pure: no pytest import.

Layout (``schema`` :data:`SCHEMA`)::

    {"schema": "pytest-oscura-report/1", "plugin_version": "…", "date": "YYYY-MM-DD",
     "captures": [one CaptureRecord as a dict, plus "path", per item, sorted by node id],
     "summary": {the run's aggregate summary: counts, groups, outliers, drift, gate, notes},
     "shard": {"index": K, "count": N} or null,
     "run": {what a merge of shard reports checks and needs, see RunInfo} or null,
     "merged_from": [{"report": "shard-1.json", "shard": {...}}, ...] or null}

``shard``, ``run`` and ``merged_from`` were added in 0.2.0; a report without them still reads
(``compare`` needs only ``captures`` and ``summary``), but ``merge`` refuses it. ``run`` is
``null`` only in a merged report made from reports that lacked it (none are: merge refuses).

Keys added in 0.2.0 within schema 1 (readers ignore what they do not know): per capture
``"baseline"`` (the baseline entry's values the capture was judged against, ``null`` where it had
none), and ``"shard"``, ``"run"`` and ``"merged_from"``. ``run`` (:class:`RunInfo`) holds what a
merge must find equal across shards and what the HTML page needs to find the capture files
again; ``python -m pytest_oscura html`` renders a page from a report file alone.
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
    from pytest_oscura.shards import Shard

SCHEMA = "pytest-oscura-report/1"


class CaptureEntry(RecordDict):
    """One item of the report: its record, its capture file relative to pytest's rootdir, and
    the baseline values it was judged against (``None``: no baseline entry)."""

    path: str
    baseline: NotRequired[dict[str, float | None] | None]


class ToleranceDict(TypedDict):
    abs: float
    rel: float


class ShardInfo(TypedDict):
    """``--oscura-shard K/N``: ``{"index": K, "count": N}``."""

    index: int
    count: int


class RootRun(TypedDict):
    """One captures root of a run, as the merge checks it.

    Attributes:
        display: the root as given on the command line (the records' ``root``).
        baseline: the baseline file, relative to pytest's rootdir where below it (posix).
        baseline_sha256: SHA-256 of the baseline file the run was checked against, ``None``
            where there was none.
        config_sha256: SHA-256 of the root's ``oscura.toml``, ``None`` where it has none.
        stale: baseline keys (of this shard's capture files) that name no capture any more.
        path: the root's absolute folder (the HTML page reads capture files again from it).
        waveforms: the folder of its stored baseline waveforms (``--oscura-baseline-waveforms``).
    """

    display: str
    baseline: str
    baseline_sha256: str | None
    config_sha256: str | None
    stale: list[str]
    path: str
    waveforms: str


class RunInfo(TypedDict):
    """How the run was made: the settings a merge must find equal, and whether it is whole.

    Attributes:
        roots: per captures root, in command-line order.
        outliers: the outlier method (``--oscura-outliers``).
        gate: the requested gate, canonical text (``--oscura-gate``; ``none``).
        update_baseline: whether the run updated the baseline.
        interrupted: whether the run was interrupted (Ctrl-C, ``-x``/``--maxfail`` is not).
        lost_workers: xdist workers that crashed (their unfinished items are missing).
        lost_results: items whose results a Dask cluster lost (a worker died).
        whole_suite: whether nothing but ``--oscura-shard`` narrowed the run (no ``-k``,
            ``-m``, ``--lf``, ``--deselect``, narrower paths) and every selected item reported.
        strategy: how the captures were measured (``serial``, ``process (2 workers …)``, …).
        duration_s: the run's wall time, from configuration to its end (a merge: the longest
            shard's).
        accept_command: the command that accepts new values for the whole run.
        tolerances: ``{group: {measurement: {"abs", "rel"}}}`` where every capture of the group
            has the same tolerance for the measurement (the HTML page draws it as a band).
    """

    roots: list[RootRun]
    outliers: str
    gate: str
    update_baseline: bool
    interrupted: bool
    lost_workers: list[str]
    lost_results: int
    whole_suite: bool
    strategy: str
    duration_s: float
    accept_command: str
    tolerances: dict[str, dict[str, ToleranceDict]]


class MergedFrom(TypedDict):
    """One report a merged report was made from: its path as given, and its shard."""

    report: str
    shard: ShardInfo | None


class Report(TypedDict):
    schema: str
    plugin_version: str
    date: str
    captures: list[CaptureEntry]
    summary: Summary
    shard: ShardInfo | None
    run: RunInfo | None
    merged_from: list[MergedFrom] | None


class ReportError(Exception):
    """A report cannot be read; the message is one line naming the file."""


def relative_text(path: Path, rootdir: Path) -> str:
    """``path`` relative to pytest's rootdir (posix), else absolute: as report paths are given."""
    try:
        return path.relative_to(rootdir).as_posix()
    except ValueError:
        return path.as_posix()


def build_report(
    records: Iterable[CaptureRecord],
    rootdir: Path,
    roots: Mapping[str, Path],
    summary: Summary,
    *,
    shard: Shard | None = None,
    run: RunInfo | None = None,
    baselines: Mapping[tuple[str, str], Mapping[str, float | None] | None] | None = None,
) -> Report:
    """The report as plain data.

    Args:
        records: one per item, in any order (sorted here by node id).
        rootdir: pytest's rootdir; capture paths are given relative to it.
        roots: captures root as displayed → absolute folder, to locate each capture file.
        summary: the run's aggregate summary.
        shard: the run's ``--oscura-shard``, if any.
        run: how the run was made (:class:`RunInfo`).
        baselines: ``(root, key)`` → the baseline values each capture was judged against
            (the ``"baseline"`` key of each capture), if given; non-finite values become null.
    """
    captures: list[CaptureEntry] = []
    for record in records:
        file_part = record.key.rsplit("::", 1)[0]
        absolute = roots[record.root] / file_part if record.root in roots else Path(file_part)
        path = relative_text(absolute, rootdir)
        values = None if baselines is None else baselines.get((record.root, record.key))
        baseline = None if values is None else _finite_values(values)
        captures.append({**record.to_dict(), "path": path, "baseline": baseline})
    info: ShardInfo | None = None
    if shard is not None:
        info = {"index": shard.index, "count": shard.count}
    return assemble_report(captures, summary, shard=info, run=run)


def assemble_report(
    captures: Iterable[CaptureEntry],
    summary: Summary,
    *,
    shard: ShardInfo | None = None,
    run: RunInfo | None = None,
    merged_from: list[MergedFrom] | None = None,
) -> Report:
    """A report from finished capture entries (sorted here by node id): the one layout."""
    return {
        "schema": SCHEMA,
        "plugin_version": __version__,
        "date": today(),
        "captures": sorted(captures, key=lambda entry: entry["nodeid"]),
        "summary": summary,
        "shard": shard,
        "run": run,
        "merged_from": merged_from,
    }


def _finite_values(values: Mapping[str, float | None]) -> dict[str, float | None]:
    return {k: v if v is not None and math.isfinite(v) else None for k, v in values.items()}


def write_report(path: Path, report: Report) -> None:
    write_atomically(path, json_text(report, indent=2) + "\n")


@dataclass(frozen=True)
class LoadedReport:
    """A report read back: its capture records and its summary (as written, unchecked), and
    the whole JSON object (``data``) for tools that need more of it (``merge``)."""

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
