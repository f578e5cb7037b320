"""``python -m pytest_oscura COMMAND``: the command-line tools that work on JSON reports. Pure.

Each command lives in its module and declares itself through ``add_parser``; this module only
dispatches:

* ``compare OLD.json NEW.json``: batch against batch (:mod:`pytest_oscura.report.compare`);
* ``html REPORT.json -o report.html``: the HTML page of a report
  (:mod:`pytest_oscura.report.html_command`);
* ``merge REPORT... --report OUT``: CI shards into one run (:mod:`pytest_oscura.report.merge`).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from pytest_oscura.report import compare, html_command, merge

PROG = "python -m pytest_oscura"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the command's exit status (2 for a usage error)."""
    parser = argparse.ArgumentParser(prog=PROG, description="pytest-oscura tools")
    commands = parser.add_subparsers(dest="command", required=True)
    compare.add_parser(commands)
    html_command.add_parser(commands)
    merge.add_parser(commands)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
