"""Stored measurement results for ``--oscura-resume``. Pure: no pytest import.

One JSON file per capture file, named by a hash of its absolute path, written atomically
(temp file + ``os.replace``), so a run killed at any moment (``kill -9``, power loss) leaves
whole entries or none, and several xdist workers can write at once without locks.

An entry is reused only when all of these match:

* the capture content: a fast size + mtime check, backed by a SHA-256 of the file when the
  mtime moved but the size did not (a ``touch`` or a copy does not force re-measuring);
* the measurement configuration: load settings, items and their measurements, the sidecar
  text, the plugin, numpy and scipy versions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_oscura._files import json_text, write_atomically
from pytest_oscura._version import __version__
from pytest_oscura.jobs import FileJob, FileResult, ItemResult

SCHEMA = "pytest-oscura-result/2"


@dataclass(frozen=True)
class Fingerprint:
    size: int
    mtime_ns: int
    sha256: str


def fingerprint(path: Path) -> Fingerprint:
    stat = path.stat()
    with path.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    return Fingerprint(stat.st_size, stat.st_mtime_ns, digest)


def config_hash(job: FileJob) -> str:
    """A hash of everything besides the capture bytes that decides the job's result."""
    import numpy

    from pytest_oscura._lazy import import_lazily

    scipy = import_lazily("scipy")

    sidecar = Path(job.path + ".json")
    try:
        sidecar_text = sidecar.read_text(encoding="utf-8")
    except OSError:
        sidecar_text = None
    facts = {
        "plugin": __version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "settings": dataclasses.asdict(job.settings),
        "items": [dataclasses.asdict(item) for item in job.items],
        "sidecar": sidecar_text,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


class ResultStore:
    """Measurement results of capture files, kept in ``folder`` between runs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _entry_path(self, job: FileJob) -> Path:
        return self.folder / (hashlib.sha256(job.path.encode()).hexdigest()[:32] + ".json")

    def get(self, job: FileJob) -> FileResult | None:
        """The stored result of ``job``, or ``None`` when it must be measured (again)."""
        entry_path = self._entry_path(job)
        try:
            entry = json.loads(entry_path.read_text(encoding="utf-8"))
            stat = Path(job.path).stat()
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("schema") != SCHEMA:
            return None
        if entry.get("path") != job.path or entry.get("config") != config_hash(job):
            return None
        if entry.get("size") != stat.st_size:
            return None
        if entry.get("mtime_ns") != stat.st_mtime_ns:
            try:
                current = fingerprint(Path(job.path))
            except OSError:
                return None
            if current.sha256 != entry.get("sha256"):
                return None
        return _result_from(entry.get("result"))

    def put(self, job: FileJob, before: Fingerprint, result: FileResult) -> None:
        """Store ``result``, measured from the content ``before`` describes.

        Load errors are not stored: an unreadable file may be readable on the next run.
        """
        if result.error is not None:
            return
        entry = {
            "schema": SCHEMA,
            "path": job.path,
            "size": before.size,
            "mtime_ns": before.mtime_ns,
            "sha256": before.sha256,
            "config": config_hash(job),
            "result": dataclasses.asdict(result),
        }
        write_atomically(self._entry_path(job), json_text(entry))

    def count(self) -> int:
        return sum(1 for name in os.listdir(self.folder) if name.endswith(".json"))


def _result_from(data: Any) -> FileResult | None:
    from pytest_oscura.measurements import MeasurementResult

    if not isinstance(data, dict):
        return None
    try:
        items = {}
        for name, fields in data["items"].items():
            measured = fields["measured"]
            items[name] = ItemResult(
                fields["units"],
                None if measured is None else MeasurementResult(**measured),
                fields["error"],
                tuple(fields.get("warnings", ())),
                tuple(fields.get("companions", ())),
                str(fields.get("measured_on", "cpu")),
                fields.get("gpu_fallback"),
            )
        return FileResult(path=data["path"], items=items, error=data["error"])
    except (KeyError, TypeError):
        return None
