"""The HTML report rendered from the JSON report: what it shows, that it is self-contained, sizes.

The batches run through the plugin's pure modules and its controller (``tests/html_suite.py``),
so the page comes from the same report data a pytest run builds, without pytest's overhead.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pytest_oscura.__main__ import main
from pytest_oscura.report.envelope import waveforms_folder
from pytest_oscura.report.html import MAX_PLOTTED, render_html
from tests.html_check import assert_self_contained, parse
from tests.html_suite import break_captures, night, write_suite


@pytest.fixture(autouse=True)
def _fixed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795824000")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 captures, accepted with stored waveforms; then 6 broken and the rails drifted."""
    base = tmp_path_factory.mktemp("small")
    root = base / "caps"
    paths = write_suite(root, 30)
    night(root, update=True, baseline_waveforms=True)
    break_captures(paths, 6, drift_rails=True)
    night(root, report=base / "report.json", html=base / "report.html")
    return base


def _report(base: Path) -> dict:
    return json.loads((base / "report.json").read_text())


def test_the_page_is_self_contained_and_parses(small: Path) -> None:
    page = parse((small / "report.html").read_text())
    assert_self_contained(page)
    assert len(page.svgs()) >= 9


def test_failing_captures_come_first_with_one_plot_each(small: Path) -> None:
    report = _report(small)
    html = (small / "report.html").read_text()
    page = parse(html)
    failing = [c for c in report["captures"] if c["outcome"] == "failed"]
    assert len(failing) == 6
    for capture in failing:
        assert capture["nodeid"] in page.text
    plotted = {f["data-key"] for f in page.figures("capture-plot")}
    assert {c["key"] for c in failing} <= plotted
    attention = html.index('id="attention"')
    first_group = html.index('class="group"')
    for capture in failing:
        assert attention < html.index(capture["nodeid"]) < first_group
    # one distribution figure per group, the drifted group in its own card too
    groups = {f["data-group"] for f in page.figures("group-plot")}
    assert groups == set(report["summary"]["groups"]) == {"clocks", "rails", "sines"}
    assert len(page.figures("drift-plot")) == 1
    drifted = [c for c in report["summary"]["drift"]["cells"] if c["flagged"]]
    assert {c["group"] for c in drifted} == {"rails"}
    assert f"rails: {len(drifted)} measurements drifted" in page.text


def test_the_verdict_and_the_run(small: Path) -> None:
    page = parse((small / "report.html").read_text())
    assert "FAILED" in page.text
    assert "6 failed" in page.text
    assert "serial (test helper)" in page.text
    assert "measurements drifted from the baseline" in page.text
    report = _report(small)
    run = report["run"]
    assert {"strategy", "duration_s", "roots", "accept_command", "tolerances"} <= set(run)
    assert {"path", "waveforms"} <= set(run["roots"][0])
    assert run["accept_command"] == "pytest --oscura-captures caps --oscura-update-baseline"
    assert run["tolerances"]["clocks"]["duty_cycle"] == {"abs": 0.005, "rel": 0.0}
    assert run["tolerances"]["rails"]["mean"] == {"abs": 0.005, "rel": 0.002}
    assert all(c["baseline"] is not None for c in report["captures"])


def test_each_card_has_its_table_marks_and_accept_command(small: Path) -> None:
    page = parse((small / "report.html").read_text())
    cards = page.cards()
    clock = cards["c-caps-clocks-clock_0000.npy--CH1"]
    assert "duty_cycle" in clock
    assert "pulse_width" in clock
    assert "pytest caps/clocks/clock_0000.npy::CH1 --oscura-captures caps " in clock
    assert "--oscura-update-baseline" in clock
    # a timing failure: the waveform and a zoom on one period with its instants
    assert clock.count("<svg") == 2
    assert "one period of" in clock
    assert "10/50/90 % instants" in clock
    assert "top / base" in clock
    assert "accepted" in clock
    sine = cards["c-caps-sines-sine_0001.npy--CH1"]
    assert "spectrum of" in sine
    assert "harmonics 2..10" in sine
    rail = cards["c-caps-rails-rail_0002.npy--CH1"]
    assert rail.count("<svg") == 1
    assert "mean 3.4" in rail
    assert "baseline 3.3" in rail
    assert 'class="acc' in rail  # over the accepted waveform


def test_the_filter_works_without_javascript(small: Path) -> None:
    html = (small / "report.html").read_text()
    page = parse(html)
    radios = [a["id"] for t, a in page.tags if t == "input" and a.get("type") == "radio"]
    assert radios == ["f-all", "f-failed", "f-drift", "f-outlier"]
    for kind in ("failed", "drift", "outlier"):
        assert f"#f-{kind}:checked~.cards>.card:not(.{kind})" in html
    classes = [a["class"].split() for t, a in page.tags if t == "article"]
    assert all("card" in c for c in classes)
    assert any("drift" in c for c in classes)
    assert any("outlier" in c for c in classes)


