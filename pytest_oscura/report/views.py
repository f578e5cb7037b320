"""What the HTML report draws of one capture, computed from its samples once. Pure.

:func:`build_view` reduces a record (any length) to the few arrays the plots need and drops the
samples: the min/max envelope of the whole record, the state levels and crossing instants from
the measurement engine (:class:`~pytest_oscura.measurements.signal.Signal`, the same code that
measured the capture), a zoom on one period for timing failures and a decimated spectrum for
spectral failures. A view holds copies, never slices of the samples, so a 10-million-sample
record is freed as soon as its view is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from pytest_oscura.report.envelope import Envelope, FloatArray, envelope
from pytest_oscura.report.samples import ItemSamples

#: Columns of a waveform, zoom or spectrum plot: about one per pixel of the plot area.
COLUMNS = 720
#: Longest record whose whole spectrum is computed; longer ones use their first samples.
MAX_FFT_SAMPLES = 1 << 20
#: Crossing instants drawn on the whole waveform at most (more would merge into a band).
MAX_MARKED_CROSSINGS = 60


@dataclass(frozen=True)
class Instant:
    """A reference-level instant: time (s), level (sample units) and label (``"50 %"``)."""

    time_s: float
    level: float
    label: str


@dataclass(frozen=True)
class Zoom:
    """One period of the record, as samples (or their envelope where a period is long)."""

    envelope: Envelope
    start_s: float
    period_s: float
    instants: tuple[Instant, ...]


@dataclass(frozen=True)
class SpectrumView:
    """A decimated power spectrum in dB relative to its largest bin (dBc)."""

    frequency_hz: FloatArray
    dbc: FloatArray
    fundamental_hz: float
    harmonics_hz: tuple[tuple[int, float], ...]
    samples_used: int
    samples_total: int


@dataclass(frozen=True)
class CaptureView:
    """Everything the report draws of one capture; ``*_note`` says why a part is missing."""

    envelope: Envelope
    base: float | None = None
    top: float | None = None
    rising_s: FloatArray = field(default_factory=lambda: np.zeros(0))
    falling_s: FloatArray = field(default_factory=lambda: np.zeros(0))
    zoom: Zoom | None = None
    spectrum: SpectrumView | None = None
    notes: tuple[str, ...] = ()

    def reference(self, fraction: float) -> float | None:
        if self.base is None or self.top is None:
            return None
        return self.base + fraction * (self.top - self.base)


def build_view(
    item: ItemSamples, *, marks: bool, zoom: bool, spectrum: bool, columns: int = COLUMNS
) -> CaptureView:
    """The view of one item: envelope always; levels and crossings when ``marks``; a zoom on one
    period when ``zoom``; a spectrum when ``spectrum``."""
    from pytest_oscura.measurements import NotApplicable, Signal

    x = np.asarray(item.samples, dtype=np.float64)
    rate = item.sample_rate_hz
    whole = envelope(x, rate, columns, item.units)
    notes: list[str] = []
    base = top = None
    rising = falling = np.zeros(0)
    zoomed = None
    with np.errstate(all="ignore"):
        signal = Signal(x, rate)
        if marks or zoom:
            try:
                levels = signal.require_two_levels()
                base, top = levels.base, levels.top
                edges = signal.edges
                rising, falling = edges.rising_mid / rate, edges.falling_mid / rate
            except NotApplicable as exc:
                notes.append(f"levels: {exc}")
        if zoom:
            try:
                zoomed = _zoom(x, rate, signal.period_samples, base, top, rising, falling, columns)
                if zoomed is None:
                    notes.append("no zoom on a period: fewer than 3 samples per period")
            except NotApplicable as exc:
                notes.append(f"no zoom on a period: {exc}")
        spectral = _spectrum(x, rate, columns) if spectrum else None
    if spectrum and spectral is None:
        notes.append("no spectrum: the signal is constant or too short")
    return CaptureView(whole, base, top, rising, falling, zoomed, spectral, tuple(notes))


def _zoom(
    x: FloatArray,
    rate: float,
    period: float,
    base: float | None,
    top: float | None,
    rising_s: FloatArray,
    falling_s: FloatArray,
    columns: int,
) -> Zoom | None:
    """About one period around the rising crossing nearest the middle of the record."""
    n = x.size
    if not (math.isfinite(period) and period >= 3):
        return None
    if rising_s.size:
        centre = rising_s[np.argmin(np.abs(rising_s * rate - n / 2))] * rate
        start = centre - 0.25 * period
    else:
        start = n / 2 - 0.5 * period
    first = max(0, math.floor(start))
    stop = min(n, math.ceil(first + 1.5 * period) + 1)
    if stop - first < 3:
        return None
    window = envelope(x[first:stop], rate, columns)
    instants: list[Instant] = []
    if base is not None and top is not None and top > base:
        low, mid, high = (base + f * (top - base) for f in (0.1, 0.5, 0.9))
        for rising, mids in ((True, rising_s), (False, falling_s)):
            for t_mid in mids[(mids * rate >= first) & (mids * rate < stop - 1)]:
                instants.append(Instant(float(t_mid), mid, "50 %"))
                for t, level, label in _ends(x, t_mid * rate, rising, low, high, period):
                    instants.append(Instant(t / rate, level, label))
    return Zoom(window, first / rate, period / rate, tuple(sorted(instants, key=_by_time)))


def _by_time(instant: Instant) -> float:
    return instant.time_s


def _ends(
    x: FloatArray, t_mid: float, rising: bool, low: float, high: float, period: float
) -> list[tuple[float, float, str]]:
    """The 10 % and 90 % instants (samples) of the transition through ``t_mid``, IEEE 181: from
    the last sample on the old side of the start level to the first past the end level."""
    m = math.floor(t_mid)
    reach = max(2, int(period))
    before = x[max(0, m - reach) : m + 1]
    after = x[m + 1 : m + 1 + reach]
    start_level, end_level = (low, high) if rising else (high, low)
    old_side = before < start_level if rising else before > start_level
    new_side = after > end_level if rising else after < end_level
    found: list[tuple[float, float, str]] = []
    if old_side.any():
        j = max(0, m - reach) + int(np.flatnonzero(old_side)[-1])
        if j + 1 < x.size and x[j + 1] != x[j]:
            t = j + (start_level - x[j]) / (x[j + 1] - x[j])
            found.append((float(t), start_level, "10 %" if rising else "90 %"))
    if new_side.any():
        k = m + 1 + int(np.flatnonzero(new_side)[0])
        if k >= 1 and x[k] != x[k - 1]:
            t = (k - 1) + (end_level - x[k - 1]) / (x[k] - x[k - 1])
            found.append((float(t), end_level, "90 %" if rising else "10 %"))
    return found


def _spectrum(x: FloatArray, rate: float, columns: int) -> SpectrumView | None:
    """Blackman-Harris windowed power spectrum in dBc, max-decimated to ``columns`` columns."""
    from pytest_oscura.measurements._spectrum import HARMONICS, MIN_SAMPLES, blackman_harris

    used = x[:MAX_FFT_SAMPLES]
    n = int(used.size)
    if n < MIN_SAMPLES or not used.max() > used.min():
        return None
    power = np.abs(np.fft.rfft((used - used.mean()) * blackman_harris(n, np))) ** 2
    peak = int(np.argmax(power[1:])) + 1
    if not power[peak] > 0:
        return None
    db: FloatArray = np.asarray(10 * np.log10(np.maximum(power / power[peak], 1e-20)), np.float64)
    freqs: FloatArray = np.arange(power.size, dtype=np.float64) * (rate / n)
    if power.size > columns:
        starts = (np.arange(columns) * power.size) // columns
        db = np.asarray(np.maximum.reduceat(db, starts), dtype=np.float64)
        stops = np.append(starts[1:], power.size)
        freqs = np.asarray((starts + stops - 1) / 2.0 * (rate / n), dtype=np.float64)
    fundamental = peak * rate / n
    harmonics = []
    for h in HARMONICS:
        alias = math.fmod(h * fundamental, rate)
        harmonics.append((h, rate - alias if alias > rate / 2 else alias))
    return SpectrumView(freqs, db, fundamental, tuple(harmonics), n, int(x.size))
