"""The measurement registry: name → (function, unit, description). Pure.

A measurement function takes a :class:`~pytest_oscura.measurements.signal.Signal` (which caches
computations that several measurements share) and returns a number, or raises
:class:`~pytest_oscura.measurements.result.NotApplicable` with a short reason. Units use
``{units}`` for "the unit of the samples" (V for a voltage capture), so a failure table can show
the capture's own unit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_oscura.measurements.signal import Signal

SIGNAL_UNIT = "{units}"


@dataclass(frozen=True)
class Measurement:
    name: str
    unit: str
    description: str
    function: Callable[[Signal], float]

    def unit_for(self, sample_units: str) -> str:
        """This measurement's unit for a capture whose samples are in ``sample_units``."""
        return self.unit.replace(SIGNAL_UNIT, sample_units)


REGISTRY: dict[str, Measurement] = {}


def register(
    name: str, unit: str, description: str
) -> Callable[[Callable[[Signal], float]], Callable[[Signal], float]]:
    """Decorator that adds a measurement function to :data:`REGISTRY` under ``name``."""

    def decorate(function: Callable[[Signal], float]) -> Callable[[Signal], float]:
        if name in REGISTRY:
            raise ValueError(f"measurement {name!r} is registered twice")
        REGISTRY[name] = Measurement(name, unit, description, function)
        return function

    return decorate
