"""Per-process run state and the check of one capture channel. Pure: no pytest import.

Each process (a run without xdist, or each xdist worker) has one :class:`Runtime`: the captures
roots with their suite config and baseline, and whether this run updates the baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pytest_oscura.compare import compare, format_failures
from pytest_oscura.errors import CaptureError
from pytest_oscura.records import Failure

if TYPE_CHECKING:
    from pytest_oscura.captures import Capture
    from pytest_oscura.config import CaptureConfig
    from pytest_oscura.roots import CaptureRoot


@dataclass(frozen=True)
class CheckOutcome:
    values: dict[str, float | None]
    not_applicable: dict[str, str]
    failures: list[Failure]
    message: str  # empty when the item passes


@dataclass
class Runtime:
    roots: list[CaptureRoot]
    update_baseline: bool = False
    accept_hint: str = field(default="")

    def __post_init__(self) -> None:
        captures_args = " ".join(f"--oscura-captures {root.display}" for root in self.roots)
        self.accept_hint = (
            f"Accept the new values with: pytest {captures_args} --oscura-update-baseline"
        )

    @staticmethod
    def select(captures: Sequence[Capture], channel_index: int, segment: int | None) -> Capture:
        """The channel (and segment, 1-based) an item measures."""
        import dataclasses

        if channel_index >= len(captures):
            raise CaptureError(f"channel {channel_index + 1} is missing from the loaded file")
        capture = captures[channel_index]
        if segment is None:
            if capture.samples.ndim != 1:
                raise CaptureError(f"channel {capture.channel} holds segments, not one record")
            return capture
        if capture.samples.ndim != 2 or segment > capture.samples.shape[0]:
            raise CaptureError(f"channel {capture.channel} has no segment {segment}")
        return dataclasses.replace(capture, samples=capture.samples[segment - 1])

    def measurement_names(self, capture: Capture, config: CaptureConfig) -> tuple[str, ...]:
        from pytest_oscura.measurements import DEFAULT_MEASUREMENTS, PROFILES

        if capture.kind == "logic":
            return config.logic_measurements or PROFILES.get("logic", DEFAULT_MEASUREMENTS)
        return config.measurements or DEFAULT_MEASUREMENTS

    def check(
        self, root: CaptureRoot, key: str, capture: Capture, config: CaptureConfig
    ) -> CheckOutcome:
        """Measure ``capture`` and judge it against its baseline entry and spec limits."""
        from pytest_oscura.measurements import REGISTRY, measure_detailed

        names = self.measurement_names(capture, config)
        result = measure_detailed(capture.samples, capture.sample_rate_hz, names)
        values = dict(result.values)
        reasons = dict(result.not_applicable)
        unit_of = {name: REGISTRY[name].unit_for(capture.units) for name in values}
        if self.update_baseline:
            failures = compare(values, reasons, None, config, unit_of)
            return CheckOutcome(
                values, reasons, failures, self._message(key, failures, len(values))
            )
        baseline = root.baseline()
        entry = None if baseline is None else baseline.captures.get(key)
        if entry is None:
            failures = compare(values, reasons, None, config, unit_of)
            failures += [
                Failure(n, v, None, "missing", "not in baseline", unit_of[n])
                for n, v in values.items()
            ]
            where = "no baseline file" if baseline is None else "no entry in baseline"
            message = (
                f"{key}: {where} {root.baseline_path.name} ({root.baseline_path})\n"
                f"Record it with: pytest "
                + " ".join(f"--oscura-captures {r.display}" for r in self.roots)
                + " --oscura-update-baseline"
            )
            limit_failures = [f for f in failures if f.kind == "limit"]
            if limit_failures:
                message += "\n" + format_failures(key, limit_failures, len(values), "")
            return CheckOutcome(values, reasons, failures, message)
        failures = compare(values, reasons, entry.measurements, config, unit_of)
        return CheckOutcome(values, reasons, failures, self._message(key, failures, len(values)))

    def _message(self, key: str, failures: list[Failure], total: int) -> str:
        return format_failures(key, failures, total, self.accept_hint) if failures else ""
