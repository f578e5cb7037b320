"""Peak memory of a run through the plugin, per strategy, for a small and a large batch.

    python -m benchmarks.peak_memory                       # 50 and 500 captures × 1M samples
    python -m benchmarks.peak_memory --captures 50 500 --samples 200000

Each run is a fresh ``pytest -p no:xdist --oscura-captures DIR --oscura-strategy S`` on noisy
square-wave ``.npy`` captures (``benchmarks.dataset``, 8 bytes a sample). While it runs, the
script samples every 20 ms the memory of the whole process tree (pytest, its pool workers, the
fork server) from ``/proc`` (Linux): the proportional set size (PSS: a page shared by several
processes counts once in total), and the resident set of the pytest process alone. The peaks are
printed per strategy and batch size; flat in the number of captures means a bounded window of
files in flight. ``gpu*`` is the GPU strategy's host side with numpy standing in for the device
(a conftest patches the probe), since this needs no GPU: on a GPU the device memory comes on top.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.dataset import write_dataset

REPO = Path(__file__).resolve().parent.parent
STRATEGIES = ("serial", "thread", "process", "gpu*")
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
NUMPY_DEVICE = """
import os

if os.environ.get("OSCURA_NUMPY_DEVICE"):
    import numpy
    import pytest_oscura.strategies.batch as batch

    batch.probe_gpu = lambda: (numpy, "numpy standing in for a CUDA device")
"""


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stream:
                fields = stream.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as stream:
            for line in stream:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return _rss_kib(pid)


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as stream:
            return int(stream.read().split()[1]) * PAGE // 1024
    except OSError:
        return 0


class Sampler(threading.Thread):
    """Peak PSS of the tree under ``pid`` and peak RSS of ``pid`` itself, in KiB."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.tree_peak = 0
        self.main_peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            tree = _children()
            pids, stack = [], [self.pid]
            while stack:
                pid = stack.pop()
                pids.append(pid)
                stack.extend(tree.get(pid, ()))
            self.tree_peak = max(self.tree_peak, sum(_pss_kib(pid) for pid in pids))
            self.main_peak = max(self.main_peak, _rss_kib(self.pid))
            time.sleep(0.02)


def peak(folder: Path, strategy: str) -> tuple[int, int, float]:
    """(tree PSS peak, pytest RSS peak) in MiB and the wall seconds of one run."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    name = strategy.rstrip("*")
    if strategy.endswith("*"):
        env["OSCURA_NUMPY_DEVICE"] = "1"
    command = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider"]
    command += ["-p", "no:hypothesispytest", "-p", "no:benchmark", "-q"]
    command += ["--oscura-progress", "off", "--oscura-captures", str(folder.name)]
    command += ["--oscura-strategy", name]
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=folder.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    sampler = Sampler(process.pid)
    sampler.start()
    out, _ = process.communicate()
    seconds = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{strategy} exited {process.returncode}:\n{out.decode()[-3000:]}")
    return sampler.tree_peak // 1024, sampler.main_peak // 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES))
    args = parser.parse_args()
    if not os.path.isdir("/proc"):
        raise SystemExit("needs /proc (Linux)")
    peaks: dict[tuple[str, int], tuple[int, int, float]] = {}
    with tempfile.TemporaryDirectory(prefix="oscura-memory-") as tmp:
        (Path(tmp) / "conftest.py").write_text(NUMPY_DEVICE)
        for captures in args.captures:
            folder = Path(tmp) / f"caps_{captures}"
            write_dataset(folder, captures, args.samples)
            record = ["--oscura-captures", folder.name, "--oscura-update-baseline"]
            subprocess.run(  # the baseline, so that every item passes
                [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", *record],
                cwd=tmp,
                env={**os.environ, "PYTHONPATH": str(REPO)},
                capture_output=True,
                check=True,
            )
            for strategy in args.strategies:
                peaks[strategy, captures] = peak(folder, strategy)
            for path in folder.glob("*.npy"):
                path.unlink()  # keep the disk use to one batch
    mib = args.samples * 8 / 2**20
    print(f"peak memory through the plugin, captures of {args.samples:,} samples ({mib:.1f} MiB)")
    header = f"{'strategy':<10}" + "".join(f"{f'{c} captures':>30}" for c in args.captures)
    print(header)
    print(f"{'':<10}" + "".join(f"{'tree PSS / pytest RSS / wall':>30}" for _ in args.captures))
    for strategy in args.strategies:
        cells = "".join(
            f"{f'{t} / {m} MiB / {s:.1f} s':>30}"
            for t, m, s in (peaks[strategy, c] for c in args.captures)
        )
        print(f"{strategy:<10}{cells}")


if __name__ == "__main__":
    main()
