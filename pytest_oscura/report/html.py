"""The HTML report: one self-contained page rendered from the JSON report's data. Pure.

The plugin builds the JSON report's data and renders it (``--oscura-html``); ``python -m
pytest_oscura html REPORT.json`` reads a report file and renders the same page. Top to bottom:

1. the verdict of the run: counts, quality, gate and its reasons, strategy, duration;
2. what needs attention: failed, erroring and outlier captures and drifted measurements, with a
   filter (all / failed / drift / outlier) made of radio buttons and CSS, so it works without
   JavaScript; per capture its waveform (read again from the capture file), a zoom on one period
   for timing failures, a spectrum for spectral failures, the failing measurements and the
   command that accepts the new values;
3. one section per group: each measurement's distribution tonight against the baseline, and the
   list of its captures.

Self-contained: no script, no external style sheet, font or image; the plots are inline SVG.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_oscura.aggregate.results import DriftCell
    from pytest_oscura.records import FailureDict

from pytest_oscura._text import format_number
from pytest_oscura.report.entries import (
    DRIFT,
    ERROR,
    FAILED,
    LEVEL_LINES,
    OUTLIER,
    Entry,
    PageData,
    read_page_data,
    slug,
)
from pytest_oscura.report.page_style import STYLE
from pytest_oscura.report.svg import esc, prefix_for, with_unit

#: Captures drawn at most; the others keep their card and table, without pictures.
MAX_PLOTTED = 50


def render_html(report: Mapping[str, Any], *, waveforms: bool = True) -> str:
    """The page of ``report`` (the JSON report's data). ``waveforms=False`` reads no capture
    file (the cards then say that their waveform was not read)."""
    data = read_page_data(report)
    attention = data.attention()
    drifted = data.drifted()
    plotted = _plots(data, attention[:MAX_PLOTTED], waveforms)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(_title(data))}</title>",
        f"<style>{STYLE}</style></head><body>",
        _header(data),
        _verdict(data, len(drifted)),
        _attention(data, attention, drifted, plotted),
        *(_group_section(data, name) for name in data.groups),
        _footer(data, plotted, len(attention)),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _title(data: PageData) -> str:
    counts = data.summary.get("counts") or {}
    bad = int(counts.get("failed") or 0) + int(counts.get("error") or 0)
    return f"oscura report: {bad} failed of {counts.get('total', len(data.entries))}"


def _header(data: PageData) -> str:
    report = data.report
    roots = data.run.get("roots") or []
    where = ", ".join(esc(str(r.get("display", ""))) for r in roots if isinstance(r, dict)) or esc(
        ", ".join(sorted({e.root for e in data.entries}))
    )
    return (
        '<header><h1>pytest-oscura report</h1><p class="sub">'
        f"{esc(report.get('date', ''))} · captures {where} · pytest-oscura "
        f"{esc(report.get('plugin_version', '?'))}</p></header>"
    )


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float) or not math.isfinite(seconds):
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {rest:02d} s"


def _verdict(data: PageData, n_drifted: int) -> str:
    summary = data.summary
    counts = summary.get("counts") or {}
    gate = summary.get("gate") or {}
    failed, errors = int(counts.get("failed") or 0), int(counts.get("error") or 0)
    gate_failed = gate.get("passed") is False
    bad = failed or errors or gate_failed
    headline = "FAILED" if bad else "PASSED"
    why = []
    if failed:
        why.append(f"{failed} failed")
    if errors:
        why.append(f"{errors} error{'s' if errors != 1 else ''}")
    if gate_failed:
        why.append("gate failed")
    quality = counts.get("quality")
    chips = [
        ("total", counts.get("total", len(data.entries))),
        ("passed", counts.get("passed", 0)),
        ("failed", failed),
        ("errors", errors),
        ("skipped", counts.get("skipped", 0)),
        ("quality", f"{quality:.1f} %" if isinstance(quality, int | float) else "—"),
    ]
    outliers = summary.get("outliers") or {}
    drift = summary.get("drift") or {}
    flagged_captures = len({e.key for e in data.entries if e.outliers})
    judged = sum(1 for c in data.drift_cells if c.get("status") in ("ok", "drift"))
    facts = [
        ("gate", f"{'FAILED' if gate_failed else 'passed'} ({gate.get('spec', 'none')})"),
        (
            "outliers",
            f"{outliers.get('flagged_count', 0)} value(s) flagged in {flagged_captures} "
            f"capture(s), method {outliers.get('method', '?')}",
        ),
        (
            "drift",
            f"{n_drifted} of {judged} measurements drifted from the baseline"
            if drift.get("available")
            else "no baseline statistics to compare with",
        ),
        ("strategy", data.run.get("strategy") or "—"),
        ("duration", _duration(data.run.get("duration_s"))),
    ]
    if data.run.get("update_baseline"):
        facts.append(("run", "baseline update"))
    reasons = "".join(f"<li>{esc(r)}</li>" for r in gate.get("reasons") or [])
    notes = "".join(
        f"<li>{esc(n)}</li>" for n in [*(gate.get("notes") or []), *(summary.get("notes") or [])]
    )
    return (
        f'<section class="verdict {"bad" if bad else "good"}"><div class="head">'
        f'<span class="big">{headline}</span>'
        + (f'<span class="why">{esc(", ".join(why))}</span>' if why else "")
        + '</div><div class="chips">'
        + "".join(
            f'<div class="chip c-{k}"><b>{esc(v)}</b><span>{k}</span></div>' for k, v in chips
        )
        + '</div><dl class="facts">'
        + "".join(f"<dt>{k}</dt><dd>{esc(v)}</dd>" for k, v in facts)
        + "</dl>"
        + (f'<ul class="reasons">{reasons}</ul>' if reasons else "")
        + (f'<ul class="notes">{notes}</ul>' if notes else "")
        + "</section>"
    )


def _plots(data: PageData, entries: list[Entry], waveforms: bool) -> dict[str, str]:
    """The figure of each capture that gets one (node id → HTML), or why it has none."""
    from pytest_oscura.report.capture_figure import figure_for, source_for

    source = source_for(data) if waveforms else None
    out: dict[str, str] = {}
    for entry in entries:
        out[entry.anchor] = figure_for(data, entry, source)
    return out


def _attention(
    data: PageData, attention: list[Entry], drifted: list[DriftCell], plotted: dict[str, str]
) -> str:
    by_group: dict[str, list[DriftCell]] = {}
    for cell in drifted:
        by_group.setdefault(str(cell.get("group", "")), []).append(cell)
    failed = sum(1 for e in attention if FAILED in e.kinds or ERROR in e.kinds)
    outliers = sum(1 for e in attention if OUTLIER in e.kinds)
    radios = "".join(
        f'<input type="radio" name="filter" id="f-{k}" class="flt"{checked}>'
        for k, checked in (("all", " checked"), (FAILED, ""), (DRIFT, ""), (OUTLIER, ""))
    )
    labels = "".join(
        f'<label for="f-{k}">{text}{f" <b>{n}</b>" if n is not None else ""}</label>'
        for k, text, n in (
            ("all", "all", None),
            (FAILED, "failed / error", failed),
            (DRIFT, "drift", len(drifted)),
            (OUTLIER, "outlier", outliers),
        )
    )
    cards = [_capture_card(data, e, plotted.get(e.anchor, "")) for e in attention]
    cards += [_drift_card(data, group, cells) for group, cells in by_group.items()]
    if not cards:
        cards.append('<p class="empty">Nothing failed, drifted or stood out tonight.</p>')
    counted = f"{len(attention)} capture{'s' if len(attention) != 1 else ''}"
    if drifted:
        counted += f", {len(drifted)} drifted measurement{'s' if len(drifted) != 1 else ''}"
    return (
        f'<section id="attention"><h2>Needs attention <small>{counted}</small></h2>'
        f'{radios}<div class="bar">Show: {labels}</div><div class="cards">'
        + "".join(cards)
        + "</div></section>"
    )


def _scaled(value: Any, factor: float) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "n/a"
    return format_number(value * factor)


_NUMBER = r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"


def _allowed_as_shown(f: FailureDict, factor: float, shown: str) -> str:
    """The row's ``allowed`` text in the unit its numbers are shown in.

    ``allowed`` is written in the measurement's own unit ("±0.002 V + 2 %", a limit as
    "spec ≤ 1.25"); a row whose values are shown as mV shows it as "±2 mV + 2 %".
    """
    text, unit = str(f.get("allowed", "")), str(f.get("unit", ""))
    if factor == 1 or not unit:
        return text

    def rescaled(suffix: str) -> Callable[[re.Match[str]], str]:
        return lambda m: f"{m.group(1)}{format_number(float(m.group(2)) * factor)}{suffix}"

    text = re.sub(rf"(^|[^\w.])({_NUMBER}) {re.escape(unit)}(?!\w)", rescaled(f" {shown}"), text)
    if f.get("kind") == "limit":  # "spec ≤ 1.25": the unit is the row's
        text = re.sub(rf"^(spec [≤≥] )({_NUMBER})$", rescaled(""), text)
    return text


def _failure_row(f: FailureDict) -> str:
    value, baseline, unit = f.get("value"), f.get("baseline"), str(f.get("unit", ""))
    numbers = [abs(v) for v in (value, baseline) if isinstance(v, int | float)]
    factor, shown = prefix_for(max(numbers, default=0.0), unit)
    delta = ""
    if f.get("kind") == "limit":
        baseline_text = ""
    else:
        baseline_text = _scaled(baseline, factor)
        if isinstance(value, int | float) and isinstance(baseline, int | float):
            delta = f"{(value - baseline) * factor:+.4g}"
            if baseline:
                delta += f"<small>{(value - baseline) / abs(baseline) * 100:+.3g} %</small>"
    cells = [
        esc(f.get("measurement", "")),
        esc(_scaled(value, factor)),
        esc(baseline_text),
        delta,
        esc(_allowed_as_shown(f, factor, shown)),
        esc(shown),
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _failure_table(entry: Entry) -> str:
    """The failing measurements: value, baseline, Δ (and Δ %), allowed, unit."""
    if not entry.failures:
        return ""
    head = "".join(
        f"<th>{h}</th>" for h in ("measurement", "value", "baseline", "Δ", "allowed", "unit")
    )
    rows = "".join(_failure_row(f) for f in entry.failures)
    return f'<table class="fails"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _outlier_table(data: PageData, entry: Entry) -> str:
    """The measurements flagged as outliers: value, group median, deviation, robust score."""
    if not entry.outliers:
        return ""
    units = (data.groups.get(entry.summary_group) or {}).get("units") or {}
    rows = []
    for o in entry.outliers:
        value, centre = o.get("value"), o.get("centre")
        numbers = [abs(v) for v in (value, centre) if isinstance(v, int | float)]
        factor, shown = prefix_for(
            max(numbers, default=0.0), str(units.get(o.get("measurement"), ""))
        )
        deviation = o.get("deviation_pct")
        score = o.get("score")
        cells = (
            o.get("measurement", ""),
            _scaled(value, factor),
            _scaled(centre, factor),
            f"{deviation:+.3g} %" if isinstance(deviation, int | float) else "",
            f"{score:.1f}" if isinstance(score, int | float) else "",
            shown,
        )
        rows.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    head = "".join(
        f"<th>{h}</th>"
        for h in ("outlier in", "value", "group median", "deviation", "score", "unit")
    )
    return (
        f'<table class="outl"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _capture_card(data: PageData, entry: Entry, figure: str) -> str:
    kinds = entry.kinds
    badges = "".join(f'<span class="badge {k}">{k}</span>' for k in kinds)
    classes = " ".join(sorted({FAILED if k == ERROR else k for k in kinds} | set(kinds)))
    group_link = f'<a href="#g-{slug(entry.summary_group)}">{esc(entry.summary_group)}</a>'
    side = [_failure_table(entry), _outlier_table(data, entry)]
    if entry.error:
        side.append(f'<p class="error">{esc(entry.error)}</p>')
    if entry.failures and any(f.get("kind") != "limit" for f in entry.failures):
        side.append(
            '<p class="accept">Accept the new values with:</p>'
            f"<pre>{esc(data.accept_command(entry))}</pre>"
            '<p class="accept">or, for the whole run: '
            f"<code>{esc(data.accept_command())}</code></p>"
        )
    return (
        f'<article class="card {classes}" id="{entry.anchor}">'
        f'<h3>{badges}<span class="nid">{esc(entry.nodeid or entry.key)}</span></h3>'
        f'<p class="meta">group {group_link} · key {esc(entry.key)}'
        + (f" · {esc(entry.units)}" if entry.units else "")
        + f'</p><div class="body"><div class="fig">{figure}</div>'
        f'<div class="side">{"".join(side)}</div></div></article>'
    )


def _drift_card(data: PageData, group: str, cells: list[DriftCell]) -> str:
    """One card per group with drifted measurements: their rows of the group's distribution
    figure, and per measurement the median's move and the tests that flagged it."""
    from pytest_oscura.report.distributions import group_figure

    members = [e for e in data.entries if e.summary_group == group]
    names = {str(c.get("measurement", "")) for c in cells}
    figure, _ = group_figure(data, group, members, only=names)
    units = (data.groups.get(group) or {}).get("units") or {}
    rows = []
    for cell in cells:
        name = str(cell.get("measurement", ""))
        unit = str(units.get(name, ""))
        before, after = cell.get("baseline_median"), cell.get("median")
        move = ""
        if isinstance(before, int | float) and isinstance(after, int | float):
            move = f"{with_unit(before, unit, 5)} → {with_unit(after, unit, 5)}"
        why = "".join(f"<small>{esc(r)}</small>" for r in cell.get("reasons") or [])
        rows.append(f"<tr><td>{esc(name)}</td><td>{esc(move)}{why}</td></tr>")
    plural = "s" if len(cells) != 1 else ""
    return (
        f'<article class="card drift" id="d-{slug(group)}">'
        '<h3><span class="badge drift">drift</span>'
        f'<span class="nid">{esc(group)}: {len(cells)} measurement{plural} drifted</span></h3>'
        f'<p class="meta">tonight\'s batch against the baseline population; '
        f'<a href="#g-{slug(group)}">every measurement of {esc(group)}</a></p>'
        f'<div class="body"><div class="fig"><figure class="drift-plot">{figure}</figure></div>'
        '<div class="side"><table class="drift"><thead><tr><th>measurement</th>'
        "<th>median: baseline → tonight</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div></div></article>"
    )


