"""The figure of one capture on the HTML page: its samples read again, reduced, drawn. Pure.

Only captures that need attention get one (failed, erroring with samples, outliers). Each is
read from its capture file, reduced at once to a :class:`~pytest_oscura.report.views.CaptureView`
(a few thousand numbers) and drawn; the samples are dropped before the next capture is read.
Where the file is gone, changed or unreadable, the card says so instead.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_oscura.report.entries import LEVEL_LINES, Entry, PageData
from pytest_oscura.report.envelope import Envelope, read_envelope
from pytest_oscura.report.samples import ItemSamples, open_suite, read_item

if TYPE_CHECKING:
    from pytest_oscura.config import SuiteConfig
    from pytest_oscura.report.plots import LevelLine


@dataclass
class WaveformSource:
    """Where a report's capture files and stored baseline envelopes are, per captures root."""

    roots: dict[str, Path]
    waveforms: dict[str, Path]
    _suites: dict[str, SuiteConfig | str] = field(default_factory=dict)

    def read(self, entry: Entry) -> ItemSamples | str:
        root = self.roots.get(entry.root)
        if root is None:
            # An older report without the roots: the capture path as written (rootdir-relative).
            file = Path(entry.path)
            if not entry.path or not file.is_file():
                return f"capture file {entry.path or entry.key} not found (the report has no roots)"
            return read_item(file.parent, f"{file.name}::{entry.channel}")
        suite = self._suites.get(entry.root)
        if suite is None:
            suite = self._suites[entry.root] = open_suite(root)
        if isinstance(suite, str):
            return suite
        return read_item(root, entry.key, suite)

    def accepted(self, entry: Entry) -> Envelope | None:
        folder = self.waveforms.get(entry.root)
        return None if folder is None else read_envelope(folder, entry.key)


def source_for(data: PageData) -> WaveformSource:
    """Where the page finds capture files and stored envelopes: the report's ``run.roots``."""

    def paths(name: str) -> dict[str, Path]:
        roots = data.run.get("roots")
        if not isinstance(roots, list):
            return {}
        return {
            str(root["display"]): Path(root[name])
            for root in roots
            if isinstance(root, dict) and isinstance(root.get(name), str)
        }

    return WaveformSource(paths("path"), paths("waveforms"))


def _note(text: str) -> str:
    return f'<p class="nofig">{html.escape(text)}</p>'


def figure_for(data: PageData, entry: Entry, source: WaveformSource | None) -> str:
    """The ``<figure>`` of one capture, or a note saying why it has none."""
    from pytest_oscura.report.plots import spectrum_svg, waveform_svg, zoom_svg
    from pytest_oscura.report.svg import with_unit
    from pytest_oscura.report.views import build_view

    if source is None:
        return _note("Waveform not shown: the page was rendered without reading capture files.")
    if entry.error and "timed out after" in entry.error:
        return _note("Waveform not shown: this capture timed out, so it is not read again.")
    item = source.read(entry)
    if isinstance(item, str):
        return _note(f"Waveform not shown: {item}.")
    try:
        view = build_view(
            item,
            marks=entry.has_marks(),
            zoom=entry.needs_zoom(),
            spectrum=entry.needs_spectrum(),
        )
    except (ValueError, MemoryError, FloatingPointError) as exc:
        return _note(f"Waveform not shown: {type(exc).__name__}: {exc}.")
    del item  # the samples: only the view is kept
    accepted = source.accepted(entry)
    name = entry.nodeid or entry.key
    parts = [waveform_svg(view, accepted, level_lines(entry), f"waveform of {name}")]
    if view.zoom is not None:
        parts.append(zoom_svg(view.zoom, view, accepted, f"one period of {name}"))
    if view.spectrum is not None:
        parts.append(spectrum_svg(view.spectrum, f"spectrum of {name}"))
    env = view.envelope
    caption = (
        f"{env.samples:,} samples at {with_unit(env.sample_rate_hz, 'Hz')}"
        + (
            f", drawn as the min/max of {env.columns} columns"
            if env.samples > env.columns
            else ", every sample drawn"
        )
        + (
            "; orange: the accepted waveform stored with the baseline (its min/max "
            "columns: a band under tonight's record, boxes in the zoom)."
            if accepted is not None
            else "; no accepted waveform stored (an update run with "
            "--oscura-baseline-waveforms stores one)."
        )
    )
    if view.notes:
        caption += " " + "; ".join(view.notes) + "."
    return (
        f'<figure class="capture-plot" data-key="{html.escape(entry.key, quote=True)}">'
        + "".join(parts)
        + f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def level_lines(entry: Entry) -> list[LevelLine]:
    """The failing and outlying measurements that are levels on the waveform (mean, min, max,
    top, base in the capture's unit), with the value each is compared with."""
    from pytest_oscura.report.plots import LevelLine

    lines = [
        LevelLine(str(f["measurement"]), value, _number(f.get("baseline")))
        for f in entry.failures
        if f.get("measurement") in LEVEL_LINES
        and (value := _number(f.get("value"))) is not None
        and f.get("unit") == entry.units
        and f.get("kind") != "limit"
    ]
    drawn = {ln.name for ln in lines}
    for outlier in entry.outliers:
        name, value = str(outlier.get("measurement")), _number(outlier.get("value"))
        if name in LEVEL_LINES and name not in drawn and value is not None:
            centre = _number(outlier.get("centre"))
            lines.append(LevelLine(name, value, centre, "group median", outlier=True))
            drawn.add(name)
    return lines


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
