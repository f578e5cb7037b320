"""The figures of one capture as inline SVG: its waveform, one period, its spectrum. Pure.

Each function takes a :class:`~pytest_oscura.report.views.CaptureView` (already reduced to a
few thousand numbers) and returns the ``<svg>`` element as text.

* :func:`waveform_svg`: tonight's min/max envelope (blue band), the accepted one stored with the
  baseline (orange outline, ``--oscura-baseline-waveforms``), the engine's top/base levels, the
  10/50/90 % reference levels, the 50 % crossing instants, and the failing (or outlying) level
  measurements against their baseline (or group median).
* :func:`zoom_svg`: one period of the samples, the reference levels, every 10/50/90 % instant
  and the period and pulse width they span, with the accepted waveform where it resolves.
* :func:`spectrum_svg`: the windowed power spectrum in dBc, the fundamental and harmonics 2..10.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pytest_oscura.report.envelope import Envelope, FloatArray, column_starts
from pytest_oscura.report.svg import (
    Frame,
    Scale,
    axes,
    band,
    legend,
    legend_rows,
    line,
    num,
    padded,
    polyline,
    svg,
    text,
    with_unit,
)
from pytest_oscura.report.views import MAX_MARKED_CROSSINGS, CaptureView, SpectrumView, Zoom

WIDTH = 800
#: Columns of the accepted envelope that must fall inside the zoom for it to be drawn there.
_MIN_ZOOM_COLUMNS = 8


@dataclass(frozen=True)
class LevelLine:
    """A level measurement drawn across the waveform: tonight's value and what it is compared
    with (``reference``, named ``reference_label``); ``outlier`` draws it in the outlier colour."""

    name: str
    value: float
    reference: float | None
    reference_label: str = "baseline"
    outlier: bool = False


def _draw(
    times: FloatArray,
    lows: FloatArray,
    highs: FloatArray,
    every: bool,
    sx: Scale,
    sy: Scale,
    cls: str,
) -> str:
    xs = sx.array(times)
    if every:  # every sample kept: a line through them
        return polyline(xs, sy.array(highs), cls + " ln")
    return band(xs, sy.array(lows), sy.array(highs), cls)


def _trace(env: Envelope, sx: Scale, sy: Scale, offset_s: float, cls: str) -> str:
    every = env.samples <= env.columns
    return _draw(env.times() + offset_s, env.low, env.high, every, sx, sy, cls)


def _window(env: Envelope, start: float, stop: float, sx: Scale, sy: Scale, cls: str) -> str:
    """The columns of ``env`` between ``start`` and ``stop`` (s), if enough resolve there.

    Zoomed in, each column is drawn as the box it is (its time span × its min..max), never as
    a line from one column to the next, which would draw a sharp edge as a slow ramp.
    """
    times = env.times()
    inside = np.flatnonzero((times >= start) & (times <= stop))
    every = env.samples <= env.columns
    if inside.size < (2 if every else _MIN_ZOOM_COLUMNS):
        return ""
    a, b = int(inside[0]), int(inside[-1]) + 1
    if every:
        return _draw(times[a:b], env.low[a:b], env.high[a:b], every, sx, sy, cls)
    edges = np.append(column_starts(env.samples, env.columns), env.samples) / env.sample_rate_hz
    left, right = sx.array(edges[a:b]), sx.array(edges[a + 1 : b + 1])
    top, bottom = sy.array(env.high[a:b]), sy.array(env.low[a:b])
    boxes = "".join(
        f"M{x1:.1f} {y1:.1f}H{x2:.1f}V{y2:.1f}H{x1:.1f}z"
        for x1, x2, y1, y2 in zip(
            left.tolist(), right.tolist(), top.tolist(), bottom.tolist(), strict=True
        )
    )
    return f'<path class="{cls}" d="{boxes}"/>'


def spread(
    labels: Sequence[tuple[float, str]], top: float, bottom: float, gap: float = 12
) -> list[tuple[float, str]]:
    """Label positions moved apart by at least ``gap`` pixels, kept within [top, bottom]."""
    placed: list[tuple[float, str]] = []
    for y, label in sorted(labels):
        placed.append((max(y, top, placed[-1][0] + gap if placed else top), label))
    overflow = placed[-1][0] - bottom if placed else 0.0
    if overflow > 0:  # pushed past the bottom: move the stack up, never above the top
        placed = [(max(top, y - overflow), label) for y, label in placed]
    return placed


def _frame(height: int, entries: Sequence[tuple[str, str]]) -> Frame:
    """A plot frame with room above it for the legend's rows."""
    extra = 13 * (legend_rows(64, WIDTH - 16, entries) - 1)
    return Frame(WIDTH, height + extra, top=26 + extra)