def _group_section(data: PageData, group: str) -> str:
    from pytest_oscura.report.distributions import group_figure

    info = data.groups.get(group) or {}
    counts = info.get("counts") or {}
    members = [e for e in data.entries if e.summary_group == group]
    figure, not_plotted = group_figure(data, group, members)
    rows = "".join(
        f'<tr class="o-{esc(e.outcome)}"><td>'
        + (
            f'<a href="#{e.anchor}">{esc(e.nodeid or e.key)}</a>'
            if e.kinds
            else esc(e.nodeid or e.key)
        )
        + f"</td><td>{esc(e.outcome)}</td><td>"
        + esc(", ".join(sorted({str(f.get("measurement")) for f in e.failures})) or "")
        + "</td></tr>"
        for e in members
    )
    quality = counts.get("quality")
    return (
        f'<section class="group" id="g-{slug(group)}"><h2>{esc(group)} <small>'
        f"{counts.get('total', len(members))} captures · {counts.get('failed', 0)} failed · "
        f"{counts.get('error', 0)} errors · quality "
        f"{f'{quality:.1f} %' if isinstance(quality, int | float) else '—'}</small></h2>"
        f'<figure class="group-plot" data-group="{esc(group)}">{figure}'
        "<figcaption>Each row is one measurement: tonight's values above the line, the baseline's "
        "below, the green band the baseline median ± the tolerance, the drift verdict on the "
        "right. Hover an outlier for its capture.</figcaption></figure>"
        + (f'<p class="na">{esc(not_plotted)}</p>' if not_plotted else "")
        + f"<details><summary>All {len(members)} captures of {esc(group)}</summary>"
        f'<table class="all"><thead><tr><th>capture</th><th>outcome</th><th>failing</th></tr>'
        f"</thead><tbody>{rows}</tbody></table></details></section>"
    )


def _footer(data: PageData, plotted: dict[str, str], attention: int) -> str:
    more = attention - len(plotted)
    limit = (
        f" The first {MAX_PLOTTED} captures that need attention are plotted; {more} more are "
        "listed without pictures."
        if more > 0
        else ""
    )
    return (
        f"<footer>Rendered by pytest-oscura {esc(data.report.get('plugin_version', '?'))} from "
        f"its JSON report (schema {esc(data.report.get('schema', '?'))}). This file is "
        f"self-contained: it loads nothing from the network.{esc(limit)}"
        f" Level measurements are drawn from the engine's own levels and crossings.</footer>"
    )


__all__ = ["LEVEL_LINES", "MAX_PLOTTED", "render_html"]
