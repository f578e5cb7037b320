"""CI shards through pytest: ``--oscura-shard K/N``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pytest_oscura.shards import shard_of
from tests.conftest import sine
from tests.integration.conftest import read_json

N = 24  # single-channel captures, plus one two-channel npz
CONFIG = """\
[defaults]
sample_rate_hz = 1e5
measurements = ['rms', 'vpp', 'mean']
tolerance = { rel = 0.01 }

[tolerances]
mean = { abs = 0.01 }
"""


@pytest.fixture(autouse=True)
def _fixed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795824000")


def write_batch(root: Path, scale: float = 1.0, outlier: float | None = None) -> None:
    """N captures of one group in two folders, one outlier where asked, and a 2-channel npz."""
    for folder in ("a", "b"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "oscura.toml").write_text(CONFIG)
    amplitudes = 1.0 + np.random.default_rng(7).normal(0.0, 0.01, N)
    for index, amplitude in enumerate(amplitudes):
        if outlier is not None and index == 17:
            amplitude = outlier
        folder = "a" if index % 2 else "b"
        np.save(root / folder / f"cap_{index:02d}.npy", scale * amplitude * sine())
    np.savez(
        root / "a" / "pair.npz",
        samples=scale * np.vstack([sine(), 0.98 * sine()]),
        sample_rate_hz=np.float64(1e5),
        channels=np.array(["CLK", "DATA"]),
    )


def test_items_of_other_shards_are_deselected_and_every_file_is_in_one_shard(
    pytester: pytest.Pytester,
) -> None:
    write_batch(pytester.path / "caps")
    total = N + 2
    seen: list[str] = []
    for index in (1, 2, 3):
        result = pytester.runpytest(
            "--oscura-captures", "caps", "--oscura-shard", f"{index}/3", "--oscura-report", "r.json"
        )
        outcomes = result.parseoutcomes()
        mine = read_json(pytester.path / "r.json")
        assert mine["shard"] == {"index": index, "count": 3}
        assert mine["run"]["whole_suite"] is True  # the shard is all it was asked to run
        nodeids = [c["nodeid"] for c in mine["captures"]]
        assert outcomes.get("failed", 0) == len(nodeids)  # no baseline yet: all fail
        assert outcomes["deselected"] == total - len(nodeids)
        assert "passed" not in outcomes
        for nodeid in nodeids:
            relative = nodeid.removeprefix("caps/").rpartition("::")[0]
            assert shard_of(relative, 3) == index
        seen += nodeids
        result.stdout.fnmatch_lines([f"oscura: shard {index}/3: capture files by a stable hash*"])
    assert len(seen) == len(set(seen)) == total
    pair = [n for n in seen if "pair.npz" in n]
    assert len(pair) == 2


def test_shard_options_usage_errors_and_ini_twin(pytester: pytest.Pytester) -> None:
    write_batch(pytester.path / "caps")
    bad = pytester.runpytest("--oscura-captures", "caps", "--oscura-shard", "4/3")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--oscura-shard: '4/3' is not a shard: write K/N with 1 <= K <= N*"])
    update = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-shard", "1/3", "--oscura-update-baseline"
    )
    assert update.ret == pytest.ExitCode.USAGE_ERROR
    update.stderr.fnmatch_lines(
        ["ERROR: --oscura-update-baseline with --oscura-shard 1/3 would write only this shard's*"]
    )
    pytester.makeini("[pytest]\noscura_shard = 2/3\n")
    ini = pytester.runpytest("--oscura-captures", "caps", "--co", "-q")
    ini.stdout.fnmatch_lines(["*deselected*"])
    ids = [line for line in ini.stdout.lines if line.startswith("caps/")]
    assert ids
    assert all(shard_of(i[5:].rpartition("::")[0], 3) == 2 for i in ids)
