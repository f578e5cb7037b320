"""Measure equal-length captures together: the engine of the GPU strategy. Pure.

A *stack* is captures × samples as the files store them (float64, integers with one
:class:`~pytest_oscura.captures.model.Scaling`, or uint8 logic), on the host.
:func:`measure_stack` copies it to the device once (integers as integers, scaled there) and
computes, for all captures at once where the math allows:

batched over the stack (one array operation over every row)
    the extremes, mean, mean square and variance (reductions along the rows); the windowed
    FFT (one batched ``rfft``) and the tone, harmonic, spur and noise bookkeeping
    (:func:`~._spectrum.analyse_power`); the first histogram of the state levels (one
    ``bincount`` over the stack, rows offset). One copy back brings all of it to the host.
on the host, per capture
    the state levels from that histogram (a few small arrays; IEEE 181's mode, Otsu split
    and mean shift branch per capture, so a batched form would be a second definition), then
    the 10/50/90 % reference levels. A capture whose histogram needs a second pass (a glitch
    far outside the waveform) makes that pass on the device, alone.
per capture on the device
    the transition scan at that capture's reference levels (runs below 10 % and above 90 %,
    50 % crossings, the samples next to them): the levels are host numbers passed to each
    capture's comparisons as scalars, so no second upload is needed. One copy back brings
    every capture's scan to the host.
on the host
    every measurement of every capture, by the registry's functions on a
    :class:`~.signal.Signal` that holds its share of the above (:func:`~.measure_signal`).

So a stack costs one copy to the device and two back (plus a pair per capture that needs a
second histogram pass); :class:`Device` counts them. The results are those of measuring each
capture alone on the same namespace: with numpy, bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy

from pytest_oscura.measurements import measure_signal
from pytest_oscura.measurements._edges import FloatArray, IntArray, precomputed_scan
from pytest_oscura.measurements._levels import bin_count, histogram_scales, histograms
from pytest_oscura.measurements._spectrum import MIN_SAMPLES, analyse_power, power_spectra
from pytest_oscura.measurements.result import MeasurementResult, NotApplicable
from pytest_oscura.measurements.signal import Precomputed, Signal

if TYPE_CHECKING:
    from pytest_oscura.captures.model import Scaling

# Which shared results a measurement may read: spectra (the spectral set, and the period's
# spectral fallback), state levels, transitions. A name not listed (a third-party measurement)
# may read anything.
_BASIC = frozenset({"mean", "rms", "ac_rms", "min", "max", "vpp"})
_PERIOD = frozenset({"frequency", "period", "duty_cycle"})
_SPECTRAL = frozenset({"thd", "snr", "sinad", "enob", "sfdr"})
_EDGES = _PERIOD | {
    "pulse_width",
    "rise_time",
    "fall_time",
    "edge_count",
    "overshoot",
    "undershoot",
}
_LEVELS = _EDGES | {"top", "base", "amplitude"}
_KNOWN = _BASIC | _SPECTRAL | _LEVELS


@dataclass
class Transfers:
    """Bulk copies between the host and the device, and their bytes."""

    to_device: int = 0
    to_host: int = 0
    bytes_to_device: int = 0
    bytes_to_host: int = 0


class Device:
    """The array namespace a batch runs on (``cupy``, or ``numpy`` for the same code on the
    CPU) and the copies to and from it, counted in :attr:`transfers`."""

    def __init__(self, xp: Any) -> None:
        self.xp = xp
        self.transfers = Transfers()

    def put(self, host: Any) -> Any:
        """``host`` (a numpy array) on the device: one copy."""
        self.transfers.to_device += 1
        self.transfers.bytes_to_device += int(host.nbytes)
        return self.xp.asarray(host)

    def get(self, array: Any) -> Any:
        """``array`` (of the device) as a numpy array: one copy."""
        self.transfers.to_host += 1
        self.transfers.bytes_to_host += int(array.nbytes)
        if self.xp is numpy:
            return array
        return self.xp.asnumpy(array)


@dataclass(frozen=True)
class _Needs:
    spectrum: bool
    levels: bool
    edges: bool


def _needs(names: set[str]) -> _Needs:
    unknown = bool(names - _KNOWN)
    return _Needs(
        spectrum=unknown or bool(names & (_SPECTRAL | _PERIOD)),
        levels=unknown or bool(names & _LEVELS),
        edges=unknown or bool(names & _EDGES),
    )


def measure_stack(
    device: Device,
    stack: Any,
    sample_rates: Sequence[float],
    names: Sequence[tuple[str, ...]],
    scaling: Scaling | None = None,
) -> list[MeasurementResult | Exception]:
    """Measure every row of ``stack`` (2-D numpy array, captures × samples as stored) on
    ``device``: row ``k`` at ``sample_rates[k]`` with measurements ``names[k]`` (registered
    names, see :func:`~pytest_oscura.measurements.check_names`).

    A row whose own work raised gets that exception instead of its result (its caller decides
    where to measure it instead); an exception of the batched work (the device out of memory)
    propagates.
    """
    xp = device.xp
    rows = int(stack.shape[0])
    wanted = _needs(set().union(*names))
    with numpy.errstate(all="ignore"):  # as measure_detailed: extreme values end as reasons
        stored = device.put(stack)  # the one copy to the device, as the file stores the samples
        samples = (
            xp.asarray(stored, dtype=xp.float64) if scaling is None else scaling.apply(xp, stored)
        )
        del stored
        shared = _shared(device, samples, wanted)
        signals = [
            Signal(samples[k], sample_rates[k], xp, precomputed=shared[k], to_host=device.get)
            for k in range(rows)
        ]
        outcomes: list[MeasurementResult | Exception | None] = [None] * rows
        scan_rows = [k for k in range(rows) if _needs(set(names[k])).edges]
        for k, error in _scan_transitions(device, samples, signals, scan_rows).items():
            outcomes[k] = error
        results: list[MeasurementResult | Exception] = []
        for signal, row_names, outcome in zip(signals, names, outcomes, strict=True):
            if outcome is None:
                try:
                    outcome = measure_signal(signal, row_names)
                except Exception as exc:
                    outcome = exc
            results.append(outcome)
    return results


def _shared(device: Device, samples: Any, wanted: _Needs) -> list[Precomputed]:
    """The batched work over the stack, copied back in one transfer, as each row's share."""
    xp = device.xp
    rows, size = (int(n) for n in samples.shape)
    minima = samples.min(axis=1)
    maxima = samples.max(axis=1)
    mean = samples.mean(axis=1)
    mean_square = (samples * samples).sum(axis=1) / size
    centred = samples - mean[:, None]
    variance = (centred * centred).sum(axis=1) / size
    parts = [minima, maxima, mean, mean_square, variance]
    spectra = wanted.spectrum and size >= MIN_SAMPLES
    if spectra:
        power = power_spectra(xp, centred)
        del centred
        parts.append(analyse_power(xp, power, size))
        del power
    else:
        del centred
    bins = bin_count(size)
    if wanted.levels:
        scales = histogram_scales(xp, minima, maxima, bins)
        parts.extend(histograms(xp, samples, minima, scales, bins))
    host = device.get(
        xp.concatenate([xp.asarray(p, dtype=xp.float64).reshape(rows, -1) for p in parts], axis=1)
    )
    shares = []
    for row in host:
        spectrum = row[5:14] if spectra else None
        start = 14 if spectra else 5
        binned = None
        if wanted.levels:
            binned = (row[start : start + bins + 1], row[start + bins + 1 : start + 2 * bins + 2])
        shares.append(
            Precomputed(
                mean=float(row[2]),
                mean_square=float(row[3]),
                variance=float(row[4]),
                minimum=float(row[0]),
                maximum=float(row[1]),
                spectrum=spectrum,
                binned=binned,
            )
        )
    return shares


