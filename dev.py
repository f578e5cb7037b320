#!/usr/bin/env python3
"""Set up a virtual environment and run the project's tasks. Needs only Python 3.11+.

    python3 dev.py demo    # run the example regression suite (example_suite/)
    python3 dev.py test    # lint, type-check and run the whole test suite
    python3 dev.py bench   # run the benchmarks (pytest-benchmark, without xdist)

The environment lives in .venv and is reinstalled when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".pytest-oscura-installed"
EXTRAS = "dev"


def run(*command: str | Path) -> int:
    print("+", " ".join(str(c) for c in command), flush=True)
    return subprocess.call([str(c) for c in command], cwd=HERE)


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036  (dev.py must explain, not crash, on old Pythons)
        sys.exit(f"pytest-oscura needs Python 3.11 or newer, this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((HERE / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"+ creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = (BIN / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check")
    if run(*pip, "--upgrade", "pip") or run(*pip, "--editable", f".[{EXTRAS}]"):
        sys.exit("installing pytest-oscura into .venv failed (see pip's output above)")
    STAMP.write_text(wanted)


def pytest_status(code: int) -> int:
    if code == 5:  # pytest's "no tests collected": a broken collection, never a pass
        print("pytest collected no tests: treating that as a failure", flush=True)
        return 1
    return code


def demo() -> int:
    code = run(
        BIN / "pytest",
        "--oscura-captures",
        "example_suite/captures",
        "-n",
        "2",
        "--oscura-report",
        "build/example-report.json",
    )
    print(
        "\nThe example suite "
        + ("passed." if code == 0 else "FAILED.")
        + "\nTo see what a regression looks like, run:\n"
        "  .venv/bin/pytest --oscura-captures example_suite/regression\n"
        "(that run fails on purpose: a few captures drifted)",
        flush=True,
    )
    return pytest_status(code)


def test() -> int:
    checks = [
        (BIN / "ruff", "check", "."),
        (BIN / "ruff", "format", "--check", "."),
        (BIN / "mypy",),
    ]
    failed = [" ".join(str(p) for p in c[1:]) or "mypy" for c in checks if run(*c) != 0]
    code = pytest_status(run(BIN / "pytest", "-n", "2", "tests"))
    if failed:
        print(f"failed: {', '.join(failed)}", flush=True)
        return 1
    return code


def bench() -> int:
    return pytest_status(run(BIN / "pytest", "-p", "no:xdist", "benchmarks", "--benchmark-only"))


TASKS = {"demo": demo, "test": test, "bench": bench}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in TASKS:
        print(__doc__)
        return 2
    ensure_venv()
    return TASKS[argv[0]]()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
