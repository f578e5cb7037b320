"""CSV exports: an optional time column plus named value columns, or value columns alone.

Tolerated as oscilloscopes write them: comment lines (``#``, ``//``, ``%``, ``;``), blank lines,
a units row under the header (``second,Volt,Volt``), trailing delimiters (``X,CH1,CH2,``),
``,``/``;``/tab delimiters and a UTF-8 byte order mark. The first column is a time column when
its header is one of ``TIME_HEADERS`` or its unit is one of ``TIME_UNITS``; the sample rate then
comes from it. Channel names are kept as written (Agilent ``x-axis,1,2`` gives channels ``1`` and
``2``: baseline keys must not change under a user's feet); a unit in the header (``CH 1 (V)``:
channel ``CH 1``, unit ``V``) is used when there is no units row.

Instrument dialects:

* Agilent/Keysight InfiniiVision: ``x-axis,1,2`` + units row; an export may end with a row of
  empty values (``+998.000E-06,,``). Incomplete rows at the *end* of the file are dropped;
  anywhere else they are an error.
* Rigol DS1000E: ``X,CH1,CH2,`` + ``Second,Volt,Volt,``.
* Rigol DS1000D: ``X,CH 1 (V),CH 2 (V)``, no units row. Such exports can start with junk rows
  (values far outside the signal, see the real-capture manifest): they are loaded as written,
  because nothing in the file marks them; trim them with a sidecar-free rule of your own or
  measure a window.
* Rigol DS4000: ``X,CH1,CH2,Start,Increment,`` and a second row ``Sequence,Volt,Volt,<start>,
  <increment>,``; X is a sample number (need not start at 0), the sample rate is
  ``1 / Increment`` and ``Start`` is the time of sample 0.
* Scopy (ADALM2000): ``;key,value`` comment lines (``;Sample rate,1000000`` is used when there is
  no time column), then ``Sample,Time(S),CH1(V),…``: a leading sample-number column is dropped.

Limits: at most ``MAX_CHANNELS`` value columns (a header of more is refused before it is split)
and ``MAX_SAMPLES_PER_CHANNEL`` rows; a time column must be finite throughout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pytest_oscura.captures._limits import MAX_CHANNELS, check_channels, check_samples
from pytest_oscura.captures.model import CaptureHeader, ChannelHeader, RawChannel

TIME_HEADERS = frozenset({"time", "t", "x-axis", "x", "timestamp", "seconds", "second", "s"})
TIME_UNITS = frozenset({"s", "sec", "second", "seconds"})
_TIME_HEADER_RE = re.compile(r"^time\b|^time\s*[\[(]\s*s\s*[\])]$")
_COMMENT_PREFIXES = ("#", "//", "%", ";")
INDEX_HEADERS = frozenset({"sample", "samples", "index", "no", "no.", "n", "sequence", "#"})
_HEADER_UNIT_RE = re.compile(r"^(?P<name>.*?)\s*\((?P<unit>[^()]*)\)$")
_META_RATE_RE = re.compile(r"^[;#%/\s]*sample\s*rate\s*[,;:=\t]\s*([0-9.eE+-]+)", re.IGNORECASE)
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
    increment_s: float | None = None  # Rigol DS4000 Start/Increment row
    start_s: float | None = None
    meta_rate_hz: float | None = None  # Scopy ";Sample rate,…" comment


def is_number(token: str) -> bool:
    """Whether a CSV token parses as a float (``nan`` and ``inf`` included)."""
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
    meta_rate: float | None = None
    start_increment: tuple[float, float] | None = None
    with path.open(encoding=encoding, newline="") as stream:
        for index, line in enumerate(stream):
            if index >= _MAX_HEAD_LINES:
                break
            text = line.strip()
            if not text:
                continue
            if text.startswith(_COMMENT_PREFIXES):
                match = _META_RATE_RE.match(text)
                if match and is_number(match.group(1)):
                    meta_rate = float(match.group(1))
                continue
            if delimiter is None:
                delimiter = _guess_delimiter(text)
            # Count before splitting: a header of a million columns is refused, not parsed.
            width = text.count(delimiter) + 1 if delimiter else len(text.split())
            if width > MAX_CHANNELS + 2:  # + a time column and a trailing delimiter
                raise ValueError(
                    f"line {index + 1} has {width} columns, above the limit of "
                    f"{MAX_CHANNELS} channels per file"
                )
            tokens = _split(text, delimiter)
            if not tokens:
                continue
            if all(is_number(t) for t in tokens):
                layout = _layout(header, units, len(tokens), delimiter, index, encoding)
                return _with_extras(layout, start_increment, meta_rate)
            if header is None:
                header = tokens
                continue
            lowered = [h.lower() for h in header]
            if units is None and "increment" in lowered and "start" in lowered:
                start_increment = _start_increment(tokens, lowered)
                units = tokens
            elif units is None and not any(is_number(t) for t in tokens if t):
                units = tokens
            else:
                raise ValueError(f"line {index + 1}: non-numeric value in {text[:60]!r}")
    raise ValueError("no numeric data rows")


def _start_increment(tokens: list[str], lowered: list[str]) -> tuple[float, float]:
    try:
        start = float(tokens[lowered.index("start")])
        increment = float(tokens[lowered.index("increment")])
    except (IndexError, ValueError):
        raise ValueError("Start/Increment row lacks numbers") from None
    if not increment > 0:
        raise ValueError(f"Increment {increment!r} is not a positive time step")
    return start, increment


def _with_extras(
    layout: CsvLayout, start_increment: tuple[float, float] | None, meta_rate: float | None
) -> CsvLayout:
    if meta_rate is not None and not meta_rate > 0:
        raise ValueError(f"sample rate {meta_rate!r} in the comment header is not positive")
    return CsvLayout(
        delimiter=layout.delimiter,
        names=layout.names,
        units=layout.units,
        value_columns=layout.value_columns,
        time_column=layout.time_column,
        data_line=layout.data_line,
        encoding=layout.encoding,
        increment_s=start_increment[1] if start_increment else None,
        start_s=start_increment[0] if start_increment else None,
        meta_rate_hz=meta_rate,
    )


def _layout(
    header: list[str] | None,
    units: list[str] | None,
    width: int,
    delimiter: str | None,
    data_line: int,
    encoding: str,
) -> CsvLayout:
    names = list(header) if header is not None else [f"CH{i + 1}" for i in range(width)]
    if len(names) < width:
        names = names + [f"CH{i + 1}" for i in range(len(names), width)]
    names = names[:width]
    unit_list: list[str | None] = [u for u in (units or [])[:width]]
    unit_list += [None] * (width - len(unit_list))
    if units is None:  # "CH 1 (V)": the unit is in the header
        for i, name in enumerate(names):
            match = _HEADER_UNIT_RE.match(name)
            if match and match.group("name"):
                names[i], unit_list[i] = match.group("name"), match.group("unit")
    skipped: set[int] = set()
    first = 0
    if (
        header is not None
        and width > 1
        and (
            names[0].strip().lower() in INDEX_HEADERS
            or (unit_list[0] or "").strip().lower() in INDEX_HEADERS
        )
    ):
        skipped.add(0)  # sample-number column (Scopy "Sample", Rigol DS4000 "X"/"Sequence")
        first = 1
    time_column = (
        first
        if header is not None and width > first + 1 and _is_time(names[first], unit_list[first])
        else None
    )
    value_columns = tuple(i for i in range(width) if i != time_column and i not in skipped)
    check_channels(len(value_columns), "header")
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


def _data_lines(path: Path, layout: CsvLayout) -> list[str]:
    """Data rows as text; incomplete rows at the end (``+998.000E-06,,``) are dropped."""
    width = max((*layout.value_columns, layout.time_column or 0)) + 1
    with path.open(encoding=layout.encoding, newline="") as stream:
        lines = stream.readlines()[layout.data_line :]
    rows = [
        line for line in lines if line.strip() and not line.lstrip().startswith(_COMMENT_PREFIXES)
    ]
    while rows:
        tokens = _split(rows[-1].strip(), layout.delimiter)
        if len(tokens) >= width and all(tokens[i] for i in range(width)):
            break
        rows.pop()
    return rows


def _bad_row(message: str) -> str:
    """numpy's loadtxt error as this reader says it: "bad data row 2, column 2: 'abc' is not a
    number", its 0-based row turned into the 1-based data row the other CSV messages name."""
    first = message.splitlines()[0] if message else "unreadable"
    found = re.search(
        r"could not convert string (.+) to float\d* at row (\d+), column (\d+)", first
    )
    if found is None:  # numpy's other messages count rows in different ways: kept as they are
        return f"bad data row: {first}"
    token, row, column = found.groups()
    return f"bad data row {int(row) + 1}, column {column}: {token} is not a number"


