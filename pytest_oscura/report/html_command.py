"""``python -m pytest_oscura html REPORT.json -o report.html``: the HTML page of a report. Pure.

Renders the page the plugin writes with ``--oscura-html`` from a JSON report file: merged
shards, an older run, a report copied from CI. Waveforms are read again from the capture files
named in the report where they are still present (``--no-waveforms`` skips that); each card says
when they are not.

Exit status: 0 the page was written, 2 usage error or unreadable report.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

PROG = "python -m pytest_oscura html"


def add_parser(commands: Any) -> None:
    """Declare the command on the ``python -m pytest_oscura`` sub-command parsers."""
    command = commands.add_parser(
        "html",
        help="Render the HTML report of a JSON report",
        description="Write the self-contained HTML page of a JSON report written by "
        "--oscura-report (the page --oscura-html writes)",
    )
    command.add_argument("report", metavar="REPORT.json", help="The JSON report")
    command.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="PATH",
        help="The HTML file to write. Default: REPORT.html next to REPORT.json",
    )
    command.add_argument(
        "--no-waveforms",
        action="store_true",
        help="Do not read the capture files again (no waveform plots)",
    )
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the command; the exit status (0 written, 2 unusable input or output)."""
    from pytest_oscura._files import write_atomically
    from pytest_oscura.report.html import render_html
    from pytest_oscura.report.json_report import ReportError, read_report

    source = Path(args.report)
    target = Path(args.output) if args.output else source.with_suffix(".html")
    if target.resolve() == source.resolve():
        print(f"{PROG}: the output would overwrite {source}; give -o PATH", file=sys.stderr)
        return 2
    try:
        loaded = read_report(source)
    except ReportError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    page = render_html(loaded.data, waveforms=not args.no_waveforms)
    try:
        write_atomically(target, page)
    except OSError as exc:
        print(f"{PROG}: cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    size = len(page.encode("utf-8"))
    print(f"wrote {target} ({size / 1024:.0f} kB, {len(loaded.records)} captures)")
    return 0
