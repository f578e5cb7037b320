"""Min/max envelopes of waveforms, and the small envelope files stored next to a baseline. Pure.

A waveform of any length is drawn from its **envelope**: the record is cut into ``columns``
consecutive runs of samples and each run keeps its smallest and largest value, so a spike of one
sample in ten million still shows (a plain decimation would drop it) and a 10-million-sample
record becomes a few thousand numbers. Column ``i`` covers the samples
``[i·n // columns, (i + 1)·n // columns)``; a record shorter than ``columns`` keeps every sample.

``--oscura-baseline-waveforms`` makes an update run store one envelope per accepted capture in a
folder next to the baseline file (``oscura-baseline.json`` → ``oscura-baseline.waveforms/``), so
that the HTML report can draw tonight's waveform over the accepted one. Each file is JSON (never a
pickle): the key, sample rate, sample count, units and the envelope as base64 of little-endian
float32 values, :data:`STORED_COLUMNS` columns, about 6 kB. The same envelope always gives the
same bytes, so an unchanged capture rewrites nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pytest_oscura._files import write_atomically

if TYPE_CHECKING:
    from pytest_oscura.config import SuiteConfig

ENVELOPE_SCHEMA = "pytest-oscura-envelope/1"
#: Columns of a stored baseline envelope: enough to overlay on a plot a few hundred pixels wide.
STORED_COLUMNS = 512
FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class Envelope:
    """Smallest (``low``) and largest (``high``) sample value per column of a record.

    ``samples`` is the length of the whole record and ``sample_rate_hz`` its rate, so that
    envelopes of records of different lengths or rates overlay on one time axis.
    """

    low: FloatArray
    high: FloatArray
    samples: int
    sample_rate_hz: float
    units: str = ""

    @property
    def columns(self) -> int:
        return int(self.low.size)

    def times(self) -> FloatArray:
        """The time (s) of each column: the middle of the samples it covers."""
        starts = column_starts(self.samples, self.columns)
        stops = np.append(starts[1:], self.samples)
        middle: FloatArray = ((starts + stops - 1) / 2.0) / self.sample_rate_hz
        return middle

    @property
    def duration_s(self) -> float:
        return self.samples / self.sample_rate_hz


def column_starts(samples: int, columns: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The first sample of each of ``columns`` columns over ``samples`` samples."""
    return (np.arange(columns, dtype=np.int64) * samples) // columns


def envelope(samples: Any, sample_rate_hz: float, columns: int, units: str = "") -> Envelope:
    """The min/max envelope of a 1-D record in at most ``columns`` columns (one pass each)."""
    x = np.asarray(samples, dtype=np.float64).ravel()
    if columns < 1:
        raise ValueError(f"{columns=} must be at least 1")
    if x.size <= columns:
        return Envelope(x.copy(), x.copy(), int(x.size), float(sample_rate_hz), units)
    starts = column_starts(int(x.size), columns)
    return Envelope(
        np.minimum.reduceat(x, starts),
        np.maximum.reduceat(x, starts),
        int(x.size),
        float(sample_rate_hz),
        units,
    )


# -- stored baseline envelopes ----------------------------------------------------------------


def waveforms_folder(baseline_path: Path) -> Path:
    """The folder of stored envelopes of a baseline file: ``oscura-baseline.waveforms``."""
    return baseline_path.with_name(baseline_path.stem + ".waveforms")


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def envelope_path(folder: Path, key: str) -> Path:
    """The file of baseline key ``key``: readable, flat and unique whatever the key holds."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    readable = _UNSAFE.sub("_", key).strip("._")[:80]
    return folder / f"{readable}-{digest}.json"


def _encode(values: FloatArray) -> str:
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode("ascii")


def _decode(text: Any, count: int) -> FloatArray | None:
    if not isinstance(text, str):
        return None
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        return None
    if len(raw) != 4 * count:
        return None
    return np.frombuffer(raw, dtype="<f4").astype(np.float64)


def encode_envelope(key: str, value: Envelope) -> str:
    """The file text of a stored envelope: deterministic (sorted keys, float32 bytes)."""
    data = {
        "schema": ENVELOPE_SCHEMA,
        "key": key,
        "sample_rate_hz": value.sample_rate_hz,
        "samples": value.samples,
        "units": value.units,
        "columns": value.columns,
        "low": _encode(value.low),
        "high": _encode(value.high),
    }
    return json.dumps(data, sort_keys=True, indent=1, allow_nan=False) + "\n"


def decode_envelope(text: str) -> Envelope | None:
    """An envelope read back from :func:`encode_envelope` text; ``None`` if it is not one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or data.get("schema") != ENVELOPE_SCHEMA:
        return None
    columns, samples, rate = data.get("columns"), data.get("samples"), data.get("sample_rate_hz")
    if not (isinstance(columns, int) and isinstance(samples, int) and 0 < columns <= samples):
        return None
    if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
        return None
    low, high = _decode(data.get("low"), columns), _decode(data.get("high"), columns)
    if low is None or high is None:
        return None
    return Envelope(low, high, samples, float(rate), str(data.get("units", "")))


def read_envelope(folder: Path, key: str) -> Envelope | None:
    """The stored envelope of ``key`` in ``folder``; ``None`` when there is none (or unusable)."""
    try:
        text = envelope_path(folder, key).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return decode_envelope(text)


def store_envelope(folder: Path, key: str, value: Envelope) -> bool:
    """Write ``key``'s envelope atomically unless the file already holds these bytes.

    Returns whether the file was written.
    """
    path = envelope_path(folder, key)
    text = encode_envelope(key, value)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    write_atomically(path, text)
    return True


def remove_envelope(folder: Path, key: str) -> bool:
    """Delete ``key``'s stored envelope (its baseline entry was removed); whether one existed."""
    path = envelope_path(folder, key)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


@dataclass
class Stored:
    """What :func:`store_baseline_waveforms` did."""

    written: int = 0
    unchanged: int = 0
    removed: int = 0
    unreadable: list[str] = field(default_factory=list)


def store_baseline_waveforms(
    root: Path,
    suite: SuiteConfig | None,
    folder: Path,
    keys: Sequence[str],
    removed: Sequence[str] = (),
) -> Stored:
    """Store the envelope of each of ``keys`` (read again below captures root ``root``) in
    ``folder``, and delete those of ``removed``. One capture in memory at a time."""
    from pytest_oscura.report.samples import read_items, split_key

    by_file: dict[str, list[str]] = {}
    for key in keys:
        by_file.setdefault(split_key(key)[0], []).append(key)
    done = Stored()
    for relative, file_keys in by_file.items():  # each file loaded once, for all its items
        items = read_items(root, relative, [split_key(key)[1] for key in file_keys], suite)
        for key in file_keys:
            item = items.pop(split_key(key)[1])
            if isinstance(item, str):
                done.unreadable.append(item)
                continue
            value = envelope(item.samples, item.sample_rate_hz, STORED_COLUMNS, item.units)
            del item
            if store_envelope(folder, key, value):
                done.written += 1
            else:
                done.unchanged += 1
        del items
    done.removed = sum(1 for key in removed if remove_envelope(folder, key))
    return done