def load_csv(path: Path) -> list[RawChannel]:
    import numpy as np

    layout = read_layout(path)
    columns = (
        layout.value_columns
        if layout.time_column is None
        else (layout.time_column, *layout.value_columns)
    )
    rows = _data_lines(path, layout)
    if not rows:
        raise ValueError("no complete data rows")
    check_samples(len(rows), "the file")
    try:
        data = np.loadtxt(rows, delimiter=layout.delimiter, usecols=columns, ndmin=2)
    except ValueError as exc:
        raise ValueError(_bad_row(str(exc))) from None
    sample_rate_hz = layout.meta_rate_hz
    metadata: dict[str, float | str] = {"format": "csv"}
    if layout.time_column is not None:
        sample_rate_hz = _rate_from_time(data[:, 0]) or sample_rate_hz
        metadata["t0_s"] = float(data[0, 0])
        data = data[:, 1:]
    if layout.increment_s is not None:
        sample_rate_hz = 1.0 / layout.increment_s
        metadata["t0_s"] = layout.start_s or 0.0
    return [
        RawChannel(
            name=name,
            samples=data[:, i],
            sample_rate_hz=sample_rate_hz,
            units=_unit_symbol(u),
            metadata=metadata,
        )
        for i, (name, u) in enumerate(zip(layout.names, layout.units, strict=True))
    ]


def _rate_from_time(time_s: object) -> float | None:
    """Sample rate in Hz from a time column: (n − 1) / (t_last − t_first), checked uniform."""
    import numpy as np

    t = np.asarray(time_s, dtype=np.float64)
    finite = np.isfinite(t)
    if not finite.all():
        first = int(np.flatnonzero(~finite)[0])
        raise ValueError(
            f"time column holds {t.size - int(np.count_nonzero(finite))} NaN or infinite "
            f"values (first in data row {first + 1})"
        )
    if t.size < 2:
        return None
    steps = np.diff(t)
    mean_step = (t[-1] - t[0]) / (t.size - 1)
    if not mean_step > 0:
        raise ValueError("time column does not increase")
    if np.max(np.abs(steps - mean_step)) > _MAX_STEP_JITTER * mean_step:
        raise ValueError("time column is not uniformly spaced")
    return float(1.0 / mean_step)
