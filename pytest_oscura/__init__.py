"""pytest-oscura: signal regression testing for oscilloscope and logic-analyzer captures.

The public API is imported lazily so that importing the package (as pytest does for every run
through the ``pytest11`` entry point) costs nothing: numpy and scipy load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_oscura._version import __version__

if TYPE_CHECKING:
    from pytest_oscura.captures import load_capture
    from pytest_oscura.measurements import measure, measure_detailed

__all__ = ["__version__", "load_capture", "measure", "measure_detailed"]


def __getattr__(name: str) -> Any:
    if name in ("measure", "measure_detailed"):
        from pytest_oscura import measurements

        return getattr(measurements, name)
    if name == "load_capture":
        from pytest_oscura.captures import load_capture

        return load_capture
    raise AttributeError(f"module 'pytest_oscura' has no attribute {name!r}")
