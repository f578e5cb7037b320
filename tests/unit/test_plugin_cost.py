"""The plugin must cost nothing in a project that has no captures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_importing_the_plugin_imports_neither_numpy_nor_scipy_nor_the_html_report() -> None:
    code = (
        "import sys, pytest_oscura.plugin, pytest_oscura; "
        "print(sorted(m for m in ('numpy', 'scipy', 'cupy', 'matplotlib', "
        "'pytest_oscura.report.html') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_pytest_without_captures_creates_no_files_and_loads_no_numpy(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text(
        "import sys\n\ndef test_light():\n    assert 'numpy' not in sys.modules\n    assert 'scipy' not in sys.modules\n"
    )
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:benchmark",
            "-p",
            "no:hypothesispytest",
            "-q",
            "test_plain.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    after = sorted(
        p.name
        for p in tmp_path.rglob("*")
        if p.name != "__pycache__" and "__pycache__" not in p.parts
    )
    assert after == before
