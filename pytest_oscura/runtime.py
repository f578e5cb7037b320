"""Per-process run state and the check of one item. Pure: no pytest import.

Each process (a run without xdist, or each xdist worker) has one :class:`Runtime`: the captures
roots with their suite config and baseline, whether this run updates the baseline, and where
measurement results come from (:meth:`Runtime.file_result`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_oscura.compare import compare, format_failures
from pytest_oscura.jobs import FileJob, FileResult, ItemResult, run_job
from pytest_oscura.records import Failure

if TYPE_CHECKING:
    from pytest_oscura.config import CaptureConfig
    from pytest_oscura.resume import ResultStore
    from pytest_oscura.roots import CaptureRoot


@dataclass(frozen=True)
class CheckOutcome:
    failures: list[Failure]
    message: str  # empty when the item passes


@dataclass
class Runtime:
    """Run state of one process.

    ``measure_file`` turns a job into a result (:func:`run_job` with the run's time limit,
    unless an execution strategy supplies one); with ``store`` (``--oscura-resume``) stored
    results are reused and new ones stored.
    """

    roots: list[CaptureRoot]
    update_baseline: bool = False
    timeout_s: float | None = None
    store: ResultStore | None = None
    measure_file: Callable[[FileJob], FileResult] | None = None
    resumed_paths: set[str] = field(default_factory=set)
    _results: dict[str, FileResult] = field(default_factory=dict)

    @property
    def captures_args(self) -> str:
        return " ".join(f"--oscura-captures {root.display}" for root in self.roots)

    def file_result(self, job: FileJob) -> FileResult:
        """The result of ``job``, computed once per file and kept until :meth:`release`."""
        result = self._results.get(job.path)
        if result is not None:
            return result
        if self.resume(job):
            return self._results[job.path]
        from pytest_oscura.resume import fingerprint

        try:
            before = fingerprint(Path(job.path)) if self.store is not None else None
        except OSError:
            before = None  # unreadable: measuring reports why
        if self.measure_file is not None:
            result = self.measure_file(job)
        else:
            result = run_job(job, timeout_s=self.timeout_s)
        if self.store is not None and before is not None:
            self.store.put(job, before, result)
        self._results[job.path] = result
        return result

    def resume(self, job: FileJob) -> bool:
        """Take ``job``'s stored result, if the resume store has a valid one, into the cache."""
        if self.store is None or job.path in self._results:
            return job.path in self.resumed_paths
        result = self.store.get(job)
        if result is None:
            return False
        self.resumed_paths.add(job.path)
        self._results[job.path] = result
        return True

    def release(self, job: FileJob) -> None:
        """Forget a file's result once its last item ran: memory stays bounded."""
        self._results.pop(job.path, None)

    def check(
        self, root: CaptureRoot, key: str, result: ItemResult, config: CaptureConfig
    ) -> CheckOutcome:
        """Judge one item's measurements against its baseline entry and spec limits."""
        from pytest_oscura.measurements import REGISTRY

        values, reasons = result.values, result.not_applicable
        unit_of = {
            name: REGISTRY[name].unit_for(result.units) if name in REGISTRY else ""
            for name in values
        }
        if self.update_baseline:
            failures = compare(values, reasons, None, config, unit_of)
            return CheckOutcome(failures, self._message(key, failures, len(values)))
        baseline = root.baseline()
        entry = None if baseline is None else baseline.captures.get(key)
        if entry is not None:
            failures = compare(values, reasons, entry.measurements, config, unit_of)
            return CheckOutcome(failures, self._message(key, failures, len(values)))
        failures = compare(values, reasons, None, config, unit_of)
        limit_failures = list(failures)
        failures += [
            Failure(name, value, None, "missing", "not in baseline", unit_of[name])
            for name, value in values.items()
        ]
        where = "no baseline file" if baseline is None else "no entry in baseline"
        message = (
            f"{key}: {where} {root.baseline_path.name} ({root.baseline_path})\n"
            f"Record it with: pytest {self.captures_args} --oscura-update-baseline"
        )
        if limit_failures:
            message += "\n" + format_failures(key, limit_failures, len(values), "")
        return CheckOutcome(failures, message)

    def _message(self, key: str, failures: list[Failure], total: int) -> str:
        if not failures:
            return ""
        hint = f"Accept the new values with: pytest {self.captures_args} --oscura-update-baseline"
        return format_failures(key, failures, total, hint)
