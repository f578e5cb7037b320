"""``python -m pytest_oscura merge REPORT... --report OUT``: one run from CI shards. Pure.

Each shard (``pytest --oscura-shard K/N --oscura-report shard-K.json``) judged its own items
against the baseline; an item's verdict depends on nothing but its capture, its config and the
baseline, so the merged report takes every item as its shard reported it. What depends on the
whole batch (statistics, outliers, drift, the gate) is computed again over all shards' records
with the plugin's own :func:`~pytest_oscura.finish.summarize_batch`, against the same
baseline file, so the merged report's verdicts and summary are those of one run over all
captures. ``--update-baseline`` writes the baseline with the controller's own
:func:`~pytest_oscura.finish.update_baseline_entries`.

Refused, with a one-line reason, exit status 2 and nothing written: reports that are not
pytest-oscura reports of this version's layout (no ``run``), of different plugin versions,
settings (captures roots, ``oscura.toml``, outlier method, gate, update mode), baselines or
shard counts; the same shard twice; a report holding a capture that the shard hash puts in
another shard; a baseline file on disk that is not the one the shards were checked against.
With ``--update-baseline`` also: a missing shard, an interrupted shard, a shard that lost an
xdist worker or Dask results.

Exit status otherwise: 0 the gate passes, 1 it fails.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pytest_oscura.aggregate.config import OUTLIER_METHODS
from pytest_oscura.records import CaptureRecord
from pytest_oscura.report.json_report import (
    CaptureEntry,
    MergedFrom,
    ReportError,
    RootRun,
    RunInfo,
    ShardInfo,
    assemble_report,
    read_report,
    write_report,
)
from pytest_oscura.shards import Shard

if TYPE_CHECKING:
    from pytest_oscura.baseline import Baseline
    from pytest_oscura.finish import BaselineUpdate

PROG = "python -m pytest_oscura merge"
HTML_MISSING = "the HTML report is not available in this version"


class MergeRefused(Exception):
    """The reports cannot be merged (or the baseline not updated); one line saying why."""


def add_parser(commands: Any) -> None:
    """Declare the command on the ``python -m pytest_oscura`` sub-command parsers."""
    merge = commands.add_parser(
        "merge",
        help="Merge the JSON reports of CI shards into one report, as one run would write it",
        description="Recompute statistics, outliers, drift and the gate over the reports of "
        "all shards (pytest --oscura-shard K/N --oscura-report ...); exit 1 when the gate fails, "
        "2 when the reports cannot be merged",
    )
    merge.add_argument("reports", nargs="+", metavar="REPORT", help="The shards' JSON reports")
    merge.add_argument("--report", required=True, metavar="OUT", help="The merged JSON report")
    merge.add_argument(
        "--baseline",
        default=None,
        metavar="PATH",
        help="The baseline file the shards were checked against. Default: the one the reports "
        "name, relative to the current folder (run merge where the shards ran pytest)",
    )
    merge.add_argument(
        "--gate",
        default=None,
        metavar="SPEC",
        help="Gate: none or a comma-separated list of outliers, drift, quality>=N. "
        "Default: the shards' --oscura-gate",
    )
    merge.add_argument(
        "--outliers",
        choices=OUTLIER_METHODS,
        default=None,
        help="Outlier method. Default: the shards' --oscura-outliers",
    )
    merge.add_argument("--html", default=None, metavar="OUT.html", help="Also write an HTML report")
    merge.add_argument(
        "--update-baseline",
        action="store_true",
        help="Write the baseline from the merged results, as --oscura-update-baseline would "
        "(needs every shard, none interrupted)",
    )
    merge.set_defaults(run=run)


@dataclass(frozen=True)
class ShardReport:
    """One shard's JSON report, read and checked for what the merge needs."""

    path: str
    shard: Shard  # 1/1 for a report of an unsharded run
    sharded: bool
    plugin_version: str
    run: RunInfo
    entries: list[CaptureEntry]
    records: list[CaptureRecord]

    @property
    def label(self) -> str:
        return f"{self.path} (shard {self.shard})" if self.sharded else self.path