def _crossing_entry(view: CaptureView) -> tuple[str, str] | None:
    count = int(view.rising_s.size + view.falling_s.size)
    if not count:
        return None
    if count <= MAX_MARKED_CROSSINGS:
        return "s-xg", f"{count} crossings (50 %)"
    return "s-xg", f"{count} crossings" + (", zoom below" if view.zoom is not None else "")


def waveform_svg(
    view: CaptureView,
    accepted: Envelope | None,
    lines: Sequence[LevelLine] = (),
    label: str = "waveform",
) -> str:
    """The whole record, decimated to its envelope, with the engine's levels and crossings."""
    env = view.envelope
    marks = view.top is not None and view.base is not None
    entries = [("s-now", "tonight")]
    if accepted is not None:
        entries.append(("s-acc", "accepted"))
    crossings = _crossing_entry(view) if marks else None
    if marks:
        entries += [("s-lvl", "top / base"), ("s-ref", "10/50/90 %")]
    if crossings is not None:
        entries.append(crossings)
    if any(not ln.outlier for ln in lines):
        entries.append(("s-fail", "failing (dashed: baseline)"))
    if any(ln.outlier for ln in lines):
        entries.append(("s-ol", "outlier (dashed: group median)"))
    frame = _frame(250, entries)
    duration = max(env.duration_s, accepted.duration_s if accepted is not None else 0.0)
    values = [float(np.min(env.low)), float(np.max(env.high))]
    if accepted is not None:
        values += [float(np.min(accepted.low)), float(np.max(accepted.high))]
    values += [ln.value for ln in lines] + [
        ln.reference for ln in lines if ln.reference is not None
    ]
    sx, sy = frame.scales((0.0, duration), padded(values, 0.08))
    body = axes(frame, sx, sy, "s", env.units)
    if accepted is not None:
        # Under tonight's band: where they agree tonight's covers it, where they differ
        # (amplitude, level, a missing burst) the accepted one shows beside it.
        every = accepted.samples <= accepted.columns
        body.append(_trace(accepted, sx, sy, 0.0, "acc" if every else "accf"))
    body.append(_trace(env, sx, sy, 0.0, "s-now"))
    right: list[tuple[float, str]] = []
    if view.top is not None and view.base is not None:
        for name, level in (("top", view.top), ("base", view.base)):
            y = sy(level)
            body.append(line(frame.x0, y, frame.x1, y, "lvl"))
            tag = f"{name} {with_unit(level, env.units)}"
            right.append((y - 3 if name == "top" else y + 11, tag))
        for fraction in (0.1, 0.5, 0.9):
            y = sy(view.base + fraction * (view.top - view.base))
            body.append(line(frame.x0, y, frame.x1, y, "ref"))
            body.append(text(frame.x0 + 4, y - 3, f"{fraction:.0%}", "rt"))
        all_crossings = np.concatenate([view.rising_s, view.falling_s])
        if all_crossings.size <= MAX_MARKED_CROSSINGS:
            mid = sy(view.base + 0.5 * (view.top - view.base))
            body += [line(sx(t), mid - 5, sx(t), mid + 5, "xg") for t in all_crossings]
    for y, tag in spread(right, frame.y1 + 10, frame.y0 - 2):
        body.append(text(frame.x1 - 4, y, tag, "lt", "end"))
    captions = []
    styles: dict[str, str] = {}
    for ln in lines:
        y = sy(ln.value)
        body.append(line(frame.x0, y, frame.x1, y, "ov" if ln.outlier else "fv"))
        caption = f"{ln.name} {with_unit(ln.value, env.units)}"
        if ln.reference is not None:
            yb = sy(ln.reference)
            body.append(line(frame.x0, yb, frame.x1, yb, "ob" if ln.outlier else "fb"))
            caption += f" · {ln.reference_label} {with_unit(ln.reference, env.units)}"
        captions.append((y - 3, caption))
        styles[caption] = "ot" if ln.outlier else "ft"
    for y, caption in spread(captions, frame.y1 + 10, frame.y0 - 2, gap=14):
        body.append(text(frame.x0 + 40, y, caption, styles[caption]))
    body += legend(frame.x0, 14, entries, frame.x1)
    return svg(frame.width, frame.height, label, body)


