"""The pieces of the HTML report's figures: scales and labels, views of odd records, SVG text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from pytest_oscura.report.distributions import DistributionRow, Outlier, distribution_svg
from pytest_oscura.report.envelope import envelope
from pytest_oscura.report.plots import LevelLine, spectrum_svg, spread, waveform_svg, zoom_svg
from pytest_oscura.report.samples import ItemSamples
from pytest_oscura.report.svg import nice_ticks, padded, points, prefix_for, with_unit
from pytest_oscura.report.views import build_view


class TestLabels:
    def test_si_prefixes(self) -> None:
        assert prefix_for(0.002, "s") == (1e3, "ms")
        assert prefix_for(2.5e6, "Hz") == (1e-6, "MHz")
        assert prefix_for(3.3, "V") == (1.0, "V")
        assert prefix_for(0.5, "%") == (1.0, "%")  # no prefixes on a percentage
        assert with_unit(0.0012, "s") == "1.2 ms"
        assert with_unit(-0.000091, "V") == "-91 µV"
        assert with_unit(0.5, "ratio") == "0.5 ratio"

    def test_ticks_are_round_and_cover_the_range(self) -> None:
        assert nice_ticks(0, 10, 5) == [0, 2, 4, 6, 8, 10]
        ticks = nice_ticks(-0.83, 0.83, 5)
        assert ticks[0] >= -0.83
        assert ticks[-1] <= 0.83
        assert 0.0 in ticks
        assert nice_ticks(1.0, 1.0) == [1.0]

    @pytest.mark.parametrize(
        "values",
        [[1.0, 1.0], [1e-20, 1e-20], [3.3, 3.3 + 1e-15], [0.0], [5e-324], [], [float("nan")]],
    )
    def test_padded_ranges_are_never_empty(self, values: list[float]) -> None:
        low, high = padded(values)
        assert high > low

    def test_points_round_to_a_tenth_of_a_pixel(self) -> None:
        assert points([1.04, 2.25], [3.0, -0.06]) == "1.0 3.0 2.2 -0.1"

    def test_labels_are_spread_apart_and_stay_inside(self) -> None:
        placed = spread([(50.0, "a"), (51.0, "b"), (52.0, "c")], 10, 200)
        ys = [y for y, _ in placed]
        assert ys == [50.0, 62.0, 74.0]
        low = spread([(199.0, "a"), (199.5, "b")], 10, 200)
        assert max(y for y, _ in low) <= 200


def _item(samples: np.ndarray, rate: float = 1e6) -> ItemSamples:
    return ItemSamples(samples, rate, "V")


def _parse(svg: str) -> ET.Element:
    element = ET.fromstring(svg)
    assert element.tag == "svg"
    return element


class TestViews:
    def test_a_clock_gets_levels_crossings_and_a_zoom_on_one_period(self) -> None:
        t = np.arange(20_000)
        clock = np.where((t % 200) < 100, 3.3, 0.0)
        view = build_view(_item(clock), marks=True, zoom=True, spectrum=False)
        assert view.top == pytest.approx(3.3)
        assert view.base == pytest.approx(0.0)
        assert view.rising_s.size == 99
        assert view.zoom is not None
        assert view.zoom.period_s == pytest.approx(200e-6)
        labels = sorted(i.label for i in view.zoom.instants)
        assert labels.count("50 %") >= 2
        assert "10 %" in labels
        assert "90 %" in labels
        svg = zoom_svg(view.zoom, view, envelope(clock, 1e6, 512))
        assert "period 200 µs" in svg
        assert "pulse width 100 µs" in svg
        _parse(svg)

    def test_a_sine_gets_a_spectrum_with_its_harmonics(self) -> None:
        t = np.arange(65_536) / 1e6
        sine = np.sin(2 * np.pi * 10_000 * t) + 0.01 * np.sin(2 * np.pi * 30_000 * t)
        view = build_view(_item(sine), marks=False, zoom=False, spectrum=True)
        assert view.spectrum is not None
        assert view.spectrum.fundamental_hz == pytest.approx(10_000, rel=1e-3)
        assert view.spectrum.dbc.size <= 720
        third = view.spectrum.dbc[np.argmin(np.abs(view.spectrum.frequency_hz - 30_000))]
        assert third == pytest.approx(-40, abs=1.5)
        _parse(spectrum_svg(view.spectrum))

    @pytest.mark.parametrize(
        "samples",
        [np.full(1000, 1.25), np.array([0.5]), np.array([0.0, 1.0]), np.zeros(10)],
        ids=["constant", "one sample", "two samples", "zeros"],
    )
    def test_odd_records_draw_and_say_what_is_missing(self, samples: np.ndarray) -> None:
        view = build_view(_item(samples), marks=True, zoom=True, spectrum=True)
        assert view.zoom is None
        assert view.spectrum is None
        assert any("zoom" in note for note in view.notes)
        assert any("spectrum" in note for note in view.notes)
        lines = [LevelLine("mean", float(samples[0]), 1.0)]
        _parse(waveform_svg(view, None, lines))

    def test_a_long_record_becomes_its_envelope(self) -> None:
        x = np.zeros(2_000_000)
        x[1_000_001] = 1.0
        view = build_view(_item(x), marks=False, zoom=False, spectrum=False)
        assert view.envelope.columns == 720
        assert view.envelope.high.max() == 1.0
        svg = waveform_svg(view, envelope(x, 1e6, 512))
        assert len(svg) < 40_000
        _parse(svg)


class TestDistributions:
    def test_rows_of_any_values_are_well_formed(self) -> None:
        rows = [
            DistributionRow("mean", "V", [3.3] * 5, [3.3] * 5, 3.3, (3.29, 3.31)),
            DistributionRow("tiny", "V", [1e-20, 2e-20], [1e-20]),
            DistributionRow("one", "%", [0.5]),
            DistributionRow(
                "wide",
                "s",
                list(np.linspace(1e-6, 2e-6, 300)),
                list(np.linspace(1e-6, 2e-6, 300)),
                1.5e-6,
                (0.0, 1.0),  # a band far wider than the values: clipped
                [Outlier(5e-6, "k: far out"), Outlier(1.6e-6, "k2: inside")],
                "DRIFT +2.00 σ",
                True,
                "median 1.5 µs → 1.6 µs",
            ),
        ]
        svg = distribution_svg(rows, "distributions")
        root = _parse(svg)
        assert len(root.findall(".//path[@class='hn']")) == 4
        assert "k: far out" in svg
        assert svg.count('class="rowbad"') == 1
