"""The pure steps of a run's end that ``merge`` repeats over shard reports. Pure.

The controller (:mod:`pytest_oscura.controller`) takes them at the end of a run, and
``python -m pytest_oscura merge`` (:mod:`pytest_oscura.report.merge`) over the records of every
shard, so that a merged report and a merged baseline update are those of one run:

* :func:`summarize_batch`: statistics, outliers, drift against the baselines and the gate;
* :func:`judged_against`: the baseline values each record was judged against, for the report;
* :func:`update_baseline_entries` and :func:`write_baseline`: the one rule of a baseline update,
  and the atomic write of its result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pytest_oscura._files import write_atomically
from pytest_oscura._version import __version__
from pytest_oscura.aggregate import BaselineValue, GateSpec, Stats, Summary
from pytest_oscura.baseline import Baseline, BaselineEntry, Changes, build, diff, render
from pytest_oscura.records import CaptureRecord


@dataclass(frozen=True)
class BaselineUpdate:
    """What an update run does to one baseline file (:func:`update_baseline_entries`).

    Attributes:
        entries: the new file's captures, sorted by key.
        changes: keys added, changed and removed against the old file.
        errors: keys whose capture failed to load (their old entries, if any, are kept).
        needed: whether the file must be written (something changed, or there was none).
    """

    entries: dict[str, BaselineEntry]
    changes: Changes
    errors: list[str]
    needed: bool


def update_baseline_entries(
    old: Baseline | None,
    records: Iterable[CaptureRecord],
    stale: Iterable[str],
    *,
    whole_suite: bool,
) -> BaselineUpdate:
    """Merge one captures root's records into its baseline: the one rule of every update.

    Used by the controller at the end of an update run and by ``python -m pytest_oscura merge
    --update-baseline``. Every record that measured (``passed`` or ``failed``, no error) sets its
    entry; a record with an error keeps the old entry; ``stale`` keys (entries whose capture or
    channel no longer exists) are removed only when ``whole_suite`` (nothing narrowed the run).
    """
    old_entries = dict(old.captures) if old is not None else {}
    mine = {r.key: r for r in records}
    new_entries = dict(old_entries)
    for key, record in mine.items():
        if record.error is None and record.outcome in ("passed", "failed"):
            new_entries[key] = BaselineEntry(dict(record.measurements), record.group, record.units)
    if whole_suite:
        for key in stale:
            new_entries.pop(key, None)
    changes = diff(old_entries, new_entries)
    return BaselineUpdate(
        entries=dict(sorted(new_entries.items())),
        changes=changes,
        errors=sorted(k for k, r in mine.items() if r.error is not None),
        needed=changes.any or old is None,
    )


def write_baseline(path: Path, update: BaselineUpdate) -> str:
    """Write ``update`` to ``path`` atomically where needed; ``"written"`` or ``"unchanged"``."""
    if not update.needed:
        return "unchanged"
    baseline = build(update.entries, baseline_group_statistics(update.entries), __version__)
    write_atomically(path, render(baseline))
    return "written"


def baseline_line(path: Path, update: BaselineUpdate, verb: str) -> str:
    changes = update.changes
    return (
        f"oscura: baseline {path} {verb}: {len(changes.added)} added, "
        f"{len(changes.changed)} changed, {len(changes.removed)} removed"
    )


def summarize_batch(
    records: Sequence[CaptureRecord],
    baselines: Mapping[str, Baseline | None],
    outlier_method: str,
    gate: GateSpec,
    notes: Sequence[str] = (),
    *,
    update_baseline: bool = False,
) -> Summary:
    """The run's summary: statistics, outliers, drift against the baselines, the gate.

    Args:
        records: every item's record (outcomes filled in).
        baselines: per captures root (as displayed), its baseline, ``None`` where it has none.
        outlier_method, gate, notes: as :func:`pytest_oscura.aggregate.summarize` takes them;
            a note counting the items the GPU strategy measured on the CPU is added here.
        update_baseline: the run updates the baseline: the gate is not applied (and a note
            says so), whatever it is.

    Keys name the root only when there are several roots, so that they cannot collide. Values in
    different units are no population: a group whose captures (tonight's or the baseline's) mix
    units is split by unit, and its drift is judged from the baseline's per-capture values,
    split the same way.
    """
    from pytest_oscura.aggregate import mixed_unit_groups, summarize, unit_group

    notes = list(notes)
    fallbacks = [r for r in records if r.gpu_fallback is not None]
    if fallbacks:
        notes.append(
            f"{len(fallbacks)} capture item(s) measured on the CPU after an error on the GPU "
            f"(first: {fallbacks[0].key}: {fallbacks[0].gpu_fallback}); their records say "
            "measured_on cpu"
        )
    if update_baseline and gate != GateSpec():
        notes.append(f"gate {gate.text!r} not applied: this run updates the baseline")
        gate = GateSpec()
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


def judged_against(
    records: Sequence[CaptureRecord], baselines: Mapping[str, Baseline | None]
) -> dict[tuple[str, str], Mapping[str, float | None] | None]:
    """Each record's baseline values (those it was judged against), by root and key."""
    out: dict[tuple[str, str], Mapping[str, float | None] | None] = {}
    for record in records:
        baseline = baselines.get(record.root)
        entry = None if baseline is None else baseline.captures.get(record.key)
        out[(record.root, record.key)] = None if entry is None else entry.measurements
    return out
