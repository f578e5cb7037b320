"""The JSON report (controller or a run without xdist only). Pure."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pytest_oscura._files import write_atomically
from pytest_oscura._version import __version__
from pytest_oscura.baseline import today
from pytest_oscura.records import CaptureRecord

SCHEMA = "pytest-oscura-report/1"


def build_report(
    records: Iterable[CaptureRecord],
    rootdir: Path,
    roots: Mapping[str, Path],
    summary: Mapping[str, Any],
) -> dict[str, Any]:
    """The report as plain data.

    Args:
        records: one per item, in any order (sorted here by node id).
        rootdir: pytest's rootdir; capture paths are given relative to it.
        roots: captures root as displayed → absolute folder, to locate each capture file.
        summary: at least ``counts``; aggregation adds its own keys.
    """
    captures = []
    for record in sorted(records, key=lambda r: r.nodeid):
        file_part = record.key.rsplit("::", 1)[0]
        absolute = roots[record.root] / file_part if record.root in roots else Path(file_part)
        try:
            path = absolute.relative_to(rootdir).as_posix()
        except ValueError:
            path = absolute.as_posix()
        entry = record.to_dict()
        entry["path"] = path
        captures.append(entry)
    return {
        "schema": SCHEMA,
        "plugin_version": __version__,
        "date": today(),
        "captures": captures,
        "summary": dict(summary),
    }


def write_report(path: Path, report: Mapping[str, Any]) -> None:
    text = json.dumps(report, indent=2, sort_keys=True, allow_nan=False, ensure_ascii=False)
    write_atomically(path, text + "\n")
