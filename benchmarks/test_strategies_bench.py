"""The four strategies side by side, and the plugin end to end against a bare loop.

Run without xdist (pytest-benchmark switches itself off under -n)::

    pytest -p no:xdist benchmarks --benchmark-only
    OSCURA_BENCH_LARGE=1 pytest -p no:xdist benchmarks --benchmark-only   # 200 × 1M, 1000 files

Each strategy round is one whole ``measure_files`` call, pool start-up included: what a user
pays for one batch. Generated captures live in pytest's tmp folder, never in the repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks.dataset import DEFAULT_SIZE, LARGE, LARGE_SIZE, jobs_for, write_dataset
from pytest_oscura.jobs import FileJob
from pytest_oscura.strategies import STRATEGIES, measure_files, probe_gpu

SIZES = [pytest.param(DEFAULT_SIZE, id="50x100k")]
if LARGE:
    SIZES.append(pytest.param(LARGE_SIZE, id="200x1M"))
PLUGIN_CAPTURES = 1000 if LARGE else 200
REPO = Path(__file__).resolve().parent.parent

_serial_seconds: dict[tuple[int, int], float] = {}


@pytest.fixture(scope="module", params=SIZES)
def dataset(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    captures, samples = request.param
    folder = tmp_path_factory.mktemp(f"captures_{captures}x{samples}")
    return (captures, samples), jobs_for(write_dataset(folder, captures, samples))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_strategy(benchmark: Any, dataset: Any, strategy: str) -> None:
    size, jobs = dataset
    captures, samples = size
    benchmark.group = f"strategies: {captures} captures x {samples} samples"
    if strategy == "gpu" and probe_gpu()[0] is None:
        pytest.skip(f"n/a (no GPU): {probe_gpu()[1]}")
    if strategy != "serial" and size not in _serial_seconds:
        _serial_seconds[size] = _time_once(jobs, "serial")
    results = benchmark.pedantic(
        measure_files, args=(jobs, strategy), rounds=3, iterations=1, warmup_rounds=0
    )
    assert all(r.error is None for r in results)
    mean = benchmark.stats.stats.mean
    if strategy == "serial":
        _serial_seconds[size] = mean
    benchmark.extra_info["captures_per_s"] = round(captures / mean, 1)
    benchmark.extra_info["speedup_vs_serial"] = round(_serial_seconds[size] / mean, 2)


def _time_once(jobs: list[FileJob], strategy: str) -> float:
    start = time.perf_counter()
    measure_files(jobs, strategy)
    return time.perf_counter() - start


BARE_LOOP = """
import sys
from pathlib import Path
from pytest_oscura.captures import LoadSettings, load_capture
from pytest_oscura.measurements import measure_detailed
settings = LoadSettings(sample_rate_hz=1e6)
for path in sorted(Path(sys.argv[1]).glob("*.npy")):
    for capture in load_capture(path, settings):
        measure_detailed(capture.samples, capture.sample_rate_hz)
"""


@pytest.fixture(scope="module")
def plugin_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A captures root of PLUGIN_CAPTURES × 100,000 samples with its baseline recorded."""
    folder = tmp_path_factory.mktemp("plugin") / "caps"
    write_dataset(folder, PLUGIN_CAPTURES, 100_000)
    code = _pytest(folder, "--oscura-update-baseline")
    assert code == 0
    return folder


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def _pytest(folder: Path, *args: str) -> int:
    # Other installed plugins off (hypothesis alone adds about 1 s at session end): this
    # measures pytest plus pytest-oscura.
    command = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider"]
    command += ["-p", "no:hypothesispytest", "-p", "no:benchmark"]
    command += ["-q", "--oscura-captures", str(folder), *args]
    return subprocess.run(command, cwd=folder.parent, env=_env(), capture_output=True).returncode


def _bare(folder: Path) -> int:
    command = [sys.executable, "-c", BARE_LOOP, str(folder)]
    return subprocess.run(command, env=_env(), capture_output=True).returncode


@pytest.mark.parametrize("runner", ["bare_loop", "plugin"])
def test_plugin_end_to_end(benchmark: Any, plugin_suite: Path, runner: str) -> None:
    """Wall time of ``pytest --oscura-captures`` (auto strategy) vs a loop, both fresh processes."""
    benchmark.group = f"plugin end to end: {PLUGIN_CAPTURES} captures x 100000 samples"
    run = _bare if runner == "bare_loop" else _pytest
    code = benchmark.pedantic(run, args=(plugin_suite,), rounds=3, iterations=1)
    assert code == 0
    benchmark.extra_info["captures_per_s"] = round(PLUGIN_CAPTURES / benchmark.stats.stats.mean, 1)
