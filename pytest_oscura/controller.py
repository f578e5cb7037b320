"""The controller's side of a run: gather every item's record, then finish the run once. Pure.

Runs in the xdist controller or in a run without xdist, never in a worker. Records arrive
inside test reports (``user_properties``), which reach the controller even when a worker dies
later (PITFALLS 2), so they are the one channel results travel through. At the end of the run
:meth:`Controller.finish` aggregates them, writes the baseline (update runs) and the JSON
report, each once, and collects the lines the terminal summary shows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from pytest_oscura._files import write_atomically
from pytest_oscura._version import __version__
from pytest_oscura.aggregate import BaselineValue, GateSpec, Stats, Summary
from pytest_oscura.baseline import Baseline, BaselineEntry, build, diff, render
from pytest_oscura.errors import OscuraError
from pytest_oscura.records import RECORD_PROPERTY, SOURCE_PROPERTY, CaptureRecord
from pytest_oscura.report.json_report import build_report, write_report
from pytest_oscura.suite import CaptureRoot


@dataclass
class Controller:
    roots: list[CaptureRoot]
    update_baseline: bool
    report_path: Path | None
    rootdir: Path
    records: dict[str, CaptureRecord] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    crashed_workers: list[str] = field(default_factory=list)
    expected_nodeids: set[str] | None = None
    deselected: int = 0
    sources: dict[str, str] = field(default_factory=dict)
    outlier_method: str = "mad"
    gate: GateSpec = field(default_factory=GateSpec)
    summary_lines: list[str] = field(default_factory=list)
    gate_failed: bool = False
    lines: list[str] = field(default_factory=list)

    def saw_every_item(self) -> bool:
        """Whether every collected item (after deselection) reported an outcome."""
        return self.expected_nodeids is not None and self.expected_nodeids <= set(self.outcomes)

    def on_report(
        self, nodeid: str, when: str, outcome: str, user_properties: Sequence[tuple[str, object]]
    ) -> None:
        """Take one test report (setup, call or teardown) of an item."""
        for name, value in user_properties:
            if name == RECORD_PROPERTY and isinstance(value, str):
                self.records[nodeid] = CaptureRecord.from_dict(json.loads(value))
            elif name == SOURCE_PROPERTY and isinstance(value, str):
                self.sources[nodeid] = value
        previous = self.outcomes.get(nodeid)
        if outcome == "skipped":
            self.outcomes[nodeid] = "skipped"
        elif when == "setup" and outcome == "failed":
            self.outcomes[nodeid] = "error"
        elif when == "call":
            self.outcomes[nodeid] = outcome
        elif when == "teardown" and outcome == "failed" and previous in (None, "passed"):
            self.outcomes[nodeid] = "error"

    def final_records(self) -> list[CaptureRecord]:
        return [
            replace(record, outcome=self.outcomes.get(nodeid, "error"))
            for nodeid, record in sorted(self.records.items())
        ]

    def finish(
        self, *, interrupted: bool, whole_suite: bool, norecurse_patterns: Sequence[str] = ()
    ) -> None:
        """Write the baseline (update runs) and the JSON report; fill :attr:`lines`."""
        records = self.final_records()
        for root in self.roots:
            for folder, count in root.skipped_capture_folders(norecurse_patterns).items():
                self.lines.append(
                    f"oscura: {count} capture file(s) in {folder} were not collected: pytest's "
                    f"norecursedirs skips '{folder.name}' (override norecursedirs in your ini)"
                )
        if self.crashed_workers:
            self.lines.append(
                f"oscura: {len(self.crashed_workers)} xdist worker(s) crashed "
                f"({', '.join(self.crashed_workers)}); the summary covers the results that arrived"
            )
        for root in self.roots:
            self._finish_root(root, records, interrupted=interrupted, whole_suite=whole_suite)
        if self.sources:
            resumed = sum(1 for source in self.sources.values() if source == "resumed")
            if resumed:
                self.lines.append(
                    f"oscura: resumed {resumed} item(s) from stored results, "
                    f"measured {len(self.sources) - resumed}"
                )
        retry = [r for r in records if r.outcome in ("failed", "error")]
        if retry:
            shown = ", ".join(r.nodeid for r in retry[:10]) + (" ..." if len(retry) > 10 else "")
            timed_out = sum(1 for r in retry if r.error and "timed out after" in r.error)
            self.lines.append(
                f"oscura: {len(retry)} capture item(s) to retry ({timed_out} timed out); "
                f"--lf reruns exactly them: {shown}"
            )
        summary = self._summarize(records)
        if self.report_path is not None:
            report = build_report(
                records, self.rootdir, {r.display: r.path for r in self.roots}, summary
            )
            write_report(self.report_path, report)
            self.lines.append(f"oscura: JSON report written to {self.report_path}")

    def _summarize(self, records: list[CaptureRecord]) -> Summary:
        """Aggregate tonight's batch, judge outliers and drift, apply the gate."""
        from pytest_oscura.aggregate import format_summary

        baselines: dict[str, Baseline | None] = {}
        for root in self.roots:
            try:
                baselines[root.display] = root.baseline()
            except OscuraError:
                baselines[root.display] = None  # reported by _finish_root
        notes = [
            f"xdist worker {worker} crashed; its unfinished captures are missing"
            for worker in self.crashed_workers
        ]
        fallbacks = [r for r in records if r.gpu_fallback is not None]
        if fallbacks:
            notes.append(
                f"{len(fallbacks)} capture item(s) measured on the CPU after an error on the GPU "
                f"(first: {fallbacks[0].key}: {fallbacks[0].gpu_fallback}); their records say "
                "measured_on cpu"
            )
        gate = self.gate
        if self.update_baseline and gate != GateSpec():
            notes.append(f"gate {gate.text!r} not applied: this run updates the baseline")
            gate = GateSpec()
        summary = summarize_batch(records, baselines, self.outlier_method, gate, notes)
        self.summary_lines = format_summary(summary)
        self.gate_failed = not summary["gate"]["passed"]
        return summary

    def _finish_root(
        self,
        root: CaptureRoot,
        records: Iterable[CaptureRecord],
        *,
        interrupted: bool,
        whole_suite: bool,
    ) -> None:
        mine = {r.key: r for r in records if r.root == root.display}
        try:
            old = root.baseline()
        except OscuraError as exc:
            if not self.update_baseline:
                self.lines.append(f"oscura: {exc}")
                return
            self.lines.append(f"oscura: replacing unreadable baseline: {exc}")
            old = None
        old_entries = dict(old.captures) if old is not None else {}
        stale = sorted(k for k in old_entries if k not in mine and root.is_stale(k))
        if not self.update_baseline:
            self._report_stale(root, stale, removable=False)
            return
        if interrupted or self.crashed_workers:
            why = "the run was interrupted" if interrupted else "an xdist worker crashed"
            self.lines.append(
                f"oscura: baseline {root.baseline_path} NOT written: {why}, results are incomplete"
            )
            return
        new_entries = dict(old_entries)
        for key, record in mine.items():
            if record.error is None and record.outcome in ("passed", "failed"):
                new_entries[key] = BaselineEntry(
                    dict(record.measurements), record.group, record.units
                )
        if whole_suite:
            for key in stale:
                del new_entries[key]
        errors = sorted(k for k, r in mine.items() if r.error is not None)
        changes = diff(old_entries, new_entries)
        if changes.any or old is None:
            baseline = build(
                dict(sorted(new_entries.items())),
                baseline_group_statistics(new_entries),
                __version__,
            )
            write_atomically(root.baseline_path, render(baseline))
            verb = "written"
        else:
            verb = "unchanged"
        self.lines.append(
            f"oscura: baseline {root.baseline_path} {verb}: {len(changes.added)} added, "
            f"{len(changes.changed)} changed, {len(changes.removed)} removed"
        )
        if not whole_suite:
            self._report_stale(root, stale, removable=True)
        if errors:
            self.lines.append(
                f"oscura: {len(errors)} capture(s) failed to load; their baseline entries, if any, "
                "are unchanged: " + ", ".join(errors[:5]) + (" ..." if len(errors) > 5 else "")
            )

    def _report_stale(self, root: CaptureRoot, stale: list[str], *, removable: bool) -> None:
        if not stale:
            return
        shown = ", ".join(stale[:5]) + (" ..." if len(stale) > 5 else "")
        how = (
            "kept, since this update run did not cover the whole suite"
            if removable
            else "an update run over the whole suite removes them"
        )
        entries = "entry" if len(stale) == 1 else "entries"
        verb = "has" if len(stale) == 1 else "have"
        self.lines.append(
            f"oscura: {len(stale)} baseline {entries} of {root.baseline_path.name} in "
            f"{root.display} {verb} no capture any more ({how}): {shown}"
        )


