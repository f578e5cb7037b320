"""Number formatting shared by the terminal texts (summary, ``compare``, failure tables)."""

from __future__ import annotations

__all__ = ["format_number"]


def format_number(value: float | None, digits: int = 6, unit: str = "", missing: str = "—") -> str:
    """``value`` with ``digits`` significant digits (``g`` format), then `` unit`` if given.

    ``missing`` stands for ``None`` (no unit after it): for example ``format_number(0.0012345,
    3, "V")`` is ``"0.00123 V"`` and ``format_number(None, missing="n/a")`` is ``"n/a"``.
    """
    if value is None:
        return missing
    text = f"{value:.{digits}g}"
    return f"{text} {unit}" if unit else text