def zoom_svg(
    zoom: Zoom, view: CaptureView, accepted: Envelope | None = None, label: str = "one period"
) -> str:
    """One period of the samples, its reference levels and reference-level instants."""
    env = zoom.envelope
    start, stop = zoom.start_s, zoom.start_s + env.duration_s
    values = [float(np.min(env.low)), float(np.max(env.high))]
    sx, sy = Frame(WIDTH, 230).scales((start, stop), padded(values, 0.1))
    old = _window(accepted, start, stop, sx, sy, "accz") if accepted is not None else ""
    entries = [("s-now", "samples")]
    if old:
        entries.append(("s-acc", "accepted"))
    entries.append(("s-ins", "10/50/90 % instants"))
    frame = _frame(230, entries)
    sx, sy = frame.scales((start, stop), padded(values, 0.1))
    old = _window(accepted, start, stop, sx, sy, "accz") if accepted is not None else ""
    body = axes(frame, sx, sy, "s", env.units)
    body.append(_trace(env, sx, sy, start, "s-now"))
    body.append(old)
    if env.samples <= 80:
        body += [
            f'<circle class="pt" cx="{num(sx(t))}" cy="{num(sy(v))}" r="2"/>'
            for t, v in zip(env.times() + start, env.high, strict=True)
        ]
    for fraction in (0.1, 0.5, 0.9):
        level = view.reference(fraction)
        if level is not None:
            y = sy(level)
            body.append(line(frame.x0, y, frame.x1, y, "ref"))
            body.append(text(frame.x0 + 4, y - 3, f"{fraction:.0%}", "rt"))
    for instant in zoom.instants:
        x, y = sx(instant.time_s), sy(instant.level)
        body.append(f'<circle class="ins" cx="{num(x)}" cy="{num(y)}" r="3.5"/>')
    body += _spans(zoom, view, sx, frame.y1 + 12)
    body += legend(frame.x0, 14, entries, frame.x1)
    return svg(frame.width, frame.height, label, body)


def _spans(zoom: Zoom, view: CaptureView, sx: Scale, y: float) -> list[str]:
    """Brackets for the period (rising to rising) and pulse width (rising to falling)."""
    rising = set(view.rising_s.tolist())
    mids = [i for i in zoom.instants if i.label == "50 %"]
    first = next((i for i in mids if i.time_s in rising), None)
    if first is None:
        return []
    later = [i for i in mids if i.time_s > first.time_s]
    ends = (
        (next((i for i in later if i.time_s in rising), None), "period", y),
        (next((i for i in later if i.time_s not in rising), None), "pulse width", y + 16),
    )
    out = []
    for other, name, at in ends:
        if other is None:
            continue
        x1, x2 = sx(first.time_s), sx(other.time_s)
        out.append(line(x1, at, x2, at, "dim"))
        out += [line(x, at - 4, x, at + 4, "dim") for x in (x1, x2)]
        span = with_unit(other.time_s - first.time_s, "s")
        out.append(text((x1 + x2) / 2, at - 3, f"{name} {span}", "dt", "middle"))
    return out


def spectrum_svg(spectrum: SpectrumView, label: str = "spectrum") -> str:
    """The power spectrum (dBc, Blackman-Harris window) with the fundamental and harmonics."""
    entries = [("s-sp", "power (dBc)"), ("s-hm", "harmonics 2..10")]
    frame = _frame(230, entries)
    floor = 20 * math.floor(max(float(np.min(spectrum.dbc)), -180.0) / 20)
    nyquist = float(spectrum.frequency_hz[-1]) if spectrum.frequency_hz.size else 1.0
    sx, sy = frame.scales((0.0, nyquist), (floor, 10.0))
    body = axes(frame, sx, sy, "Hz", "dBc")
    ys = sy.array(np.maximum(spectrum.dbc, floor))
    body.append(polyline(sx.array(spectrum.frequency_hz), ys, "sp"))
    fundamental = f"f0 {with_unit(spectrum.fundamental_hz, 'Hz')}"
    body.append(text(sx(spectrum.fundamental_hz) + 4, frame.y1 + 12, fundamental, "ft"))
    for order, frequency in spectrum.harmonics_hz:
        x = sx(frequency)
        body.append(line(x, frame.y1 + 16, x, frame.y0, "hm"))
        body.append(text(x, frame.y1 + 26, order, "ht", "middle"))
    body += legend(frame.x0, 14, entries, frame.x1)
    if spectrum.samples_used < spectrum.samples_total:
        used = f"first {spectrum.samples_used:,} of {spectrum.samples_total:,} samples"
        body.append(text(frame.x1, 14, used, "lg", "end"))
    return svg(frame.width, frame.height, label, body)
