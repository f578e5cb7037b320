"""Plain-data records that travel from items (and xdist workers) to the controller. Pure.

Only ``str``/``float``/``int``/``bool``/``None``, lists and dicts: execnet cannot serialise numpy
scalars (PITFALLS 1), and the same dicts are written to the JSON report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

OUTCOMES = ("passed", "failed", "error", "skipped")
# user_properties names: the item's CaptureRecord as JSON text, and where its values came from
# ("measured" now, "resumed" from stored results, or LOST: a cluster lost the result).
RECORD_PROPERTY = "oscura_record"
SOURCE_PROPERTY = "oscura_source"
LOST = "lost"


class FailureDict(TypedDict):
    measurement: str
    value: float | None
    baseline: float | None
    kind: str
    allowed: str
    unit: str


class RecordDict(TypedDict):
    """A :class:`CaptureRecord` as plain data: the ``user_properties`` JSON and the report."""

    key: str
    root: str
    group: str
    channel: str
    units: str
    measurements: dict[str, float | None]
    not_applicable: dict[str, str]
    failures: list[FailureDict]
    error: str | None
    nodeid: str
    outcome: str
    warnings: list[str]
    companions: list[str]
    measured_on: str
    gpu_fallback: str | None


@dataclass(frozen=True)
class Failure:
    """One failing check of one measurement.

    ``kind`` is ``tolerance`` (outside baseline ± tolerance), ``limit`` (outside a spec limit),
    ``applicability`` (applicable on one side only) or ``missing`` (no baseline value).
    """

    measurement: str
    value: float | None
    baseline: float | None
    kind: str
    allowed: str = ""  # the tolerance or limit as text, for example "±0.01 V" or "≤ 3.4 V"
    unit: str = ""

    def to_dict(self) -> FailureDict:
        return {
            "measurement": self.measurement,
            "value": self.value,
            "baseline": self.baseline,
            "kind": self.kind,
            "allowed": self.allowed,
            "unit": self.unit,
        }

    @classmethod
    def from_dict(cls, data: FailureDict) -> Failure:
        return cls(**data)


@dataclass(frozen=True)
class CaptureRecord:
    """What one item reports about its capture channel.

    Attributes:
        key: baseline key, ``<path relative to the captures root>::<channel>`` (posix).
        root: the captures root the capture was found under, as given on the command line.
        group: capture group from ``oscura.toml`` (default: the root's folder name).
        outcome: one of :data:`OUTCOMES`, filled in on the controller from the test reports.
        measurements: name → value (``None`` where not applicable).
        not_applicable: name → short reason, for each ``None`` in ``measurements``.
        units: the unit of the samples, for example ``"V"``.
        error: one-line load or config error, or ``None``.
        warnings: one-line facts about the capture's file that did not stop it being read.
        companions: companion files read with the capture (an R&S payload, a setup text).
        measured_on: ``"gpu"`` where the GPU strategy measured it on its device, else ``"cpu"``.
        gpu_fallback: why the GPU strategy measured it on the CPU instead, or ``None``.
    """

    key: str
    root: str
    group: str
    channel: str
    units: str = "V"
    measurements: dict[str, float | None] = field(default_factory=dict)
    not_applicable: dict[str, str] = field(default_factory=dict)
    failures: tuple[Failure, ...] = ()
    error: str | None = None
    nodeid: str = ""
    outcome: str = "passed"
    warnings: tuple[str, ...] = ()
    companions: tuple[str, ...] = ()
    measured_on: str = "cpu"
    gpu_fallback: str | None = None

    def to_dict(self) -> RecordDict:
        # Written out rather than dataclasses.asdict, whose recursive deep copy cost 0.6 ms per
        # item: a tenth of a 100,000-sample capture's whole measuring time.
        return {
            "key": self.key,
            "root": self.root,
            "group": self.group,
            "channel": self.channel,
            "units": self.units,
            "measurements": dict(self.measurements),
            "not_applicable": dict(self.not_applicable),
            "failures": [f.to_dict() for f in self.failures],
            "error": self.error,
            "nodeid": self.nodeid,
            "outcome": self.outcome,
            "warnings": list(self.warnings),
            "companions": list(self.companions),
            "measured_on": self.measured_on,
            "gpu_fallback": self.gpu_fallback,
        }

    @classmethod
    def from_dict(cls, data: RecordDict) -> CaptureRecord:
        return cls(
            key=data["key"],
            root=data["root"],
            group=data["group"],
            channel=data["channel"],
            units=data["units"],
            measurements=dict(data["measurements"]),
            not_applicable=dict(data["not_applicable"]),
            failures=tuple(Failure.from_dict(f) for f in data["failures"]),
            error=data["error"],
            nodeid=data["nodeid"],
            outcome=data["outcome"],
            warnings=tuple(data["warnings"]),
            companions=tuple(data["companions"]),
            measured_on=data.get("measured_on", "cpu"),
            gpu_fallback=data.get("gpu_fallback"),
        )
