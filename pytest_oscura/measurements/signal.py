"""A signal under measurement and the computations its measurements share. Pure.

Every array operation goes through the array namespace ``xp`` (numpy by default), restricted to
what numpy and CuPy both provide, so the same code can run on a GPU. A batch of captures
(:mod:`.batch`) computes the shared reductions, spectra and histograms of all of them at once
and hands each :class:`Signal` its row (:class:`Precomputed`): the measurement functions stay
the one definition of every measurement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import numpy

from pytest_oscura.measurements._edges import (
    Edges,
    EdgeScan,
    PeriodFit,
    SampleScan,
    find_edges,
    fit_period,
)
from pytest_oscura.measurements._levels import (
    MIN_TWO_STATE_FRACTION,
    StateLevels,
    histogram_state_levels,
)
from pytest_oscura.measurements._spectrum import Spectrum, compute_spectrum, spectrum_from_row
from pytest_oscura.measurements.result import NotApplicable

if TYPE_CHECKING:
    from pytest_oscura.captures.model import Scaling

_T = TypeVar("_T")

#: Same-direction crossings deviating from a straight line by more than this many periods (RMS)
#: are not a periodic signal; frequency then comes from the spectrum.
MAX_CROSSING_JITTER = 0.05


def _cached(exc: NotApplicable) -> NotApplicable:
    """``exc`` without its traceback, to be cached on the signal.

    A traceback holds the frames that raised, and they hold the signal: cached with it, every
    signal would sit in a reference cycle that only the garbage collector frees, so a file's
    channels measured one after another would keep their float64 copies alive together.
    """
    return exc.with_traceback(None)


def _regular(fit: PeriodFit) -> bool:
    """Crossings on a straight line: a periodic signal whose period the fit can give."""
    return fit.period > 0 and fit.jitter <= MAX_CROSSING_JITTER


def _unwrap(outcome: _T | NotApplicable) -> _T:
    if isinstance(outcome, NotApplicable):
        raise NotApplicable(str(outcome))
    return outcome


@dataclass(frozen=True)
class Precomputed:
    """What a batch computed for one of its captures (:mod:`.batch`), all on the host."""

    mean: float
    mean_square: float
    variance: float
    minimum: float
    maximum: float
    #: the capture's row of :func:`~._spectrum.analyse_power`, where the batch had spectra
    spectrum: Any = None
    #: the capture's row of :func:`~._levels.histograms` (counts, sums), where it had them
    binned: tuple[Any, Any] | None = None


class Signal:
    """One channel's samples (1-D, in the capture's units) and sample rate in Hz.

    Shared intermediate results are ``cached_property`` attributes, so a measurement set computes
    each of them once per signal: the state levels (one histogram), the transitions (one scan),
    the period and the windowed spectrum (one FFT). A shared result that does not apply is cached
    as its :class:`NotApplicable` and raised again by the accessor, so the reason is computed once
    too. Times inside these results are in samples; measurements convert to seconds.

    ``samples`` may be the integers a file stores, with the ``scaling`` that turns them into
    values (:class:`~pytest_oscura.captures.model.Scaling`); the float64 copy is made here, in
    namespace ``xp``. ``precomputed`` is this capture's share of a batch (then its reductions,
    spectrum and histogram are not computed again), ``edge_scan`` (set by a batch once the
    reference levels are known) its transition scan, and ``to_host`` replaces
    :meth:`to_host` (a batch counts its transfers).
    """

    def __init__(
        self,
        samples: Any,
        sample_rate_hz: float,
        xp: Any = None,
        *,
        scaling: Scaling | None = None,
        precomputed: Precomputed | None = None,
        to_host: Any = None,
    ) -> None:
        self.xp = numpy if xp is None else xp
        if scaling is None:
            self.samples = self.xp.asarray(samples, dtype=self.xp.float64)
        else:
            self.samples = scaling.apply(self.xp, samples)
        self.sample_rate_hz = float(sample_rate_hz)
        self._host = to_host
        self.edge_scan: EdgeScan | None = None
        self._precomputed = precomputed
        if precomputed is not None:
            # The batch's values of the cached properties below.
            self.__dict__.update(
                mean=precomputed.mean,
                mean_square=precomputed.mean_square,
                variance=precomputed.variance,
                minimum=precomputed.minimum,
                maximum=precomputed.maximum,
            )

    @property
    def size(self) -> int:
        return int(self.samples.size)

    @cached_property
    def problem(self) -> str | None:
        """Why no measurement applies to this signal at all, or ``None``."""
        if self.samples.ndim != 1:
            return f"samples must be 1-D, got {self.samples.ndim}-D"
        if self.size == 0:
            return "no samples"
        # min and max propagate NaN and are ±inf if any sample is: two cached reductions
        # instead of an isfinite pass and an all() pass.
        if not (math.isfinite(self.minimum) and math.isfinite(self.maximum)):
            return "samples contain NaN or infinite values"
        if not (self.sample_rate_hz > 0 and self.sample_rate_hz < float("inf")):
            return f"sample rate {self.sample_rate_hz!r} Hz is not a positive number"
        return None

    def require_valid(self) -> None:
        if self.problem is not None:
            raise NotApplicable(self.problem)

    @cached_property
    def mean(self) -> float:
        return float(self.xp.mean(self.samples))

    @cached_property
    def mean_square(self) -> float:
        # Not xp.dot: OpenBLAS threads a long dot product, and its spinning threads took the
        # second core for nothing, so two captures measured in parallel ran no faster than one.
        return float(self.xp.sum(self.samples * self.samples)) / self.size

    @cached_property
    def centred(self) -> Any:
        """``samples − mean`` (shared by ``ac_rms`` and the spectrum; never modified)."""
        return self.samples - self.mean

    @cached_property
    def variance(self) -> float:
        """Mean square of :attr:`centred` (population variance, ddof = 0)."""
        return float(self.xp.sum(self.centred * self.centred)) / self.size

    @cached_property
    def minimum(self) -> float:
        return float(self.xp.min(self.samples))

    @cached_property
    def maximum(self) -> float:
        return float(self.xp.max(self.samples))

    def to_host(self, array: Any) -> Any:
        """A small array of this signal's namespace as a numpy array (a copy off a GPU)."""
        if self._host is not None:
            return self._host(array)
        if self.xp is numpy:
            return array
        return self.xp.asnumpy(array)

    # -- state levels -------------------------------------------------------------------------

    @cached_property
    def state_levels(self) -> StateLevels:
        """IEEE 181 histogram base and top levels (see :mod:`._levels`)."""
        self.require_valid()
        binned = None if self._precomputed is None else self._precomputed.binned
        return histogram_state_levels(
            self.xp, self.samples, self.minimum, self.maximum, self.to_host, binned
        )

    def require_two_levels(self) -> StateLevels:
        """The state levels, or :class:`NotApplicable` when top and base coincide."""
        levels = self.state_levels
        if not levels.top > levels.base:
            raise NotApplicable("signal is constant: no distinct top and base levels")
        return levels

    # -- transitions --------------------------------------------------------------------------

    @cached_property
    def reference_levels(self) -> tuple[float, float, float] | NotApplicable:
        """The 10 %, 50 % and 90 % reference levels transitions are found with, or why this
        signal has no transitions."""
        try:
            self.require_valid()
            if self.size < 3:
                return NotApplicable(f"too few samples for a transition ({self.size})")
            levels = self.require_two_levels()
        except NotApplicable as exc:
            return _cached(exc)
        return levels.reference(0.1), levels.reference(0.5), levels.reference(0.9)

    @cached_property
    def _edges(self) -> Edges | NotApplicable:
        references = self.reference_levels
        if isinstance(references, NotApplicable):
            return references
        scan = self.edge_scan
        if scan is None:
            scan = SampleScan(self.xp, self.samples, *references, self.to_host)
        return find_edges(scan, *references)

    @property
    def edges(self) -> Edges:
        """Complete transitions with 10 %/90 % hysteresis (instants in samples)."""
        return _unwrap(self._edges)

    @cached_property
    def _crossing_fit(self) -> PeriodFit | None:
        """Least-squares period of the 50 % crossings; ``None`` with too few of them."""
        edges = self.edges
        return fit_period(edges.rising_mid, edges.falling_mid)

    @property
    def resolved_edges(self) -> Edges:
        """The transitions, where they can be told from the noise; else :class:`NotApplicable`.

        Hysteresis keeps noise from making edges only while the noise stays well inside the
        10 %..90 % band. When crossings are irregular (the period has to come from the
        spectrum) and the waveform is not two-state (fewer than half the samples near the top
        or base level), the transitions are made by the noise, and every value computed from
        them (a duty cycle of 0.008 for a square of duty 0.25) would be far off. Irregular
        crossings of a clean two-state waveform (a data line, a full-swing glitch) are real
        transitions and stay.
        """
        edges = self.edges
        fit = self._crossing_fit
        if fit is None or _regular(fit):
            return edges
        near = self.state_levels.near_state_fraction
        if near >= MIN_TWO_STATE_FRACTION:
            return edges
        raise NotApplicable(
            f"edges not resolved above the noise: 50 % crossings jitter by {fit.jitter:.0%} of "
            f"a period RMS and only {near:.0%} of the samples lie near the top or base level"
        )

    @cached_property
    def _period(self) -> float | NotApplicable:
        try:
            fit = self._crossing_fit
        except NotApplicable as exc:
            return _cached(exc)
        if fit is not None and _regular(fit):
            return fit.period
        why = (
            "fewer than two same-direction transitions"
            if fit is None
            else f"crossings are irregular ({fit.jitter:.0%} of a period RMS)"
        )
        try:
            spectrum = self.spectrum
        except NotApplicable as exc:
            return NotApplicable(f"{why}, and no spectral fallback: {exc}")
        if not spectrum.peak_stands_out:
            return NotApplicable(
                f"{why}, and no spectral fallback: no spectral peak stands out of the noise "
                f"(the strongest holds {spectrum.tone_share:.1%} of the AC power)"
            )
        return 1.0 / spectrum.frequency_fraction

    @property
    def period_samples(self) -> float:
        """Period in samples: least-squares fit over all same-direction 50 % crossings, or the
        interpolated spectral peak when there are too few or too irregular crossings."""
        return _unwrap(self._period)

    # -- spectrum -----------------------------------------------------------------------------

    @cached_property
    def _spectrum(self) -> Spectrum | NotApplicable:
        try:
            self.require_valid()
            if self.minimum == self.maximum:
                raise NotApplicable("signal is constant: no spectrum")
            row = None if self._precomputed is None else self._precomputed.spectrum
            if row is not None:
                found = spectrum_from_row(row, self.size)
                return _cached(found) if isinstance(found, NotApplicable) else found
            return compute_spectrum(self.xp, self.centred, self.to_host)
        except NotApplicable as exc:
            return _cached(exc)

    @property
    def spectrum(self) -> Spectrum:
        """The windowed-FFT analysis of this capture (one FFT, see :mod:`._spectrum`)."""
        return _unwrap(self._spectrum)

    @property
    def tone(self) -> Spectrum:
        """The spectrum of a capture that is one dominant tone, as IEEE 1241 assumes; else
        :class:`NotApplicable` (a chirp, noise, several tones)."""
        return self.spectrum.require_tone()
