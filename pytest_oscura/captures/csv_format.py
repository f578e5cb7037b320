"""CSV exports: an optional time column plus named value columns, or value columns alone.

Tolerated as oscilloscopes write them: comment lines (``#``), blank lines, a units row under the
header (``second,Volt,Volt``), trailing delimiters (``X,CH1,CH2,``), ``,``/``;``/tab delimiters and
a UTF-8 byte order mark. The first column is a time column when its header is one of
``TIME_HEADERS`` or its unit is one of ``TIME_UNITS``; the sample rate then comes from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pytest_oscura.captures.model import CaptureHeader, ChannelHeader, RawChannel

TIME_HEADERS = frozenset({"time", "t", "x-axis", "x", "timestamp", "seconds", "second", "s"})
TIME_UNITS = frozenset({"s", "sec", "second", "seconds"})
_TIME_HEADER_RE = re.compile(r"^time\b|^time\s*[\[(]\s*s\s*[\])]$")
_COMMENT_PREFIXES = ("#", "//", "%")
_MAX_HEAD_LINES = 200
# Scope exports round time stamps to a few significant digits; a jitter of 1 % of the step
# is rounding, more than that is a non-uniform record we must not pretend to measure.
_MAX_STEP_JITTER = 0.01


@dataclass(frozen=True)
class CsvLayout:
    delimiter: str | None  # None: runs of whitespace
    names: tuple[str, ...]  # value columns
    units: tuple[str | None, ...]
    value_columns: tuple[int, ...]
    time_column: int | None
    data_line: int  # 0-based physical line index of the first data row
    encoding: str


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _split(line: str, delimiter: str | None) -> list[str]:
    tokens = [t.strip().strip('"') for t in (line.split(delimiter) if delimiter else line.split())]
    while tokens and tokens[-1] == "":  # trailing delimiters as scope exports write them
        tokens.pop()
    return tokens


def _guess_delimiter(line: str) -> str | None:
    for candidate in (",", ";", "\t"):
        if candidate in line:
            return candidate
    return None


def _is_time(name: str, unit: str | None) -> bool:
    lowered = name.strip().lower()
    if lowered in TIME_HEADERS or _TIME_HEADER_RE.search(lowered):
        return True
    return unit is not None and unit.strip().lower() in TIME_UNITS


def read_layout(path: Path) -> CsvLayout:
    """Read the comment, header and units rows of a CSV capture; stop at the first data row."""
    try:
        return _read_layout(path, "utf-8-sig")
    except UnicodeDecodeError:
        return _read_layout(path, "latin-1")


def _read_layout(path: Path, encoding: str) -> CsvLayout:
    header: list[str] | None = None
    units: list[str] | None = None
    delimiter: str | None = None
    with path.open(encoding=encoding, newline="") as stream:
        for index, line in enumerate(stream):
            if index >= _MAX_HEAD_LINES:
                break
            text = line.strip()
            if not text or text.startswith(_COMMENT_PREFIXES):
                continue
            if delimiter is None:
                delimiter = _guess_delimiter(text)
            tokens = _split(text, delimiter)
            if not tokens:
                continue
            if all(_is_number(t) for t in tokens):
                return _layout(header, units, len(tokens), delimiter, index, encoding)
            if header is None:
                header = tokens
            elif units is None and not any(_is_number(t) for t in tokens if t):
                units = tokens
            else:
                raise ValueError(f"line {index + 1}: non-numeric value in {text[:60]!r}")
    raise ValueError("no numeric data rows")


def _layout(
    header: list[str] | None,
    units: list[str] | None,
    width: int,
    delimiter: str | None,
    data_line: int,
    encoding: str,
) -> CsvLayout:
    names = header if header is not None else [f"CH{i + 1}" for i in range(width)]
    if len(names) < width:
        names = names + [f"CH{i + 1}" for i in range(len(names), width)]
    names = names[:width]
    unit_list: list[str | None] = [u for u in (units or [])[:width]]
    unit_list += [None] * (width - len(unit_list))
    time_column = (
        0 if header is not None and width > 1 and _is_time(names[0], unit_list[0]) else None
    )
    value_columns = tuple(i for i in range(width) if i != time_column)
    seen: set[str] = set()
    for i in value_columns:
        if not names[i]:
            names[i] = f"CH{i + 1}"
        if names[i] in seen:
            raise ValueError(f"duplicate column name {names[i]!r}")
        seen.add(names[i])
    return CsvLayout(
        delimiter=delimiter,
        names=tuple(names[i] for i in value_columns),
        units=tuple(unit_list[i] for i in value_columns),
        value_columns=value_columns,
        time_column=time_column,
        data_line=data_line,
        encoding=encoding,
    )


def read_csv_file_header(path: Path) -> CaptureHeader:
    layout = read_layout(path)
    return CaptureHeader(tuple(ChannelHeader(name) for name in layout.names))


def _unit_symbol(unit: str | None) -> str | None:
    if unit is None or not unit:
        return None
    return {"volt": "V", "volts": "V", "ampere": "A", "amp": "A", "amps": "A"}.get(
        unit.lower(), unit
    )


def load_csv(path: Path) -> list[RawChannel]:
    import numpy as np

    layout = read_layout(path)
    columns = (
        layout.value_columns
        if layout.time_column is None
        else (layout.time_column, *layout.value_columns)
    )
    try:
        data = np.loadtxt(
            path,
            delimiter=layout.delimiter,
            skiprows=layout.data_line,
            usecols=columns,
            comments=_COMMENT_PREFIXES[0],
            ndmin=2,
            encoding=layout.encoding,
        )
    except ValueError as exc:
        raise ValueError(f"bad data row: {str(exc).splitlines()[0]}") from None
    sample_rate_hz = None
    if layout.time_column is not None:
        sample_rate_hz = _rate_from_time(data[:, 0])
        data = data[:, 1:]
    return [
        RawChannel(
            name=name, samples=data[:, i], sample_rate_hz=sample_rate_hz, units=_unit_symbol(u)
        )
        for i, (name, u) in enumerate(zip(layout.names, layout.units, strict=True))
    ]


def _rate_from_time(time_s: object) -> float | None:
    """Sample rate in Hz from a time column: (n − 1) / (t_last − t_first), checked uniform."""
    import numpy as np

    t = np.asarray(time_s, dtype=np.float64)
    if t.size < 2:
        return None
    steps = np.diff(t)
    mean_step = (t[-1] - t[0]) / (t.size - 1)
    if not mean_step > 0:
        raise ValueError("time column does not increase")
    if np.max(np.abs(steps - mean_step)) > _MAX_STEP_JITTER * mean_step:
        raise ValueError("time column is not uniformly spaced")
    return float(1.0 / mean_step)
