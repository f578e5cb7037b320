"""Value Change Dump (``.vcd``, IEEE 1364): a streaming reader of our own.

Only changes are stored, so the file is read token by token (never whole into memory) and the
uniform record is rebuilt by sample-and-hold:

* channels: every 1-bit ``wire``/``reg`` (and similar scalar types) becomes a ``logic`` channel,
  every ``real`` variable an ``analog`` channel; multi-bit vectors are skipped (a bus is not a
  waveform; split it into wires to measure it). ``x``/``z`` read as 0 and are counted in the
  channel metadata (``unknown_values``). Duplicate references (the same id in two scopes) are
  one channel.
* time: ``$timescale`` is the unit of the ``#`` time stamps, not the sample period. The sample
  period is the greatest common divisor of all time stamps measured from the first one
  (``$timescale 1 ns`` with every stamp a multiple of 5 → 5 ns, 200 MHz); a file with a single
  time stamp gets one timescale unit. Samples run from the first to the last time stamp
  inclusive, so a trailing ``#t`` with no changes (how loggers mark the end) sets the length.
* size: logic channels are held as uint8 0/1, analog as float64. The span the time stamps
  declare is checked before anything is allocated: at most ``MAX_SAMPLES_PER_CHANNEL`` samples
  per channel, and at most the decode allowance of the file's size (``_limits``: a 100-byte
  file declaring 4·10⁹ ticks is refused, the 5.9 KB ChronoVu dump of 16 × 4 Mi samples reads).
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_oscura.captures._limits import MAX_CHANNELS, check_decoded_size, check_samples
from pytest_oscura.captures.model import CaptureHeader, ChannelHeader, RawChannel

_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12, "fs": 1e-15}
_TIMESCALE_RE = re.compile(r"^\s*(1|10|100)\s*(s|ms|us|ns|ps|fs)\s*$")
_SCALAR_TYPES = {"wire", "reg", "logic", "bit", "tri", "wand", "wor", "supply0", "supply1"}
_MAX_HEADER_TOKENS = 1_000_000
_MAX_TIME = 1 << 62


def sniff(head: bytes) -> bool:
    return head.lstrip().startswith(b"$")


@dataclass(frozen=True)
class VcdVar:
    ident: str
    name: str
    kind: str  # "logic" | "analog"


@dataclass(frozen=True)
class VcdHeader:
    timescale_s: float
    variables: tuple[VcdVar, ...]


def _tokens(path: Path) -> Iterator[str]:
    with path.open("r", encoding="latin-1") as stream:
        for line in stream:
            yield from line.split()


def _read_block(tokens: Iterator[str]) -> list[str]:
    out: list[str] = []
    for token in tokens:
        if token == "$end":
            return out
        out.append(token)
        if len(out) > 4096:
            raise ValueError("corrupt header: unterminated $ block")
    raise ValueError("truncated file: unterminated $ block")


def _header(tokens: Iterator[str]) -> VcdHeader:
    timescale: float | None = None
    variables: dict[str, VcdVar] = {}
    scopes: list[str] = []
    names: set[str] = set()
    for count, token in enumerate(tokens):
        if count > _MAX_HEADER_TOKENS:
            raise ValueError("no $enddefinitions in the header")
        if token == "$enddefinitions":
            _read_block(tokens)
            if not variables:
                raise ValueError("no 1-bit or real variables")
            return VcdHeader(timescale or 1.0, tuple(variables.values()))
        if token == "$timescale":
            text = " ".join(_read_block(tokens))
            match = _TIMESCALE_RE.match(text)
            if match is None:
                raise ValueError(f"bad $timescale {text[:30]!r}")
            timescale = int(match.group(1)) * _UNITS[match.group(2)]
        elif token == "$scope":
            block = _read_block(tokens)
            scopes.append(block[1] if len(block) > 1 else "")
        elif token == "$upscope":
            _read_block(tokens)
            if scopes:
                scopes.pop()
        elif token == "$var":
            block = _read_block(tokens)
            if len(block) < 4:
                raise ValueError(f"corrupt $var {' '.join(block)[:40]!r}")
            var_type, width, ident, name = block[0], block[1], block[2], block[3]
            if ident in variables:
                continue
            if var_type == "real" or var_type == "realtime":
                kind = "analog"
            elif var_type in _SCALAR_TYPES and width == "1":
                kind = "logic"
            else:
                continue
            if name in names:
                name = ".".join([*scopes, name])
            names.add(name)
            variables[ident] = VcdVar(ident, name, kind)
            if len(variables) > MAX_CHANNELS:
                raise ValueError(f"more than {MAX_CHANNELS} variables")
        elif token.startswith("$") and token != "$end":
            _read_block(tokens)
        else:
            raise ValueError(f"not a VCD file (unexpected {token[:20]!r} in the header)")
    raise ValueError("truncated file: no $enddefinitions")


def read_vcd_header(path: Path) -> VcdHeader:
    return _header(_tokens(path))


def read_vcd_file_header(path: Path) -> CaptureHeader:
    header = read_vcd_header(path)
    return CaptureHeader(tuple(ChannelHeader(v.name, v.kind) for v in header.variables))


def _bit(value: str) -> tuple[int, bool]:
    if value == "1":
        return 1, False
    if value == "0":
        return 0, False
    if value in ("x", "X", "z", "Z"):
        return 0, True
    raise ValueError(f"bad scalar value {value!r}")


def _span_checked(first: int, last: int, step: int, header: VcdHeader, file_size: int) -> int:
    """Samples per channel of the dump, refused before anything is allocated if too many."""
    n_samples = (last - first) // step + 1
    per_sample = sum(1 if v.kind == "logic" else 8 for v in header.variables)
    try:
        check_samples(n_samples, "the dump")
        check_decoded_size(n_samples * per_sample, "the dump", file_size)
    except ValueError as exc:
        raise ValueError(
            f"time stamps #{first}…#{last} span {n_samples} samples per channel: {exc}"
        ) from None
    return n_samples


def load_vcd(path: Path) -> list[RawChannel]:
    import numpy as np

    tokens = _tokens(path)
    header = _header(tokens)
    wanted = {v.ident: v for v in header.variables}
    # Changes as compact arrays (8 bytes a time, 1 a bit, 8 a real), not Python tuples: a
    # dump of millions of changes must not cost a hundred bytes per change.
    times: dict[str, array[int]] = {v.ident: array("q") for v in header.variables}
    bits: dict[str, array[int]] = {v.ident: array("b") for v in header.variables}
    reals: dict[str, array[float]] = {v.ident: array("d") for v in header.variables}
    unknown = dict.fromkeys(wanted, 0)
    first: int | None = None
    last = 0
    step = 0
    time = 0
    for token in tokens:
        head = token[0]
        if head == "#":
            try:
                time = int(token[1:])
            except ValueError:
                raise ValueError(f"bad time stamp {token[:20]!r}") from None
            if time < last:
                raise ValueError(f"time stamps go backwards at #{time}")
            if time > _MAX_TIME:
                raise ValueError(f"time stamp {token[:24]!r} is beyond 2**62 time units")
            if first is None:
                first = time
            step = math.gcd(step, time - first)
            last = time
        elif head in "01xXzZ":
            ident = token[1:]
            # Values dumped before any time stamp are the initial values at time 0.
            first = time if first is None else first
            if ident in wanted:
                bit, is_unknown = _bit(head)
                unknown[ident] += is_unknown
                times[ident].append(time)
                bits[ident].append(bit)
        elif head in "bBrR":
            value = token[1:]
            ident = next(tokens, "")
            first = time if first is None else first
            if ident in wanted and head in "rR":
                try:
                    reals[ident].append(float(value))
                except ValueError:
                    raise ValueError(f"bad real value {value[:20]!r}") from None
                times[ident].append(time)
        elif head == "$":
            if token not in ("$dumpvars", "$dumpall", "$dumpon", "$dumpoff", "$end"):
                _read_block(tokens)
        else:
            raise ValueError(f"unexpected token {token[:20]!r}")
    if first is None:
        raise ValueError("no time stamps (empty dump)")
    step = step or 1
    n_samples = _span_checked(first, last, step, header, path.stat().st_size)
    rate = 1.0 / (step * header.timescale_s)
    out: list[RawChannel] = []
    for var in header.variables:
        logic = var.kind == "logic"
        dtype = np.uint8 if logic else np.float64
        positions = (np.frombuffer(times.pop(var.ident), dtype=np.int64) - first) // step
        source = bits.pop(var.ident) if logic else reals.pop(var.ident)
        values = np.frombuffer(source, dtype=np.int8 if logic else np.float64).astype(dtype)
        if positions.size == 0 or positions[0] != 0:
            positions = np.concatenate(([0], positions))
            values = np.concatenate((np.zeros(1, dtype), values))
        # Several changes at one time stamp: the last one wins.
        keep = np.append(positions[1:] != positions[:-1], True)
        positions, values = positions[keep], values[keep]
        lengths = np.diff(np.append(positions, n_samples))
        samples: Any = np.repeat(values, lengths)
        metadata: dict[str, object] = {"format": "vcd", "t0_s": first * header.timescale_s}
        if unknown[var.ident]:
            metadata["unknown_values"] = unknown[var.ident]
        out.append(
            RawChannel(
                name=var.name,
                samples=samples,
                sample_rate_hz=rate,
                units="bit" if logic else None,
                kind=var.kind,
                metadata=metadata,
            )
        )
    return out