def load_shard_report(path: str) -> ShardReport:
    """Read one shard's report.

    Raises:
        ReportError: not readable, or not a complete pytest-oscura report.
    """
    data = read_report(Path(path)).data
    run = data.get("run")
    if data.get("merged_from") is not None:
        raise ReportError(f"{path}: is a merged report; merge the shards' own reports")
    if not isinstance(run, dict):
        raise ReportError(
            f"{path}: has no 'run' section (written by pytest-oscura before 0.2.0); run the "
            "shard again with this version"
        )
    shard_data = data.get("shard")
    try:
        _check_keys(run, RunInfo, "run")
        for root in run["roots"]:
            _check_keys(root, RootRun, "run.roots[]")
        shard = Shard(int(shard_data["index"]), int(shard_data["count"])) if shard_data else None
        entries: list[CaptureEntry] = list(data["captures"])
        records = [CaptureRecord.from_dict(entry) for entry in entries]
        for entry in entries:
            str(entry["path"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportError(f"{path}: not a complete pytest-oscura report ({exc!r})") from None
    return ShardReport(
        path=path,
        shard=shard or Shard(1, 1),
        sharded=shard is not None,
        plugin_version=str(data.get("plugin_version", "")),
        run=cast(RunInfo, run),
        entries=entries,
        records=records,
    )


def _check_keys(data: Any, shape: Any, where: str) -> None:
    """Raise ``KeyError`` naming the first key of the TypedDict ``shape`` that ``data`` lacks."""
    if not isinstance(data, dict):
        raise TypeError(f"{where} is not an object")
    for key in shape.__annotations__:
        if key not in data:
            raise KeyError(f"{where}.{key}")


def _settings(report: ShardReport) -> dict[str, object]:
    run = report.run
    return {
        "captures roots": [r["display"] for r in run["roots"]],
        "baseline files": [r["baseline"] for r in run["roots"]],
        "oscura.toml": [r["config_sha256"] for r in run["roots"]],
        "outlier method": run["outliers"],
        "gate": run["gate"],
        "update mode": run["update_baseline"],
    }


def check_compatible(reports: Sequence[ShardReport]) -> None:
    """Refuse reports that one run over all captures could not have written together.

    Raises:
        MergeRefused: different plugin versions, settings, baselines or shard counts; a shard
            twice; a capture in a shard the hash does not put it in.
    """
    first = reports[0]
    for other in reports[1:]:
        if other.plugin_version != first.plugin_version:
            raise MergeRefused(
                f"{first.path} was written by pytest-oscura {first.plugin_version}, "
                f"{other.path} by {other.plugin_version}: run every shard with the same version"
            )
        if other.sharded != first.sharded or other.shard.count != first.shard.count:
            raise MergeRefused(
                f"different shard counts: {first.label} and {other.label}; merge the shards of "
                "one run"
            )
        mine, theirs = _settings(first), _settings(other)
        for name, value in mine.items():
            if theirs[name] != value:
                raise MergeRefused(
                    f"different settings: {name} {value!r} in {first.path}, "
                    f"{theirs[name]!r} in {other.path}"
                )
        for ours, their in zip(first.run["roots"], other.run["roots"], strict=True):
            if ours["baseline_sha256"] != their["baseline_sha256"]:
                raise MergeRefused(
                    f"different baselines: {first.path} and {other.path} were checked against "
                    f"different versions of {ours['baseline']} (sha256 "
                    f"{_short(ours['baseline_sha256'])} and {_short(their['baseline_sha256'])})"
                )
    seen: dict[int, str] = {}
    for report in reports:
        if report.shard.index in seen:
            raise MergeRefused(
                f"shard {report.shard} twice: {seen[report.shard.index]} and {report.path}"
            )
        seen[report.shard.index] = report.path
        for record in report.records:
            if not report.shard.holds_key(record.key):
                raise MergeRefused(
                    f"{report.path} holds {record.key}, which the shard hash puts in another "
                    f"shard than {report.shard}: not a shard report of this version"
                )


def _short(digest: str | None) -> str:
    return "none" if digest is None else digest[:12]


def missing_shards(reports: Sequence[ShardReport]) -> list[int]:
    """The shard indices (1-based) of the run that no report covers."""
    count = reports[0].shard.count
    return sorted(set(range(1, count + 1)) - {r.shard.index for r in reports})


def check_update(reports: Sequence[ShardReport]) -> None:
    """Refuse ``--update-baseline`` from an incomplete or damaged set of shards.

    Raises:
        MergeRefused: a shard is missing, was interrupted, or lost workers or results.
    """
    count = reports[0].shard.count
    missing = missing_shards(reports)
    if missing:
        names = ", ".join(f"{index}/{count}" for index in missing)
        raise MergeRefused(
            f"--update-baseline needs every shard: shard {names} missing; the baseline is unchanged"
        )
    for report in reports:
        run = report.run
        why = (
            "was interrupted"
            if run["interrupted"]
            else f"lost xdist worker(s) {', '.join(run['lost_workers'])}"
            if run["lost_workers"]
            else f"lost the results of {run['lost_results']} item(s) on the Dask cluster"
            if run["lost_results"]
            else None
        )
        if why is not None:
            raise MergeRefused(
                f"--update-baseline: {report.label} {why}, its results are incomplete; the "
                "baseline is unchanged"
            )


def baseline_paths(reports: Sequence[ShardReport], given: str | None) -> dict[str, Path]:
    """Per captures root (as displayed), the baseline file to read (and update).

    Raises:
        MergeRefused: ``given`` with several captures roots.
    """
    roots = reports[0].run["roots"]
    if given is not None:
        if len(roots) != 1:
            raise MergeRefused(
                f"--baseline names one file, but the reports have {len(roots)} captures roots; "
                "leave it out to use the baseline files the reports name"
            )
        return {roots[0]["display"]: Path(given)}
    return {root["display"]: Path(root["baseline"]) for root in roots}


def read_baselines(
    reports: Sequence[ShardReport], paths: Mapping[str, Path]
) -> dict[str, Baseline | None]:
    """Per captures root, the baseline the shards were checked against (``None``: none).

    Raises:
        MergeRefused: the file on disk is not the one the shards used, or is unreadable.
    """
    from pytest_oscura.baseline import file_sha256, read_baseline
    from pytest_oscura.errors import BaselineError

    baselines: dict[str, Baseline | None] = {}
    for root in reports[0].run["roots"]:
        path = paths[root["display"]]
        recorded, found = root["baseline_sha256"], file_sha256(path)
        if recorded != found:
            if found is None:
                why = "no such file, but the shards were checked against one"
            elif recorded is None:
                why = "the shards ran without a baseline, but this file exists"
            else:
                why = (
                    f"not the baseline the shards were checked against (sha256 {_short(found)}, "
                    f"the shards' {_short(recorded)})"
                )
            raise MergeRefused(
                f"{path}: {why}; run merge where the shards ran pytest or name the file with "
                "--baseline"
            )
        try:
            baselines[root["display"]] = read_baseline(path)
        except BaselineError as exc:
            raise MergeRefused(str(exc)) from None
    return baselines


def _notes(reports: Sequence[ShardReport]) -> list[str]:
    count = reports[0].shard.count
    notes = []
    missing = missing_shards(reports)
    if missing:
        present = ", ".join(str(i) for i in sorted(r.shard.index for r in reports))
        notes.append(
            f"shard(s) {', '.join(f'{i}/{count}' for i in missing)} missing: the summary covers "
            f"shards {present} of {count}"
        )
    for report in reports:
        run = report.run
        if run["interrupted"]:
            notes.append(f"{report.label} was interrupted; its unfinished captures are missing")
        for worker in run["lost_workers"]:
            notes.append(
                f"xdist worker {worker} of {report.label} crashed; its unfinished captures are "
                "missing"
            )
        if run["lost_results"]:
            notes.append(
                f"the Dask cluster lost the results of {run['lost_results']} item(s) of "
                f"{report.label}"
            )
    return notes


def merged_run(reports: Sequence[ShardReport], outliers: str, gate: str, update: bool) -> RunInfo:
    """The merged report's ``run``: that of one run over every shard's captures."""
    seen = {record.key for report in reports for record in report.records}
    roots: list[RootRun] = []
    for index, root in enumerate(reports[0].run["roots"]):
        stale = {key for report in reports for key in report.run["roots"][index]["stale"]}
        roots.append({**root, "stale": sorted(stale - seen)})
    complete = not missing_shards(reports)
    strategies = sorted({r.run["strategy"] for r in reports})
    return {
        "roots": roots,
        "outliers": outliers,
        "gate": gate,
        "update_baseline": update or reports[0].run["update_baseline"],
        "interrupted": any(r.run["interrupted"] for r in reports),
        "lost_workers": [w for r in reports for w in r.run["lost_workers"]],
        "lost_results": sum(r.run["lost_results"] for r in reports),
        "whole_suite": complete and all(r.run["whole_suite"] for r in reports),
        # The shards ran side by side: the merged run took as long as its longest shard.
        "strategy": strategies[0] if len(strategies) == 1 else " / ".join(strategies),
        "duration_s": max(r.run["duration_s"] for r in reports),
        "accept_command": reports[0].run["accept_command"],
        "tolerances": reports[0].run["tolerances"],
    }


def _html_renderer() -> Any:
    """The HTML report's command module, or ``None`` where this version has none."""
    import importlib

    try:
        return importlib.import_module("pytest_oscura.report.html_command")
    except ImportError:
        return None


def _write_html(renderer: Any, report_path: str, html_path: str) -> int:
    """Render the merged JSON report with the ``html`` command, as the CLI would run it."""
    parser = argparse.ArgumentParser(prog="python -m pytest_oscura")
    renderer.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["html", report_path, "-o", html_path])
    status: int = args.run(args)
    return status


def run(args: argparse.Namespace) -> int:
    """Run the command; the exit status (0 the gate passed, 1 it failed, 2 refused)."""
    try:
        return _merge(args)
    except (ReportError, MergeRefused) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2


def _merge(args: argparse.Namespace) -> int:
    from pytest_oscura.aggregate import format_summary, parse_gate
    from pytest_oscura.finish import (
        baseline_line,
        summarize_batch,
        update_baseline_entries,
    )

    renderer = _html_renderer() if args.html else None
    if args.html and renderer is None:
        raise MergeRefused(f"--html: {HTML_MISSING}")
    reports = [load_shard_report(path) for path in args.reports]
    check_compatible(reports)
    if args.update_baseline:
        check_update(reports)
    paths = baseline_paths(reports, args.baseline)
    baselines = read_baselines(reports, paths)
    first = reports[0].run
    method = args.outliers or first["outliers"]
    try:
        requested = parse_gate(args.gate or first["gate"])
    except ValueError as exc:
        raise MergeRefused(f"--gate: {exc}") from None
    records = [record for report in reports for record in report.records]
    summary = summarize_batch(
        records, baselines, method, requested, _notes(reports), update_baseline=args.update_baseline
    )
    merged_from: list[MergedFrom] = [
        {"report": r.path, "shard": _shard_info(r) if r.sharded else None} for r in reports
    ]
    report = assemble_report(
        [entry for r in reports for entry in r.entries],
        summary,
        run=merged_run(reports, method, requested.text, args.update_baseline),
        merged_from=merged_from,
    )
    count = reports[0].shard.count
    print(
        f"Merged {len(reports)} report(s), shards "
        + ", ".join(str(i) for i in sorted(r.shard.index for r in reports))
        + f" of {count}: {len(records)} capture items"
    )
    print("\n".join(format_summary(summary)))
    if args.update_baseline:
        run_info = report["run"]
        assert run_info is not None
        for root in run_info["roots"]:
            display = root["display"]
            path = paths[display]
            update = update_baseline_entries(
                baselines[display],
                [r for r in records if r.root == display],
                root["stale"],
                whole_suite=run_info["whole_suite"],
            )
            print(baseline_line(path, update, _write_locked(path, root["baseline_sha256"], update)))
            if update.errors:
                print(
                    f"oscura: {len(update.errors)} capture(s) failed to load; their baseline "
                    "entries, if any, are unchanged"
                )
    write_report(Path(args.report), report)
    print(f"oscura: JSON report written to {args.report}")
    if renderer is not None:
        status = _write_html(renderer, args.report, args.html)
        if status != 0:
            return status
    return 0 if summary["gate"]["passed"] else 1


def _write_locked(path: Path, verified_sha256: str | None, update: BaselineUpdate) -> str:
    """Write the merged baseline under the baseline's lock, as an update run does, and only if
    the file is still the one the shards were checked against.

    Raises:
        MergeRefused: another update run holds the lock too long, or changed the file meanwhile.
    """
    from pytest_oscura._files import locked
    from pytest_oscura.baseline import LOCK_TIMEOUT_S, file_sha256, lock_path
    from pytest_oscura.errors import BaselineError, LockTimeout
    from pytest_oscura.finish import write_baseline

    try:
        with locked(lock_path(path), LOCK_TIMEOUT_S, BaselineError):
            if file_sha256(path) != verified_sha256:
                raise MergeRefused(
                    f"{path} changed while merging (another update run?); the baseline is "
                    "unchanged: merge again"
                )
            return write_baseline(path, update)
    except LockTimeout as exc:
        raise MergeRefused(
            f"{path}: another update run is writing it ({exc}); the baseline is unchanged"
        ) from None


def _shard_info(report: ShardReport) -> ShardInfo:
    return {"index": report.shard.index, "count": report.shard.count}
