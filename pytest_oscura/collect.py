"""Collection nodes: a :class:`CaptureFile` per capture file, a :class:`CaptureItem` per channel.

Collection reads headers only (every xdist worker collects everything). A file whose header
cannot be read still yields one item, named ``load``, that errors with the reason: a collection
error would stop the whole session, and one bad capture must not cost the others their run.

An item's setup takes its file's result from the process's
:class:`~pytest_oscura.runtime.Runtime`; its call judges it (:func:`pytest_oscura.compare.judge`)
and reports a :class:`~pytest_oscura.records.CaptureRecord` through ``user_properties``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_oscura.errors import CaptureWarning, OscuraError
from pytest_oscura.records import LOST, RECORD_PROPERTY, SOURCE_PROPERTY, CaptureRecord

if TYPE_CHECKING:
    from pytest_oscura.captures import CaptureFormat
    from pytest_oscura.config import CaptureConfig
    from pytest_oscura.jobs import FileJob, ItemResult
    from pytest_oscura.runtime import Runtime
    from pytest_oscura.suite import CaptureRoot

LOAD_ERROR_ITEM = "load"


class CaptureFile(pytest.File):
    """One capture file below a captures root."""

    def __init__(
        self,
        *,
        root: CaptureRoot,
        runtime: Runtime,
        capture_format: CaptureFormat | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.root = root
        self.runtime = runtime
        self.capture_format = capture_format  # as pytest_collect_file found it
        self.job: FileJob | None = None
        self._items_left = 0
        self._configs: dict[str, CaptureConfig] = {}

    @property
    def relative(self) -> str:
        return self.path.relative_to(self.root.path).as_posix()

    def config_for(self, item_name: str) -> CaptureConfig:
        """The suite config of one item, resolved once (rules are glob matches)."""
        config = self._configs.get(item_name)
        if config is None:
            config = self._configs[item_name] = self.root.suite.for_capture(
                self.relative, item_name
            )
        return config

    def collect(self) -> list[CaptureItem]:
        from pytest_oscura.captures import LoadSettings, read_header
        from pytest_oscura.jobs import FileJob, ItemSpec

        try:
            header = read_header(self.path, self.display, self.capture_format)
        except OscuraError as exc:
            return [CaptureItem.from_parent(self, name=LOAD_ERROR_ITEM, preset_error=str(exc))]
        specs = []
        for index, channel in enumerate(header.channels):
            segments = range(1, channel.segments + 1) if channel.segments else [None]
            for segment, name in zip(segments, channel.item_names(), strict=True):
                names = measurement_names(channel.kind, self.config_for(name))
                specs.append(ItemSpec(name, index, segment, names))
        # Load settings are per file: the first item's config decides (rules that name a
        # channel may change tolerances and measurements, not how the file is read).
        first = self.config_for(specs[0].name if specs else "")
        settings = LoadSettings(first.sample_rate_hz, first.units, first.full_scale)
        self.job = FileJob(str(self.path), self.display, settings, tuple(specs))
        self._items_left = len(specs)
        return [CaptureItem.from_parent(self, name=spec.name) for spec in specs]

    @property
    def display(self) -> str:
        """The file as shown in messages: relative to the invocation folder where possible."""
        try:
            return self.path.relative_to(self.config.invocation_params.dir).as_posix()
        except ValueError:
            return str(self.path)

    def item_done(self) -> None:
        # Drop the file's results after its last item: a nightly batch must not keep
        # thousands of captures' results (or samples) in memory.
        self._items_left -= 1
        if self._items_left <= 0 and self.job is not None:
            self.runtime.release(self.job)


def measurement_names(kind: str, config: CaptureConfig) -> tuple[str, ...]:
    """The measurements of a channel: the config's choice, else the engine's default set."""
    from pytest_oscura.measurements import DEFAULT_MEASUREMENTS, PROFILES

    if kind == "logic":
        return config.logic_measurements or PROFILES.get("logic", DEFAULT_MEASUREMENTS)
    return config.measurements or DEFAULT_MEASUREMENTS


def jobs_in_run_order(items: Sequence[pytest.Item]) -> list[FileJob]:
    """The capture files of ``items`` in the order their first item runs, each once."""
    jobs: dict[str, FileJob] = {}
    for item in items:
        if isinstance(item, CaptureItem) and item.parent.job is not None:
            jobs.setdefault(item.parent.job.path, item.parent.job)
    return list(jobs.values())


class CaptureItem(pytest.Item):
    """One channel (or one segment of a channel) of a capture file."""

    parent: CaptureFile

    def __init__(self, *, preset_error: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.preset_error = preset_error
        self.add_marker("oscura")
        self.result: ItemResult | None = None

    @property
    def key(self) -> str:
        return self.parent.root.key(self.path, self.name)

    @property
    def runtime(self) -> Runtime:
        return self.parent.runtime

    def reportinfo(self) -> tuple[Path, int | None, str]:
        # A line number, even if 0: skip/xfail markers and --benchmark-only build a report
        # location from it, and None there is an INTERNALERROR (PITFALLS 18).
        return self.path, 0, f"capture {self.key}"

    def _record(self, **fields: Any) -> None:
        config = self.parent.config_for(self.name)
        record = CaptureRecord(
            key=self.key,
            root=self.parent.root.display,
            group=config.group or self.parent.root.default_group,
            channel=self.name,
            nodeid=self.nodeid,
            **fields,
        )
        self.user_properties.append((RECORD_PROPERTY, json.dumps(record.to_dict(), sort_keys=True)))
        for name, value in record.measurements.items():
            self.user_properties.append((name, value))

    def _error(self, message: str) -> None:
        self._record(error=message)
        pytest.fail(message, pytrace=False)

    def setup(self) -> None:
        if self.preset_error is not None:
            self._error(self.preset_error)
        assert self.parent.job is not None
        file_result = self.runtime.file_result(self.parent.job)
        resumed = self.parent.job.path in self.runtime.resumed_paths
        source = LOST if file_result.lost else "resumed" if resumed else "measured"
        self.user_properties.append((SOURCE_PROPERTY, source))
        if file_result.error is not None:
            self._error(file_result.error)
        result = file_result.items[self.name]
        if result.error is not None:
            self._error(result.error)
        self.result = result

    def runtest(self) -> None:
        from pytest_oscura.compare import judge

        assert self.result is not None
        root, runtime = self.parent.root, self.runtime
        verdict = judge(
            self.key,
            self.result,
            self.parent.config_for(self.name),
            None if runtime.update_baseline else root.baseline(),
            baseline_path=root.baseline_path,
            update_baseline=runtime.update_baseline,
            captures_args=runtime.captures_args,
        )
        self._record(
            units=self.result.units,
            measurements=dict(self.result.values),
            not_applicable=dict(self.result.not_applicable),
            failures=verdict.failures,
            warnings=self.result.warnings,
            companions=self.result.companions,
            measured_on=self.result.measured_on,
            gpu_fallback=self.result.gpu_fallback,
        )
        self._report_file_notes(self.result)
        if verdict.message:
            pytest.fail(verdict.message, pytrace=False)

    def _report_file_notes(self, result: ItemResult) -> None:
        """The capture's warnings as pytest warnings, and a report section naming them and the
        companion files read with it."""
        lines = [f"warning: {text}" for text in result.warnings]
        lines += [f"companion file read with it: {name}" for name in result.companions]
        fallback = None
        if result.gpu_fallback is not None:
            fallback = f"measured on the CPU: the GPU strategy failed on it ({result.gpu_fallback})"
            lines.append(fallback)
        if lines:
            self.add_report_section("call", "oscura", "\n".join(lines))
        for text in result.warnings:
            warnings.warn(CaptureWarning(f"{self.parent.display}: {text}"), stacklevel=1)
        if fallback is not None:
            from pytest_oscura.strategies import GpuFallbackWarning

            text = f"{self.parent.display}::{self.name}: {fallback}"
            warnings.warn(GpuFallbackWarning(text), stacklevel=1)

    def teardown(self) -> None:
        self.result = None
        if self.preset_error is None:
            self.parent.item_done()
