"""Importing the package's light modules must not import numpy or scipy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import pytest_oscura.aggregate as aggregate


def modules_loaded_by(code: str) -> list[str]:
    probe = (
        f"{code}; import json, sys; "
        "print(json.dumps(sorted(m for m in ('numpy', 'scipy') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(out.stdout)
    return loaded


@pytest.mark.parametrize(
    "code",
    [
        "import pytest_oscura.aggregate.gate, pytest_oscura.aggregate.config",
        "import pytest_oscura.aggregate",
        "from pytest_oscura.aggregate import OUTLIER_METHODS, GateSpec, Summary, parse_gate",
    ],
)
def test_light_imports_load_neither_numpy_nor_scipy(code: str) -> None:
    assert modules_loaded_by(code) == []


def test_a_numeric_name_loads_on_first_use() -> None:
    # scipy only when a test runs: its import costs at every session end
    assert modules_loaded_by("from pytest_oscura.aggregate import summarize") == ["numpy"]


def test_every_public_name_resolves() -> None:
    for name in aggregate.__all__:
        assert getattr(aggregate, name) is not None, name
    with pytest.raises(AttributeError, match="has no attribute 'GATE_ITEMS'"):
        _ = aggregate.GATE_ITEMS
