"""What measuring gives: values, and a reason for each measurement that does not apply. Pure.

Its own small module so that the measurement functions, the shared computations of
:class:`~pytest_oscura.measurements.signal.Signal` and the registry can all raise
:class:`NotApplicable` without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


class NotApplicable(Exception):
    """The measurement does not apply to this signal; ``str(exc)`` is the short reason."""


@dataclass(frozen=True)
class MeasurementResult:
    """Values (plain floats, ``None`` where not applicable) and the reasons for each ``None``."""

    values: Mapping[str, float | None]
    not_applicable: Mapping[str, str] = field(default_factory=dict)
