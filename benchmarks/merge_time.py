"""Time ``python -m pytest_oscura merge`` on synthetic shard reports.

    python -m benchmarks.merge_time                 # 3 shards × 1,000 captures
    python -m benchmarks.merge_time 4 5000          # shards, captures per shard

The shard reports are written the way shard runs write them (the plugin's
:class:`~pytest_oscura.controller.Controller` with a shard, each item's record arriving as its
test report), with the default measurement set (22 values per capture) in five groups, against
a baseline of every capture; nothing is measured. Each timing is one whole ``merge`` process,
interpreter start and imports included, best of ``--rounds``; ``--update-baseline`` is timed
too.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from pytest_oscura.aggregate import parse_gate
from pytest_oscura.controller import Controller
from pytest_oscura.finish import update_baseline_entries, write_baseline
from pytest_oscura.measurements import DEFAULT_MEASUREMENTS
from pytest_oscura.records import RECORD_PROPERTY, SOURCE_PROPERTY, CaptureRecord
from pytest_oscura.shards import Shard, shard_of
from pytest_oscura.suite import CaptureRoot


def _path(index: int) -> str:
    return f"group{index % 5}/cap_{index:05d}.npy"


def balanced_indices(shards: int, per_shard: int) -> list[int]:
    """Capture numbers in order until every shard has ``per_shard`` files (by the real hash)."""
    counts = dict.fromkeys(range(1, shards + 1), 0)
    chosen: list[int] = []
    index = 0
    while min(counts.values()) < per_shard:
        shard = shard_of(_path(index), shards)
        if counts[shard] < per_shard:
            counts[shard] += 1
            chosen.append(index)
        index += 1
    return chosen


def synthetic_records(indices: list[int], seed: int = 0) -> list[CaptureRecord]:
    """Single-channel captures in five groups, with every default measurement."""
    rng = np.random.default_rng(seed)
    records = []
    for index in indices:
        key = f"{_path(index)}::CH1"
        values: dict[str, float | None] = {
            name: float(1.0 + (k % 5) + 0.01 * rng.standard_normal())
            for k, name in enumerate(DEFAULT_MEASUREMENTS)
        }
        records.append(
            CaptureRecord(
                key, "caps", f"group{index % 5}", "CH1", "V", values, nodeid=f"caps/{key}"
            )
        )
    return records


def write_shard_reports(folder: Path, shards: int, per_shard: int) -> list[Path]:
    caps = folder / "caps"
    caps.mkdir(parents=True)
    (caps / "oscura.toml").write_text("[defaults]\nsample_rate_hz = 1e6\n")
    records = synthetic_records(balanced_indices(shards, per_shard))
    baseline = update_baseline_entries(None, records, [], whole_suite=True)
    write_baseline(caps / "oscura-baseline.json", baseline)
    tonight = [
        replace(
            r, measurements={k: None if v is None else 1.001 * v for k, v in r.measurements.items()}
        )
        for r in records
    ]
    paths = []
    for index in range(1, shards + 1):
        shard = Shard(index, shards)
        path = folder / f"shard-{index}.json"
        root = CaptureRoot.open(caps, "caps", None)
        controller = Controller([root], False, path, folder, gate=parse_gate("drift"), shard=shard)
        for record in tonight:
            if shard.holds_key(record.key):
                text = json.dumps(record.to_dict())
                controller.on_report(record.nodeid, "setup", "passed", [(SOURCE_PROPERTY, "m")])
                controller.on_report(record.nodeid, "call", "passed", [(RECORD_PROPERTY, text)])
        controller.finish(stopped=None, whole_suite=True)
        paths.append(path)
    return paths


def time_merge(folder: Path, reports: list[Path], rounds: int, *extra: str) -> float:
    command = [sys.executable, "-m", "pytest_oscura", "merge", *map(str, reports)]
    command += ["--report", str(folder / "merged.json"), *extra]
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
        best = min(best, time.perf_counter() - start)
        if done.returncode not in (0, 1):
            raise SystemExit(f"merge failed: {done.stderr.strip()}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shards", type=int, nargs="?", default=3)
    parser.add_argument("per_shard", type=int, nargs="?", default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oscura-merge-") as name:
        folder = Path(name)
        reports = write_shard_reports(folder, args.shards, args.per_shard)
        size = sum(path.stat().st_size for path in reports) / 2**20
        seconds = time_merge(folder, reports, args.rounds)
        update = time_merge(folder, reports, 1, "--update-baseline")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import pytest_oscura.__main__"], check=True)
        startup = time.perf_counter() - start
        print(
            f"{args.shards} shard reports x {args.per_shard} captures ({size:.1f} MiB of JSON, "
            f"{len(DEFAULT_MEASUREMENTS)} measurements each): merge {seconds:.2f} s, "
            f"with --update-baseline {update:.2f} s (of which interpreter start and imports "
            f"{startup:.2f} s included)"
        )


if __name__ == "__main__":
    main()