def test_rendering_is_deterministic_and_the_cli_renders_the_same_page(
    small: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _report(small)
    assert render_html(report) == render_html(report)
    out = small / "cli.html"
    assert main(["html", str(small / "report.json"), "-o", str(out)]) == 0
    assert out.read_text() == (small / "report.html").read_text()
    assert "wrote" in capsys.readouterr().out


def test_the_cli_reads_the_captures_still_there_and_names_the_others(
    tmp_path: Path, small: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(small, copy)
    shutil.rmtree(copy / "caps" / "clocks")
    report = _report(copy)
    report["run"]["roots"][0]["path"] = str(copy / "caps")
    (copy / "report.json").write_text(json.dumps(report))
    assert main(["html", str(copy / "report.json")]) == 0
    page = parse((copy / "report.html").read_text())
    assert_self_contained(page)
    plotted = {f["data-key"] for f in page.figures("capture-plot")}
    assert plotted
    assert not any(key.startswith("clocks/") for key in plotted)
    assert "Waveform not shown: capture file" in page.text
    assert "clock_0000.npy not found" in page.text
    assert len(page.figures("group-plot")) == 3  # the distributions need no capture file

    shutil.rmtree(copy / "caps")
    assert main(["html", str(copy / "report.json"), "-o", str(tmp_path / "gone.html")]) == 0
    gone = parse((tmp_path / "gone.html").read_text())
    assert gone.figures("capture-plot") == []
    assert "Waveform not shown: captures folder" in gone.text
    quiet = tmp_path / "quiet.html"
    assert main(["html", str(copy / "report.json"), "--no-waveforms", "-o", str(quiet)]) == 0
    assert "without reading capture files" in quiet.read_text()


def test_an_old_report_without_the_new_keys_still_renders(small: Path) -> None:
    report = _report(small)
    del report["run"]
    for capture in report["captures"]:
        del capture["baseline"]
    page = parse(render_html(report, waveforms=False))
    assert_self_contained(page)
    assert len(page.figures("group-plot")) == 3
    assert "pytest caps/clocks/clock_0000.npy::CH1 --oscura-captures caps" in page.text


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["html", str(tmp_path / "missing.json")]) == 2
    (tmp_path / "r.json").write_text("{}")
    assert main(["html", str(tmp_path / "r.json")]) == 2
    assert main(["html", str(tmp_path / "r.json"), "-o", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err
    assert "no 'captures' list" in err
    assert "overwrite" in err


def test_a_clean_night_says_so(tmp_path: Path) -> None:
    root = tmp_path / "caps"
    write_suite(root, 9)
    night(root, update=True)
    night(root, html=tmp_path / "r.html")
    page = parse((tmp_path / "r.html").read_text())
    assert "PASSED" in page.text
    assert "Nothing failed, drifted or stood out tonight." in page.text
    assert page.figures("capture-plot") == []


def test_sizes_of_a_night_of_1000_captures_with_30_failures(tmp_path: Path) -> None:
    root = tmp_path / "caps"
    paths = write_suite(root, 1000, samples=2000)
    night(root, update=True, baseline_waveforms=True)
    break_captures(paths, 30)
    night(root, report=tmp_path / "r.json", html=tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    assert len(html.encode()) < 5_000_000
    page = parse(html)
    assert_self_contained(page)
    cards = page.cards()
    failing = [c for c in cards.values() if "badge failed" in c]
    assert len(failing) == 30
    plotted = [c for c in cards.values() if 'class="capture-plot"' in c]
    assert 30 <= len(plotted) <= MAX_PLOTTED
    assert max(len(c.encode()) for c in plotted) <= 100_000


def test_a_long_record_stays_small(tmp_path: Path) -> None:
    root = tmp_path / "caps"
    paths = write_suite(root, 3, samples=1_000_000)
    night(root, update=True, baseline_waveforms=True)
    break_captures(paths, 3)
    folder = waveforms_folder(root / "oscura-baseline.json")
    assert all(p.stat().st_size < 8000 for p in folder.iterdir())
    night(root, html=tmp_path / "r.html")
    cards = parse((tmp_path / "r.html").read_text()).cards()
    assert len(cards) == 3
    for card in cards.values():
        assert 'class="capture-plot"' in card
        assert len(card.encode()) <= 100_000, len(card.encode())


def test_a_failure_rows_allowed_text_is_in_the_unit_its_values_are_shown_in() -> None:
    from pytest_oscura.report.html import _failure_row

    tolerance = _failure_row(
        {
            "measurement": "ac_rms",
            "value": 0.531564,
            "baseline": 0.565496,
            "kind": "tolerance",
            "allowed": "±0.002 V + 2 %",
            "unit": "V",
        }
    )
    assert "<td>531.564</td><td>565.496</td>" in tolerance
    assert "<td>±2 mV + 2 %</td><td>mV</td>" in tolerance
    limit = _failure_row(
        {
            "measurement": "max",
            "value": 0.0031,
            "baseline": None,
            "kind": "limit",
            "allowed": "spec ≤ 0.003",
            "unit": "V",
        }
    )
    assert "<td>spec ≤ 3</td><td>mV</td>" in limit
    volts = _failure_row(
        {
            "measurement": "mean",
            "value": 1.26,
            "baseline": 1.2,
            "kind": "tolerance",
            "allowed": "±0.005 V",
            "unit": "V",
        }
    )
    assert "<td>±0.005 V</td><td>V</td>" in volts
