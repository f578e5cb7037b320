"""A small SVG vocabulary for the report's plots: scales, ticks, unit prefixes, shapes. Pure.

The plots are written as inline SVG text rather than drawn by a plotting library: a min/max
envelope of a few hundred columns is one polygon of a few kB, drawn in microseconds, and stays
sharp at any zoom of the page. Styling lives in the page's style sheet (class names below), so
each shape carries only its coordinates.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_oscura.report.envelope import FloatArray

# Units that take SI prefixes on an axis (others are shown as they are: %, dB, bits, ...).
PREFIXED_UNITS = frozenset({"s", "Hz", "V", "A", "W", "FS", "bit"})
_PREFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"))


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def num(value: float) -> str:
    """A coordinate: one decimal, no trailing ``.0`` (the bulk of an SVG's bytes)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def prefix_for(magnitude: float, unit: str) -> tuple[float, str]:
    """``(factor, unit text)`` that shows values of about ``magnitude`` in readable numbers:
    ``prefix_for(0.002, "s")`` is ``(1e3, "ms")``."""
    if unit not in PREFIXED_UNITS or not math.isfinite(magnitude) or magnitude == 0:
        return 1.0, unit
    for scale, prefix in _PREFIXES:
        if magnitude >= scale:
            return 1.0 / scale, prefix + unit
    return 1e9, "n" + unit


def with_unit(value: float, unit: str, digits: int = 4) -> str:
    """One value with a prefixed unit: ``with_unit(0.0012, "s")`` is ``"1.2 ms"``."""
    if not math.isfinite(value):
        return str(value)
    factor, shown = prefix_for(abs(value), unit)
    return f"{value * factor:.{digits}g} {shown}".rstrip()


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Round tick values (1, 2, 5 × 10ⁿ steps) covering about ``count`` intervals of the range."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks: list[float] = []
    value = first
    while value <= high + step * 1e-9 and len(ticks) < 50:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value += step
    return ticks


def tick_text(value: float, step: float) -> str:
    """A tick label with as many decimals as the tick step needs."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 0
    return f"{value:.{min(decimals, 9)}f}"


def padded(values: Iterable[float], pad: float = 0.05) -> tuple[float, float]:
    """The range of the finite ``values``, widened by ``pad`` of it on each side (never empty)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    low, high = min(finite), max(finite)
    # A range at float resolution (equal values, or a few ulps apart) is widened to a visible one.
    least = max(abs(low), abs(high)) * 1e-9
    if high - low <= least:
        spread = max(abs(low) * 1e-3, 1e-300) if low else 1.0
        return low - spread, high + spread
    span = high - low
    return low - pad * span, high + pad * span


@dataclass(frozen=True)
class Scale:
    """A linear map from data values ``[low, high]`` to pixels ``[start, stop]``."""

    low: float
    high: float
    start: float
    stop: float

    def __call__(self, value: float) -> float:
        if self.high == self.low:
            return (self.start + self.stop) / 2
        fraction = (value - self.low) / (self.high - self.low)
        return self.start + fraction * (self.stop - self.start)

    def array(self, values: Any) -> FloatArray:
        """The pixels of many values at once."""
        x = np.asarray(values, dtype=np.float64)
        if self.high == self.low:
            return np.full(x.shape, (self.start + self.stop) / 2)
        scaled: FloatArray = self.start + (x - self.low) * (
            (self.stop - self.start) / (self.high - self.low)
        )
        return scaled

    def clamp(self, value: float) -> float:
        lo, hi = sorted((self.start, self.stop))
        return min(max(self(value), lo), hi)


def points(xs: Sequence[float] | FloatArray, ys: Sequence[float] | FloatArray) -> str:
    """``"x y x y …"`` (SVG takes spaces between the numbers of a pair too), to 0.1 px; written
    from numpy arrays at once, since an envelope has thousands of them."""
    x, y = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"{x.shape=} and {y.shape=} differ")
    flat = np.empty(2 * x.size)
    flat[0::2], flat[1::2] = x, y
    return " ".join(map(str, np.round(flat, 1).tolist()))


def polyline(xs: Sequence[float] | FloatArray, ys: Sequence[float] | FloatArray, cls: str) -> str:
    return f'<polyline class="{cls}" points="{points(xs, ys)}"/>'


