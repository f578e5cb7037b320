"""Collection nodes: a :class:`CaptureFile` per capture file, a :class:`CaptureItem` per channel.

Collection reads headers only (every xdist worker collects everything). A file whose header
cannot be read still yields one item, named ``load``, that errors with the reason: a collection
error would stop the whole session, and one bad capture must not cost the others their run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_oscura.errors import OscuraError
from pytest_oscura.records import CaptureRecord

if TYPE_CHECKING:
    from pytest_oscura.captures import Capture, ChannelHeader
    from pytest_oscura.config import CaptureConfig
    from pytest_oscura.roots import CaptureRoot
    from pytest_oscura.runtime import Runtime

RECORD_PROPERTY = "oscura_record"
LOAD_ERROR_ITEM = "load"


class CaptureFile(pytest.File):
    """One capture file below a captures root."""

    def __init__(self, *, root: CaptureRoot, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root = root
        self.runtime = runtime
        self._loaded: list[Capture] | OscuraError | None = None
        self._items_left = 0

    @property
    def relative(self) -> str:
        return self.path.relative_to(self.root.path).as_posix()

    def collect(self) -> list[CaptureItem]:
        from pytest_oscura.captures import read_header

        try:
            header = read_header(self.path, display=self.display)
        except OscuraError as exc:
            return [CaptureItem.from_parent(self, name=LOAD_ERROR_ITEM, preset_error=str(exc))]
        items = []
        for index, channel in enumerate(header.channels):
            segments = range(1, channel.segments + 1) if channel.segments else [None]
            for segment in segments:
                name = channel.name if segment is None else f"{channel.name}#{segment}"
                items.append(
                    CaptureItem.from_parent(
                        self, name=name, channel=channel, channel_index=index, segment=segment
                    )
                )
        self._items_left = len(items)
        return items

    @property
    def display(self) -> str:
        """The file as shown in messages: relative to the invocation folder where possible."""
        try:
            return self.path.relative_to(self.config.invocation_params.dir).as_posix()
        except ValueError:
            return str(self.path)

    def load(self, config: CaptureConfig) -> list[Capture]:
        """Every channel of this file, loaded once and shared by its items."""
        from pytest_oscura.captures import LoadSettings, load_capture

        if self._loaded is None:
            settings = LoadSettings(config.sample_rate_hz, config.units, config.full_scale)
            try:
                self._loaded = load_capture(self.path, settings, display=self.display)
            except OscuraError as exc:
                self._loaded = exc
        if isinstance(self._loaded, OscuraError):
            raise self._loaded
        return self._loaded

    def item_done(self) -> None:
        # Drop the samples after the file's last item: a nightly batch must not keep
        # thousands of captures in memory.
        self._items_left -= 1
        if self._items_left <= 0:
            self._loaded = None


class CaptureItem(pytest.Item):
    """One channel (or one segment of a channel) of a capture file."""

    parent: CaptureFile

    def __init__(
        self,
        *,
        channel: ChannelHeader | None = None,
        channel_index: int = 0,
        segment: int | None = None,
        preset_error: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.channel = channel
        self.channel_index = channel_index
        self.segment = segment
        self.preset_error = preset_error
        self.add_marker("oscura")
        self.capture: Capture | None = None

    @property
    def key(self) -> str:
        return self.parent.root.key(self.path, self.name)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"capture {self.key}"

    def _config(self) -> CaptureConfig:
        return self.parent.root.suite.for_capture(self.parent.relative, self.name)

    def _record(self, **fields: Any) -> None:
        config = self._config()
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

    def setup(self) -> None:
        if self.preset_error is not None:
            self._record(error=self.preset_error)
            pytest.fail(self.preset_error, pytrace=False)
        try:
            captures = self.parent.load(self._config())
            self.capture = self.runtime.select(captures, self.channel_index, self.segment)
        except OscuraError as exc:
            self._record(error=str(exc))
            pytest.fail(str(exc), pytrace=False)

    @property
    def runtime(self) -> Runtime:
        return self.parent.runtime

    def runtest(self) -> None:
        assert self.capture is not None
        outcome = self.runtime.check(self.parent.root, self.key, self.capture, self._config())
        self._record(
            units=self.capture.units,
            measurements=outcome.values,
            not_applicable=outcome.not_applicable,
            failures=tuple(outcome.failures),
        )
        if outcome.message:
            pytest.fail(outcome.message, pytrace=False)

    def teardown(self) -> None:
        self.capture = None
        self.parent.item_done()