def summarize_batch(
    records: Sequence[CaptureRecord],
    baselines: Mapping[str, Baseline | None],
    outlier_method: str,
    gate: GateSpec,
    notes: Sequence[str] = (),
) -> Summary:
    """The run's summary: statistics, outliers, drift against the baselines, the gate.

    Args:
        records: every item's record (outcomes filled in).
        baselines: per captures root (as displayed), its baseline, ``None`` where it has none.
        outlier_method, gate, notes: as :func:`pytest_oscura.aggregate.summarize` takes them.

    Keys name the root only when there are several roots, so that they cannot collide. Values in
    different units are no population: a group whose captures (tonight's or the baseline's) mix
    units is split by unit, and its drift is judged from the baseline's per-capture values,
    split the same way.
    """
    from pytest_oscura.aggregate import mixed_unit_groups, summarize, unit_group

    several = len(baselines) > 1

    def qualified(root: str, key: str) -> str:
        return f"{root}::{key}" if several else key

    baseline_groups: dict[str, Mapping[str, Stats]] = {}
    baseline_values: dict[str, BaselineValue] = {}
    for display, baseline in baselines.items():
        if baseline is None:
            continue
        baseline_groups.update(baseline.groups)
        for key, entry in baseline.captures.items():
            baseline_values[qualified(display, key)] = {
                "measurements": entry.measurements,
                "group": entry.group,
                "units": entry.units,
            }
    mixed = mixed_unit_groups(
        [(r.group, r.units) for r in records]
        + [(v["group"], v.get("units", "")) for v in baseline_values.values()]
    )
    if mixed:
        records = [replace(r, group=unit_group(r.group, r.units, mixed)) for r in records]
        for value in baseline_values.values():
            value["group"] = unit_group(value["group"], value.get("units", ""), mixed)
        baseline_groups = {}
    return summarize(
        [replace(r, key=qualified(r.root, r.key)) for r in records],
        baseline_groups or None,
        baseline_values or None,
        outlier_method,
        gate,
        notes=notes,
    )


def baseline_group_statistics(entries: Mapping[str, BaselineEntry]) -> dict[str, dict[str, Stats]]:
    """Per-group population statistics of baseline entries, for tomorrow's drift check.

    Empty where a group mixes units: tomorrow's drift check then splits it by unit and uses the
    per-capture values instead.
    """
    from pytest_oscura.aggregate import group_statistics, mixed_unit_groups

    if mixed_unit_groups((entry.group, entry.units) for entry in entries.values()):
        return {}
    records = [
        CaptureRecord(
            key=key,
            root="",
            group=entry.group,
            channel="",
            units=entry.units,
            measurements=dict(entry.measurements),
        )
        for key, entry in entries.items()
    ]
    return group_statistics(records)
