"""Generated capture sets for the benchmarks: noisy square waves written as ``.npy`` files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from pytest_oscura.captures import LoadSettings
from pytest_oscura.jobs import FileJob, ItemSpec
from pytest_oscura.measurements import DEFAULT_MEASUREMENTS

SAMPLE_RATE_HZ = 1e6
DEFAULT_SIZE = (50, 100_000)  # captures, samples per capture (the seed's dataset)
LARGE_SIZE = (200, 1_000_000)
LARGE = os.environ.get("OSCURA_BENCH_LARGE", "") not in ("", "0")


def write_dataset(folder: Path, captures: int, samples: int, seed: int = 0) -> list[Path]:
    """``captures`` single-channel captures of ``samples`` float64 samples each, in ``folder``.

    Also writes an ``oscura.toml`` with the sample rate, so the folder is a captures root.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "oscura.toml").write_text(f"[defaults]\nsample_rate_hz = {SAMPLE_RATE_HZ}\n")
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / SAMPLE_RATE_HZ
    paths = []
    for index in range(captures):
        frequency = 1e3 * (1 + index % 7)
        wave = 1.65 + 1.65 * np.sign(np.sin(2 * np.pi * frequency * t))
        path = folder / f"cap_{index:04d}.npy"
        np.save(path, wave + rng.normal(0, 0.01, samples))
        paths.append(path)
    return paths


def jobs_for(paths: list[Path]) -> list[FileJob]:
    """One job per file, measuring the default set on its one channel (what the plugin does)."""
    settings = LoadSettings(sample_rate_hz=SAMPLE_RATE_HZ)
    item = ItemSpec("CH1", 0, None, DEFAULT_MEASUREMENTS)
    return [FileJob(str(path), path.name, settings, (item,)) for path in paths]
