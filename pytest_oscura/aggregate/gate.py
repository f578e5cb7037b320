"""The gate: what fails the session beyond item failures (``--oscura-gate``).

Parsed once (:func:`parse_gate`, where the option is read), judged once per session
(:func:`evaluate_gate`). Light: no numpy, since the plugin checks the option at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_oscura.aggregate.config import SCORE_LABELS

if TYPE_CHECKING:  # typing only: the option parser imports this module in every pytest run
    from pytest_oscura.aggregate.results import Findings, FlaggedOutlier, GateVerdict

__all__ = ["GateSpec", "evaluate_gate", "outlier_rank", "parse_gate"]


@dataclass(frozen=True)
class GateSpec:
    """A parsed ``--oscura-gate`` value: what fails the session beyond item failures."""

    outliers: bool = False
    drift: bool = False
    min_quality: float | None = None

    @property
    def text(self) -> str:
        """The canonical spelling, e.g. ``outliers,drift,quality>=95`` or ``none``."""
        parts = [name for name in ("outliers", "drift") if getattr(self, name)]
        if self.min_quality is not None:
            parts.append(f"quality>={self.min_quality:g}")
        return ",".join(parts) or "none"


_QUALITY = re.compile(r"quality\s*>=\s*(?P<value>\S*)\Z")


def parse_gate(spec: str) -> GateSpec:
    """Parse a gate specification.

    Grammar (case-insensitive, spaces ignored around items)::

        spec    := "none" | item ("," item)*
        item    := "outliers" | "drift" | "quality>=" NUMBER
        NUMBER  := a percentage from 0 to 100, for example 95 or 99.5

    ``outliers`` fails the session when any outlier is flagged, ``drift`` when any measurement
    drifted against the baseline, ``quality>=N`` when fewer than N % of the captures that ran
    passed. ``none`` (alone) gates on nothing. Each item at most once.

    Raises:
        ValueError: the message names the offending item and shows the grammar.
    """
    help_text = 'expected "none" or a comma-separated list of outliers, drift, quality>=N'
    text = spec.strip().lower()
    if not text:
        raise ValueError(f"empty gate specification; {help_text}")
    items = [item.strip() for item in text.split(",")]
    if items == ["none"]:
        return GateSpec()
    seen: set[str] = set()
    outliers = drift = False
    min_quality: float | None = None
    for item in items:
        match = _QUALITY.match(item)
        name = "quality" if match or item.startswith("quality") else item
        if name in seen:
            raise ValueError(f"gate item {name!r} given twice in {spec!r}")
        seen.add(name)
        if item == "outliers":
            outliers = True
        elif item == "drift":
            drift = True
        elif match:
            raw = match.group("value")
            try:
                min_quality = float(raw)
            except ValueError:
                raise ValueError(
                    f"gate item {item!r}: {raw!r} is not a number; write for example quality>=95"
                ) from None
            if not 0 <= min_quality <= 100:
                raise ValueError(f"gate item {item!r}: the percentage must be between 0 and 100")
        elif name == "quality":
            raise ValueError(
                f"gate item {item!r}: write the minimum percentage as quality>=N, e.g. quality>=95"
            )
        elif item == "none":
            raise ValueError(f"gate item 'none' cannot be combined with others in {spec!r}")
        else:
            raise ValueError(f"unknown gate item {item!r} in {spec!r}; {help_text}")
    return GateSpec(outliers=outliers, drift=drift, min_quality=min_quality)


def evaluate_gate(summary: Findings, gate_spec: GateSpec) -> GateVerdict:
    """Judge a summary's counts, outliers and drift (a :class:`~.results.Summary` will do).

    Returns:
        ``{"spec": text, "passed": bool, "reasons": [one line per failing item], "notes":
        [one line per item that could not be judged]}``.
    """
    reasons: list[str] = []
    notes: list[str] = []
    if gate_spec.outliers:
        outliers = summary["outliers"]
        flagged = outliers["flagged"]
        if flagged:
            label = SCORE_LABELS.get(outliers["method"], "score")
            worst = sorted(flagged, key=outlier_rank)[:3]
            shown = ", ".join(
                f"{o['key']} {o['measurement']} ({label} {o['score']:+.1f})" for o in worst
            )
            reasons.append(f"outliers: {len(flagged)} flagged, largest {shown}")
        if outliers["method"] == "none":
            notes.append("outliers: detection is off, nothing to judge")
    if gate_spec.drift:
        drift = summary["drift"]
        cells = [c for c in drift["cells"] if c["flagged"]]
        if cells:
            shown = "; ".join(
                f"{c['group']}/{c['measurement']} {c['reasons'][0]}" for c in cells[:3]
            )
            more = f" (+{len(cells) - 3} more)" if len(cells) > 3 else ""
            reasons.append(f"drift: {len(cells)} measurement(s) drifted: {shown}{more}")
        if not drift["available"]:
            notes.append("drift: no baseline statistics, nothing to judge")
    if gate_spec.min_quality is not None:
        counts = summary["counts"]
        quality = counts["quality"]
        if quality is None:
            reasons.append("quality: no captures ran")
        elif quality < gate_spec.min_quality:
            ran = counts["total"] - counts["skipped"]
            reasons.append(
                f"quality {quality:.1f} % < {gate_spec.min_quality:g} % "
                f"({counts['passed']} of {ran} captures passed)"
            )
    return {"spec": gate_spec.text, "passed": not reasons, "reasons": reasons, "notes": notes}


def outlier_rank(outlier: FlaggedOutlier) -> tuple[float, str, str, str]:
    """Sort key of flagged outliers: the largest ``|score|`` first, then group, key, measurement."""
    return (-abs(outlier["score"]), outlier["group"], outlier["key"], outlier["measurement"])
