"""The controller's side of a run: gather every item's record, then finish the run once. Pure.

Runs in the xdist controller or in a run without xdist, never in a worker. Records arrive
inside test reports (``user_properties``), which reach the controller even when a worker dies
later (PITFALLS 2), so they are the one channel results travel through. At the end of the run
:meth:`Controller.finish` aggregates them, writes the baseline (update runs) and the JSON
report, each once, and collects the lines the terminal summary shows. With ``--oscura-html``
the page is rendered from the same report data (:mod:`pytest_oscura.report.html`); with
``--oscura-baseline-waveforms`` an update run also stores the accepted captures' envelopes.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from pytest_oscura._files import locked, write_atomically
from pytest_oscura.aggregate import GateSpec, Summary
from pytest_oscura.baseline import (
    LOCK_TIMEOUT_S,
    Baseline,
    file_sha256,
    lock_path,
    read_baseline,
)
from pytest_oscura.errors import BaselineError, LockTimeout, OscuraError
from pytest_oscura.finish import (
    baseline_line,
    judged_against,
    summarize_batch,
    update_baseline_entries,
    write_baseline,
)
from pytest_oscura.records import LOST, RECORD_PROPERTY, SOURCE_PROPERTY, CaptureRecord
from pytest_oscura.report.json_report import (
    Report,
    RootRun,
    RunInfo,
    ToleranceDict,
    build_report,
    relative_text,
    write_report,
)
from pytest_oscura.shards import Shard
from pytest_oscura.suite import CaptureRoot, root_of


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
    write_failed: bool = False  # a baseline or the report could not be written
    lines: list[str] = field(default_factory=list)
    lock_timeout_s: float = LOCK_TIMEOUT_S
    html_path: Path | None = None
    baseline_waveforms: bool = False
    strategy: str = ""
    started: float = field(default_factory=time.monotonic)
    shard: Shard | None = None
    stale_keys: dict[str, list[str]] = field(default_factory=dict)

    @property
    def lost_items(self) -> list[str]:
        """Items whose results a cluster lost (a Dask worker died): no baseline is written."""
        return sorted(nodeid for nodeid, source in self.sources.items() if source == LOST)

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
            if nodeid not in self.records:  # skipped by a marker before its setup ran
                self._add_bare_record(nodeid)
        elif when == "setup" and outcome == "failed":
            self.outcomes[nodeid] = "error"
        elif when == "call":
            self.outcomes[nodeid] = outcome
        elif when == "teardown" and outcome == "failed" and previous in (None, "passed"):
            self.outcomes[nodeid] = "error"

    def on_crash(self, nodeid: str, message: str) -> None:
        """Take xdist's report of an item whose worker crashed while running it.

        pytest counts the item as failed; so does the summary. The item sent no record, so one
        is made from its node id.
        """
        if nodeid not in self.records:
            self._add_bare_record(nodeid, message.splitlines()[0] if message else "crashed")
        if nodeid in self.records:
            self.outcomes[nodeid] = "failed"

    def _add_bare_record(self, nodeid: str, error: str | None = None) -> None:
        """A record for a capture item that reported no record of its own (none for others)."""
        file_part, _, channel = nodeid.partition("::")
        path = (self.rootdir / file_part).resolve()
        root = root_of(self.roots, path)
        if root is None or not channel or root.has_separator(path):
            return  # not a capture item: some other test of the run
        relative = path.relative_to(root.path).as_posix()
        self.records[nodeid] = CaptureRecord(
            key=root.key(path, channel),
            root=root.display,
            group=root.suite.for_capture(relative, channel).group or root.default_group,
            channel=channel,
            error=error,
            nodeid=nodeid,
        )

    def final_records(self) -> list[CaptureRecord]:
        return [
            replace(record, outcome=self.outcomes.get(nodeid, "error"))
            for nodeid, record in sorted(self.records.items())
        ]

    def survey_lines(self, norecurse_patterns: Sequence[str]) -> list[str]:
        """One line per kind of file each captures root holds that collection left out."""
        lines = []
        for root in self.roots:
            survey = root.survey(norecurse_patterns)
            for folder, count in survey.skipped_folders.items():
                lines.append(
                    f"oscura: {count} capture file(s) in {root.shown(folder)} were not "
                    f"collected: pytest's norecursedirs skips '{folder.name}' (override "
                    "norecursedirs in your ini)"
                )
            if survey.special_files:
                shown = [f"{root.shown(path)} ({kind})" for path, kind in survey.special_files]
                lines.append(
                    f"oscura: {len(shown)} special file(s) below {root.display} never opened "
                    f"(not regular files): {_listed(shown)}"
                )
            if survey.separator_files:
                shown = [root.shown(path) for path in survey.separator_files]
                lines.append(
                    f"oscura: {len(shown)} capture file(s) below {root.display} not collected: "
                    "'::' in a path is pytest's node-id separator (--lf, node-id arguments and "
                    f"JUnit would go wrong); rename: {_listed(shown)}"
                )
            for link, real in survey.symlinked_folders:
                lines.append(
                    f"oscura: symlinked folder {root.shown(link)} (to {root.shown(real)}) not "
                    "entered: its real folder is below the captures root or on the way to it "
                    "(a loop); each folder is collected once"
                )
        return lines

    def finish(
        self,
        *,
        stopped: str | None,
        whole_suite: bool,
        norecurse_patterns: Sequence[str] = (),
    ) -> None:
        """Write the baseline (update runs) and the JSON report; fill :attr:`lines`.

        ``stopped`` says why the run ended before every item ran (interrupted, ``-x``), or is
        ``None``: a stopped run writes no baseline.
        """
        records = self.final_records()
        # What the run was checked against, before an update run rewrites the baseline.
        baseline_hashes = {root.display: file_sha256(root.baseline_path) for root in self.roots}
        self.lines.extend(self.survey_lines(norecurse_patterns))
        if self.crashed_workers:
            self.lines.append(
                f"oscura: {len(self.crashed_workers)} xdist worker(s) crashed "
                f"({', '.join(self.crashed_workers)}); the summary covers the results that arrived"
            )
        lost = self.lost_items
        if lost:
            self.lines.append(
                f"oscura: the Dask cluster lost the results of {len(lost)} item(s) (a worker "
                "died); they are errors, and no baseline is written"
            )
        # Drift is judged against the baselines as the run found them, before it writes any.
        baselines: dict[str, Baseline | None] = {}
        for root in self.roots:
            try:
                baselines[root.display] = root.baseline()
            except OscuraError:
                baselines[root.display] = None  # reported by _finish_root
        for root in self.roots:
            self._finish_root(root, records, stopped=stopped, whole_suite=whole_suite)
        if self.sources:
            resumed = sum(1 for source in self.sources.values() if source == "resumed")
            if resumed:
                self.lines.append(
                    f"oscura: resumed {resumed} item(s) from stored results, "
                    f"measured {len(self.sources) - resumed}"
                )
        retry = [r for r in records if r.outcome in ("failed", "error")]
        if retry:
            shown = _listed([r.nodeid for r in retry], 10)
            timed_out = sum(1 for r in retry if r.error and "timed out after" in r.error)
            self.lines.append(
                f"oscura: {len(retry)} capture item(s) to retry ({timed_out} timed out); "
                f"--lf reruns exactly them: {shown}"
            )
        summary = self._summarize(records, baselines)
        if self.report_path is None and self.html_path is None:
            return
        report = build_report(
            records,
            self.rootdir,
            {r.display: r.path for r in self.roots},
            summary,
            shard=self.shard,
            run=self._run_info(records, baseline_hashes, stopped=stopped, whole_suite=whole_suite),
            baselines=judged_against(records, baselines),
        )
        if self.report_path is not None:
            try:
                write_report(self.report_path, report)
            except OSError as exc:
                self.write_failed = True
                self.lines.append(
                    f"oscura: JSON report {self.report_path} NOT written: {exc.strerror or exc}"
                )
            else:
                self.lines.append(f"oscura: JSON report written to {self.report_path}")
        if self.html_path is not None:
            self._write_html(self.html_path, report)

    def _write_html(self, path: Path, report: Report) -> None:
        from pytest_oscura.report.html import render_html

        try:
            page = render_html(report)
        except Exception as exc:  # a picture must not cost the run its verdict and baseline
            self.lines.append(
                f"oscura: HTML report NOT written: {type(exc).__name__}: {exc} (the JSON report "
                "holds the same data; python -m pytest_oscura html renders it)"
            )
            return
        try:
            write_atomically(path, page)
        except OSError as exc:
            self.lines.append(f"oscura: HTML report NOT written to {path}: {exc.strerror or exc}")
            return
        size = len(page.encode("utf-8"))
        self.lines.append(f"oscura: HTML report written to {path} ({size / 1024:.0f} kB)")

    def _run_info(
        self,
        records: Sequence[CaptureRecord],
        baseline_hashes: Mapping[str, str | None],
        *,
        stopped: str | None,
        whole_suite: bool,
    ) -> RunInfo:
        """The report's ``run``: what a merge of shard reports must find equal (or refuse), and
        what the HTML page shows and needs to find the capture files again."""
        from pytest_oscura.config import CONFIG_FILE_NAME
        from pytest_oscura.report.envelope import waveforms_folder
        from pytest_oscura.suite import captures_args

        roots: list[RootRun] = [
            {
                "display": root.display,
                "baseline": relative_text(root.baseline_path, self.rootdir),
                "baseline_sha256": baseline_hashes.get(root.display),
                "config_sha256": file_sha256(root.path / CONFIG_FILE_NAME),
                "stale": self.stale_keys.get(root.display, []),
                "path": str(root.path),
                "waveforms": str(waveforms_folder(root.baseline_path)),
            }
            for root in self.roots
        ]
        return {
            "roots": roots,
            "outliers": self.outlier_method,
            "gate": self.gate.text,
            "update_baseline": self.update_baseline,
            "interrupted": stopped is not None,
            "lost_workers": list(self.crashed_workers),
            "lost_results": len(self.lost_items),
            "whole_suite": whole_suite,
            "strategy": self.strategy,
            "duration_s": round(time.monotonic() - self.started, 3),
            "accept_command": f"pytest {captures_args(self.roots)} --oscura-update-baseline",
            "tolerances": self._tolerances(records),
        }

    def _tolerances(self, records: Sequence[CaptureRecord]) -> dict[str, dict[str, ToleranceDict]]:
        """Per group and measurement, the tolerance its captures share (left out where they
        differ: the page then draws no tolerance band)."""
        roots = {root.display: root for root in self.roots}
        found: dict[str, dict[str, ToleranceDict | None]] = {}
        for record in records:
            root = roots.get(record.root)
            if root is None or record.error is not None:
                continue
            config = root.suite.for_capture(record.key.rpartition("::")[0], record.channel)
            group = found.setdefault(record.group, {})
            for name in record.measurements:
                tolerance = config.tolerance_for(name)
                mine: ToleranceDict = {"abs": tolerance.abs, "rel": tolerance.rel}
                finite = math.isfinite(tolerance.abs) and math.isfinite(tolerance.rel)
                if not finite or group.setdefault(name, mine) != mine:
                    group[name] = None
        return {
            group: {name: tol for name, tol in sorted(names.items()) if tol is not None}
            for group, names in sorted(found.items())
        }

    def _summarize(
        self, records: list[CaptureRecord], baselines: Mapping[str, Baseline | None]
    ) -> Summary:
        """Aggregate tonight's batch, judge outliers and drift, apply the gate."""
        from pytest_oscura.aggregate import format_summary

        notes = [
            f"xdist worker {worker} crashed; its unfinished captures are missing"
            for worker in self.crashed_workers
        ]
        if self.lost_items:
            notes.append(f"the Dask cluster lost the results of {len(self.lost_items)} item(s)")
        summary = summarize_batch(
            records,
            baselines,
            self.outlier_method,
            self.gate,
            notes,
            update_baseline=self.update_baseline,
        )
        self.summary_lines = format_summary(summary)
        self.gate_failed = not summary["gate"]["passed"]
        return summary

    def _finish_root(
        self,
        root: CaptureRoot,
        records: Iterable[CaptureRecord],
        *,
        stopped: str | None,
        whole_suite: bool,
    ) -> None:
        mine = {r.key: r for r in records if r.root == root.display}
        if not self.update_baseline:
            try:
                old = root.baseline()
            except OscuraError as exc:
                self.lines.append(f"oscura: {exc}")
                return
            stale = self._stale(root, old, mine)
            self._report_stale(root, stale, removable=False)
            return
        if stopped or self.crashed_workers or self.lost_items:
            why = stopped or (
                "an xdist worker crashed"
                if self.crashed_workers
                else "the Dask cluster lost results"
            )
            self.lines.append(
                f"oscura: baseline {root.baseline_path} NOT written: {why}, results are incomplete"
            )
            return
        # Another update run may write the same baseline meanwhile: read, merge and write it
        # under its lock, so that neither run loses the other's entries.
        lock = lock_path(root.baseline_path)
        try:
            with locked(lock, self.lock_timeout_s, BaselineError):
                self._merge_and_write(root, mine, whole_suite=whole_suite)
        except LockTimeout as exc:
            self.write_failed = True
            self.lines.append(
                f"oscura: baseline {root.baseline_path} NOT written: another update run is "
                f"writing it ({exc}); run again when it has finished"
            )
        except BaselineError as exc:
            self.write_failed = True
            self.lines.append(f"oscura: baseline {root.baseline_path} NOT written: {exc}")
        except OSError as exc:  # a read-only folder, a full disk
            self.write_failed = True
            self.lines.append(
                f"oscura: baseline {root.baseline_path} NOT written: {exc.strerror or exc}"
            )

    def _merge_and_write(
        self, root: CaptureRoot, mine: Mapping[str, CaptureRecord], *, whole_suite: bool
    ) -> None:
        """Merge this run's accepted entries into the baseline as it is on disk now; write it."""
        try:
            old = read_baseline(root.baseline_path)
        except OscuraError as exc:
            self.lines.append(f"oscura: replacing unreadable baseline: {exc}")
            old = None
        stale = self._stale(root, old, mine)
        update = update_baseline_entries(old, mine.values(), stale, whole_suite=whole_suite)
        verb = write_baseline(root.baseline_path, update)
        self.lines.append(baseline_line(root.baseline_path, update, verb))
        errors = update.errors
        if self.baseline_waveforms:
            accepted = sorted(
                k for k, r in mine.items() if r.error is None and r.outcome in ("passed", "failed")
            )
            self._store_waveforms(root, accepted, list(update.changes.removed))
        if not whole_suite:
            self._report_stale(root, stale, removable=True)
        if errors:
            self.lines.append(
                f"oscura: {len(errors)} capture(s) failed to load; their baseline entries, if any, "
                "are unchanged: " + _listed(errors)
            )

    def _stale(
        self, root: CaptureRoot, old: Baseline | None, mine: Mapping[str, CaptureRecord]
    ) -> list[str]:
        """Baseline keys of ``root`` that name no capture any more; recorded for the report.

        A shard judges the keys of its own capture files only: together the shards judge each
        key once, and none reads the headers of the other shards' files.
        """
        stale = sorted(
            key
            for key in (old.captures if old is not None else {})
            if key not in mine
            and (self.shard is None or self.shard.holds_key(key))
            and root.is_stale(key)
        )
        self.stale_keys[root.display] = stale
        return stale

    def _store_waveforms(self, root: CaptureRoot, keys: list[str], removed: list[str]) -> None:
        """Store the envelope of every accepted capture next to the baseline (update runs)."""
        from pytest_oscura.report.envelope import store_baseline_waveforms, waveforms_folder

        folder = waveforms_folder(root.baseline_path)
        done = store_baseline_waveforms(root.path, root.suite, folder, keys, removed)
        text = f"oscura: baseline waveforms {folder}: {done.written} written, "
        text += f"{done.unchanged} unchanged, {done.removed} removed"
        if done.unreadable:
            text += f", {len(done.unreadable)} unreadable ({'; '.join(done.unreadable[:3])})"
        self.lines.append(text)

    def _report_stale(self, root: CaptureRoot, stale: list[str], *, removable: bool) -> None:
        if not stale:
            return
        shown = _listed(stale)
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


def _listed(items: Sequence[str], most: int = 5) -> str:
    """The first ``most`` items, comma-separated, with `` ...`` when there are more."""
    return ", ".join(items[:most]) + (" ..." if len(items) > most else "")