def _scan_transitions(
    device: Device, samples: Any, signals: Sequence[Signal], rows: Sequence[int]
) -> dict[int, Exception]:
    """Give each of ``rows`` that has transitions its :attr:`Signal.edge_scan`, every scan
    copied back in one transfer; the rows whose reference levels raised, with the exception."""
    xp = device.xp
    failed: dict[int, Exception] = {}
    pieces: list[Any] = []
    layout: list[tuple[int, list[int]]] = []  # row, the lengths of its pieces
    for k in rows:
        try:
            references = signals[k].reference_levels
        except Exception as exc:  # a histogram that raised on the host, or its second pass
            failed[k] = exc
            continue
        if isinstance(references, NotApplicable):
            continue
        low, mid, high = references
        row = samples[k]
        lengths = []
        ends = []
        for mask in (row < low, row > high, row > mid):
            changes = xp.flatnonzero(mask[1:] != mask[:-1]) + 1  # mask[c] != mask[c - 1]
            pieces += [changes, xp.take(row, changes - 1), xp.take(row, changes)]
            lengths.append(int(changes.shape[0]))
            ends += [mask[:1], mask[-1:]]
        pieces.append(xp.concatenate(ends))
        layout.append((k, lengths))
    if not layout:
        return failed
    host = device.get(xp.concatenate([xp.asarray(p, dtype=xp.float64) for p in pieces]))
    at = 0
    for k, lengths in layout:
        parts: list[tuple[IntArray, FloatArray, FloatArray]] = []
        for n in lengths:
            changes = host[at : at + n].astype(numpy.int64)
            parts.append((changes, host[at + n : at + 2 * n], host[at + 2 * n : at + 3 * n]))
            at += 3 * n
        ends = host[at : at + 4] != 0  # low first/last, high first/last (mid's unused)
        at += 6
        signals[k].edge_scan = precomputed_scan(signals[k].size, parts, ends)
    return failed
