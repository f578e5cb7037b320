"""What ``--oscura-html`` adds to a night: 1,000 small captures, 30 of them failing.

    python -m benchmarks.html_report                    # 1,000 captures × 2,000 samples, 30 fail
    python -m benchmarks.html_report 1000 2000 30 --rounds 5 -- -n 2

Records a baseline once, breaks the failing captures (and drifts the rails a little, so the
page has drift to show), then runs pytest in a subprocess alternately without and with
``--oscura-html``, ``--rounds`` times each, and prints the median wall times, their ratio, the
page's size and the time the renderer alone takes on the run's JSON report. Arguments after
``--`` go to pytest (for example ``-n 2``). Timings are noisy on a shared machine; the sizes
are exact.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.html_suite import break_captures, write_suite


def _pytest(root: Path, *args: str) -> float:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "--oscura-captures",
        str(root),
        "--oscura-progress",
        "off",
        "-p",
        "no:randomly",
        *args,
    ]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=root.parent, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(
            f"pytest failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("captures", type=int, nargs="?", default=1000)
    parser.add_argument("samples", type=int, nargs="?", default=2000)
    parser.add_argument("failing", type=int, nargs="?", default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("pytest_args", nargs="*", help="after --: more pytest arguments")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oscura-html-bench-") as folder:
        root = Path(folder) / "caps"
        paths = write_suite(root, args.captures, args.samples)
        _pytest(root, "--oscura-update-baseline", "--oscura-baseline-waveforms")
        break_captures(paths, args.failing, drift_rails=True)
        page = Path(folder) / "report.html"
        plain: list[float] = []
        with_html: list[float] = []
        for _ in range(args.rounds):
            plain.append(_pytest(root, *args.pytest_args))
            with_html.append(_pytest(root, "--oscura-html", str(page), *args.pytest_args))
        report = Path(folder) / "report.json"
        _pytest(root, "--oscura-report", str(report), *args.pytest_args)
        from pytest_oscura.report.html import render_html

        data = json.loads(report.read_text())
        start = time.perf_counter()
        rendered = render_html(data)
        render_s = time.perf_counter() - start
        without, with_ = statistics.median(plain), statistics.median(with_html)
        size = page.stat().st_size
        print(
            f"{args.captures} captures x {args.samples} samples, {args.failing} failing, "
            f"pytest {' '.join(args.pytest_args) or '(no xdist)'}, median of {args.rounds}"
        )
        print(f"without --oscura-html  {without:8.2f} s")
        print(f"with --oscura-html     {with_:8.2f} s")
        print(f"ratio                  {with_ / without:8.3f}  (+{(with_ / without - 1):.1%})")
        print(f"page                   {size / 1e6:8.2f} MB ({len(rendered) / 1e6:.2f} MB again)")
        print(f"renderer alone         {render_s:8.2f} s (on the run's JSON report)")


if __name__ == "__main__":
    main()
