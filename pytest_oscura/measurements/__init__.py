"""Waveform measurements: a registry of pure functions and the ``measure`` entry point. Pure.

>>> import numpy as np
>>> measure(np.array([1.0, -1.0, 1.0, -1.0]), sample_rate_hz=1e3, names=["rms", "vpp"])
{'rms': 1.0, 'vpp': 2.0}

The measurements (definitions in ``docs/MEASUREMENTS.md``):

- :mod:`.basic`: ``mean``, ``rms``, ``ac_rms``, ``min``, ``max``, ``vpp``;
- :mod:`.levels`: ``top``, ``base``, ``amplitude``, ``overshoot``, ``undershoot`` (IEEE 181);
- :mod:`.timing`: ``frequency``, ``period``, ``duty_cycle``, ``pulse_width``, ``rise_time``,
  ``fall_time``, ``edge_count`` (IEEE 181);
- :mod:`.spectral`: ``thd``, ``snr``, ``sinad``, ``enob``, ``sfdr`` (IEEE 1241).

Default set: every measurement of the table in ``MEASUREMENTS.md``, that is everything except
``edge_count``. A capture measures each applicable one and reports the others as not applicable
with a reason, so one default fits rails, clocks and sines alike, and the shared work (one
histogram, one transition scan, one FFT) is paid once whatever the selection. ``edge_count`` is
left out because it counts edges inside the capture window: a trigger or record-length change
moves it by one without the signal changing. The ``logic`` and ``all`` profiles include it.

Profiles (:data:`PROFILES`), selectable per glob in ``oscura.toml``:

- ``basic``: the six sample statistics;
- ``rail``: DC power rails, the sample statistics (mean, rms, ripple as ac_rms, min, max, vpp);
- ``pulse``: clocks and digital lines on a scope: levels, aberrations and timing;
- ``logic``: logic-analyzer channels: timing only (no analog edges to measure);
- ``adc``: sine and ADC tests: amplitude statistics, frequency and the spectral set;
- ``all``: every registered measurement.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy

# Importing a module registers its measurements, in this order.
from pytest_oscura.measurements import basic as _basic  # noqa: F401
from pytest_oscura.measurements import levels as _levels  # noqa: F401
from pytest_oscura.measurements import spectral as _spectral  # noqa: F401
from pytest_oscura.measurements import timing as _timing  # noqa: F401
from pytest_oscura.measurements.registry import REGISTRY, Measurement, register
from pytest_oscura.measurements.result import MeasurementResult, NotApplicable
from pytest_oscura.measurements.signal import Signal

if TYPE_CHECKING:
    from pytest_oscura.captures.model import Scaling

__all__ = [
    "DEFAULT_MEASUREMENTS",
    "PROFILES",
    "REGISTRY",
    "Measurement",
    "MeasurementResult",
    "NotApplicable",
    "Signal",
    "check_names",
    "expand_names",
    "measure",
    "measure_detailed",
    "measure_signal",
    "register",
    "unknown_measurements",
]

_BASIC = ("mean", "rms", "ac_rms", "min", "max", "vpp")
_LEVELS = ("top", "base", "amplitude", "overshoot", "undershoot")
_TIMING = ("frequency", "period", "duty_cycle", "pulse_width", "rise_time", "fall_time")
_SPECTRAL = ("thd", "snr", "sinad", "enob", "sfdr")

#: What ``measure`` computes when no names are given (see the module docstring for the choice).
DEFAULT_MEASUREMENTS: tuple[str, ...] = _BASIC + _LEVELS + _TIMING + _SPECTRAL
_DEFAULT_SET = frozenset(DEFAULT_MEASUREMENTS)

# Named measurement sets a suite can select in oscura.toml instead of listing names.
PROFILES: dict[str, tuple[str, ...]] = {
    "basic": _BASIC,
    "rail": ("mean", "rms", "ac_rms", "min", "max", "vpp"),
    "pulse": ("min", "max", "vpp", *_LEVELS, *_TIMING),
    "logic": ("frequency", "period", "duty_cycle", "pulse_width", "edge_count"),
    "adc": ("mean", "ac_rms", "min", "max", "vpp", "frequency", *_SPECTRAL),
    # Everything registered, the default set first (measurements added later come after it).
    "all": DEFAULT_MEASUREMENTS + tuple(name for name in REGISTRY if name not in _DEFAULT_SET),
}


def expand_names(names: Iterable[str]) -> tuple[str, ...]:
    """Replace profile names by their measurements, keep order, drop repeats.

    Raises:
        KeyError: a name is neither a measurement nor a profile (the message lists both).
    """
    expanded: list[str] = []
    for name in names:
        members = PROFILES.get(name, (name,))
        for member in members:
            if member not in REGISTRY:
                raise KeyError(
                    f"unknown measurement or profile {member!r}; measurements: "
                    f"{', '.join(sorted(REGISTRY))}; profiles: {', '.join(sorted(PROFILES))}"
                )
            if member not in expanded:
                expanded.append(member)
    return tuple(expanded)


def unknown_measurements(names: Iterable[str]) -> list[str]:
    return [name for name in names if name not in REGISTRY]


def check_names(names: Iterable[str] | None) -> tuple[str, ...]:
    """``names`` as a tuple (default :data:`DEFAULT_MEASUREMENTS`).

    Raises:
        KeyError: a name is not a registered measurement.
    """
    selected = tuple(DEFAULT_MEASUREMENTS if names is None else names)
    unknown = unknown_measurements(selected)
    if unknown:
        raise KeyError(
            f"unknown measurement(s): {', '.join(unknown)}; known: {', '.join(sorted(REGISTRY))}"
        )
    return selected


def measure_detailed(
    samples: Any,
    sample_rate_hz: float,
    names: Iterable[str] | None = None,
    xp: Any = None,
    *,
    scaling: Scaling | None = None,
) -> MeasurementResult:
    """Compute measurements ``names`` (default :data:`DEFAULT_MEASUREMENTS`) of one channel.

    Args:
        samples: 1-D array of sample values in the capture's units, or the integers a file
            stores with their ``scaling``.
        sample_rate_hz: samples per second.
        names: measurement names from :data:`REGISTRY`.
        xp: array namespace (``numpy`` by default; ``cupy`` runs the same code on a GPU).
        scaling: how stored integers become values
            (:class:`~pytest_oscura.captures.model.Scaling`).

    Raises:
        KeyError: a name is not a registered measurement.
    """
    selected = check_names(names)
    # Overflow or 0/0 on extreme samples ends as a non-finite value and a reason below, not as
    # a RuntimeWarning that a suite running with ``-W error`` would turn into an exception.
    with numpy.errstate(all="ignore"):
        return measure_signal(Signal(samples, sample_rate_hz, xp, scaling=scaling), selected)


def measure_signal(signal: Signal, names: Iterable[str]) -> MeasurementResult:
    """Measurements ``names`` (registered, see :func:`check_names`) of ``signal``: the one loop
    every strategy runs, one capture or a batch's row (:mod:`.batch`)."""
    values: dict[str, float | None] = {}
    reasons: dict[str, str] = {}
    for name in names:
        try:
            value = float(REGISTRY[name].function(signal))
        except NotApplicable as exc:
            values[name], reasons[name] = None, str(exc) or "not applicable"
            continue
        if math.isfinite(value):
            values[name] = value
        else:
            values[name], reasons[name] = None, "result is not a finite number"
    return MeasurementResult(values, reasons)


def measure(
    samples: Any,
    sample_rate_hz: float,
    names: Iterable[str] | None = None,
    xp: Any = None,
) -> dict[str, float | None]:
    """Measurements of one channel as plain floats; ``None`` where a measurement does not apply.

    See :func:`measure_detailed` for the arguments and for the not-applicable reasons.
    """
    return dict(measure_detailed(samples, sample_rate_hz, names, xp).values)