def band(xs: FloatArray, lows: FloatArray, highs: FloatArray, cls: str) -> str:
    """A filled band between two curves: the envelope polygon (highs forward, lows back)."""
    return f'<polygon class="{cls}" points="{points(xs, highs)} {points(xs[::-1], lows[::-1])}"/>'


def line(x1: float, y1: float, x2: float, y2: float, cls: str) -> str:
    return f'<line class="{cls}" x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}"/>'


def text(x: float, y: float, content: object, cls: str = "", anchor: str = "start") -> str:
    anchor_attr = "" if anchor == "start" else f' text-anchor="{anchor}"'
    cls_attr = f' class="{cls}"' if cls else ""
    return f'<text x="{num(x)}" y="{num(y)}"{cls_attr}{anchor_attr}>{esc(content)}</text>'


def rect(x: float, y: float, width: float, height: float, cls: str) -> str:
    return (
        f'<rect class="{cls}" x="{num(x)}" y="{num(y)}" '
        f'width="{num(max(width, 0.0))}" height="{num(max(height, 0.0))}"/>'
    )


def svg(width: int, height: int, label: str, body: Iterable[str]) -> str:
    """An inline SVG element (no namespace needed inside HTML) with an accessible label."""
    return (
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{esc(label)}"><title>{esc(label)}</title>'
        + "".join(body)
        + "</svg>"
    )


@dataclass(frozen=True)
class Frame:
    """A plot area inside a figure of ``width`` × ``height`` pixels, with margins for axes."""

    width: int
    height: int
    left: float = 64
    right: float = 16
    top: float = 26
    bottom: float = 34

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - self.right

    @property
    def y0(self) -> float:
        return self.height - self.bottom

    @property
    def y1(self) -> float:
        return self.top

    def scales(self, x: tuple[float, float], y: tuple[float, float]) -> tuple[Scale, Scale]:
        return Scale(x[0], x[1], self.x0, self.x1), Scale(y[0], y[1], self.y0, self.y1)


def axes(frame: Frame, sx: Scale, sy: Scale, x_unit: str, y_unit: str) -> list[str]:
    """Grid, frame and tick labels of both axes; the unit (with its prefix) names each axis."""
    out = [rect(frame.x0, frame.y1, frame.x1 - frame.x0, frame.y0 - frame.y1, "pa")]
    x_factor, x_shown = prefix_for(max(abs(sx.low), abs(sx.high)), x_unit)
    y_factor, y_shown = prefix_for(max(abs(sy.low), abs(sy.high)), y_unit)
    xt = nice_ticks(sx.low * x_factor, sx.high * x_factor, 8)
    yt = nice_ticks(sy.low * y_factor, sy.high * y_factor, 5)
    x_step = xt[1] - xt[0] if len(xt) > 1 else 1.0
    y_step = yt[1] - yt[0] if len(yt) > 1 else 1.0
    for value in xt:
        x = sx(value / x_factor)
        out.append(line(x, frame.y1, x, frame.y0, "gr"))
        out.append(text(x, frame.y0 + 14, tick_text(value, x_step), "tk", "middle"))
    for value in yt:
        y = sy(value / y_factor)
        out.append(line(frame.x0, y, frame.x1, y, "gr"))
        out.append(text(frame.x0 - 5, y + 4, tick_text(value, y_step), "tk", "end"))
    if x_shown:
        out.append(text(frame.x1, frame.height - 4, x_shown, "al", "end"))
    if y_shown:
        out.append(text(6, frame.y1 - 10, y_shown, "al"))
    return out


def _legend_width(label: str) -> float:
    return 26 + 6.2 * len(label)


def legend_rows(x: float, max_x: float, entries: Sequence[tuple[str, str]]) -> int:
    """How many lines :func:`legend` needs between ``x`` and ``max_x``."""
    rows, at = 1, x
    for _, label in entries:
        if at > x and at + _legend_width(label) > max_x:
            rows, at = rows + 1, x
        at += _legend_width(label)
    return rows


def legend(
    x: float, y: float, entries: Sequence[tuple[str, str]], max_x: float = math.inf
) -> list[str]:
    """A legend of ``(class of the swatch, label)`` pairs from ``x`` rightwards, wrapped onto
    further lines 13 px apart before ``max_x``."""
    out = []
    at = x
    for cls, label in entries:
        if at > x and at + _legend_width(label) > max_x:
            at, y = x, y + 13
        out.append(rect(at, y - 8, 14, 8, cls))
        out.append(text(at + 18, y, label, "lg"))
        at += _legend_width(label)
    return out
