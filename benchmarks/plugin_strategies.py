"""Each strategy measured through the plugin: the README's strategy table and the auto calibration.

    python -m benchmarks.plugin_strategies          # 24 and 100 captures × 1M, 50 × 100,000
    python -m benchmarks.plugin_strategies --batches 24x1000000 200x1000000 --rounds 3 \
        --quiet 0.9 --json out.json

For every batch (captures × samples per capture) it writes noisy square-wave ``.npy``
captures (``benchmarks.dataset``), records their baseline once, then times fresh ``pytest``
processes (other plugins off, no xdist) with the default measurement set::

    pytest -p no:xdist --oscura-captures DIR --oscura-strategy S --oscura-workers N

for S in serial, thread, process and auto, and a ``--collect-only`` run. The rounds interleave
the strategies (round robin), each figure is the best of the rounds, and a strategy's time is
net of the best ``--collect-only`` run (interpreter, pytest and collection): what measuring
costs through the plugin. Speed-up is serial's net time over the strategy's. The CPU seconds
of each best run (the pytest process, its pool workers and fork server) are printed beside
it. On a shared machine, ``--quiet 0.9`` waits before each run until the CPUs were 90 % idle.
Every run is preceded by reading the batch's files (page cache warm). The last column,
"ceiling", is no strategy: ``N`` plain processes each measuring a share of the batch in a loop
at once, against one doing it all (no pytest): the speed-up the machine's CPUs and memory
allow this workload at all.

The last lines fit ``net time = start-up + seconds per byte × bytes`` per strategy over the
batches and print the ``auto`` constants that follow (``strategies/choice.py``:
``DEFAULT_SECONDS_PER_BYTE``, ``THREAD_MIN_SECONDS``, ``PROCESS_MIN_SECONDS``): where threads
start to beat serial and processes start to beat threads, in estimated serial seconds. Copy
them there to recalibrate ``auto`` for a machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.dataset import write_dataset

REPO = Path(__file__).resolve().parent.parent
STRATEGIES = ("serial", "thread", "process", "auto")
COLLECT = "collect-only"
# Other installed plugins off (hypothesis alone adds about 1 s at session end).
PLUGINS_OFF = (
    *("-p", "no:xdist", "-p", "no:cacheprovider"),
    *("-p", "no:hypothesispytest", "-p", "no:benchmark"),
)
_PR_SET_CHILD_SUBREAPER = 36


@dataclass
class Timing:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    idle: list[float] = field(default_factory=list)  # the machine's idle share before each run
    chose: str = ""

    @property
    def best(self) -> float:
        return min(self.wall)

    @property
    def best_cpu(self) -> float:
        return self.cpu[self.wall.index(self.best)]


#: The checkout whose pytest_oscura is measured (``--code``): this one by default.
CODE = [REPO]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(CODE[0]), str(REPO), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    return env


def adopt_orphans() -> None:
    """Become the reaper of orphaned descendants (Linux), so that the CPU time of a pool's fork
    server, which outlives pytest by a moment, is counted in ``RUSAGE_CHILDREN`` too."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _reap() -> None:
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _idle_fraction(seconds: float = 2.0) -> float:
    """Share of CPU time the whole machine spent idle over the next ``seconds`` (Linux)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stream:
            fields = [int(v) for v in stream.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, total

    idle0, total0 = sample()
    time.sleep(seconds)
    idle1, total1 = sample()
    return (idle1 - idle0) / max(1, total1 - total0)


def wait_for_quiet(idle: float | None, patience_s: float = 300.0) -> float:
    """Wait (at most ``patience_s``) until the CPUs were at least ``idle`` idle over 2 s; the
    idle share last seen (1.0 without a wait)."""
    if idle is None or not os.path.exists("/proc/stat"):
        return 1.0
    deadline = time.monotonic() + patience_s
    seen = _idle_fraction()
    while seen < idle and time.monotonic() < deadline:
        seen = _idle_fraction()
    return seen


def run_pytest(folder: Path, *args: str) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (the whole process tree) and stdout of one pytest run."""
    command = [sys.executable, "-m", "pytest", *PLUGINS_OFF, "-q", "--oscura-progress", "off"]
    command += ["--oscura-captures", str(folder), *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=folder.parent, env=_env(), capture_output=True, text=True)
    wall = time.perf_counter() - start
    _reap()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"pytest {' '.join(args)} exited {done.returncode}:\n{done.stdout}")
    return wall, cpu, done.stdout


LOOP = """
import sys, time
from pathlib import Path
from pytest_oscura.jobs import run_job
from benchmarks.dataset import jobs_for
try:
    from pytest_oscura.strategies.worker import tune_allocator
    tune_allocator()
except ImportError:  # a checkout (--code) from before the allocator tuning
    pass
jobs = jobs_for([Path(p) for p in sys.argv[2:]])
start_at = float(sys.argv[1])
while time.time() < start_at:  # every process starts measuring at the same moment
    time.sleep(0.001)
for job in jobs:
    run_job(job)
print(time.time() - start_at)
"""


def read_files(folder: Path) -> None:
    """Read every capture once, so that each run finds them in the page cache (a machine that
    pages out cold files between runs would otherwise time its disk)."""
    for path in folder.glob("*.npy"):
        path.read_bytes()


def ceiling(folder: Path, rounds: int, workers: int, quiet: float | None) -> tuple[float, float]:
    """Seconds for one process to measure every capture (``run_job`` in a loop, no pytest,
    imports not counted) and for ``workers`` such processes each measuring its share, started
    at the same moment: what the machine's CPUs and memory allow, the best any strategy can
    do."""
    paths = sorted(str(p) for p in folder.glob("*.npy"))
    alone = together = float("inf")
    for _ in range(rounds):
        for shares in ([paths], [paths[k::workers] for k in range(workers)]):
            wait_for_quiet(quiet)
            read_files(folder)
            start_at = str(time.time() + 2.0)  # after the imports
            running = [
                subprocess.Popen(
                    [sys.executable, "-c", LOOP, start_at, *share],
                    env=_env(),
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for share in shares
            ]
            ends = [process.communicate()[0] for process in running]
            if any(process.returncode for process in running):
                raise SystemExit("the measuring loop failed")
            seconds = max(float(end) for end in ends)
            if len(shares) == 1:
                alone = min(alone, seconds)
            else:
                together = min(together, seconds)
    return alone, together


def measure_batch(
    folder: Path, rounds: int, workers: int, quiet: float | None = None
) -> dict[str, Timing]:
    """Every strategy and ``--collect-only`` on ``folder``, ``rounds`` times, round robin."""
    timings = {name: Timing() for name in (COLLECT, *STRATEGIES)}
    for _ in range(rounds):
        for name in (COLLECT, *STRATEGIES):
            timings[name].idle.append(wait_for_quiet(quiet))
            read_files(folder)
            args = ["--collect-only"] if name == COLLECT else ["--oscura-strategy", name]
            if name != COLLECT:
                args += ["--oscura-workers", str(workers)]
            wall, cpu, out = run_pytest(folder, *args)
            timings[name].wall.append(wall)
            timings[name].cpu.append(cpu)
            chose = re.search(r"oscura: measuring with ([a-z]+)", out)
            if chose:
                timings[name].chose = chose.group(1)
    return timings


Batch = tuple[int, int]  # captures, samples per capture


def parse_batch(text: str) -> Batch:
    captures, _, samples = text.lower().partition("x")
    try:
        return int(captures), int(samples)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected CAPTURESxSAMPLES") from None


def table(
    results: dict[Batch, dict[str, Timing]], ceilings: dict[Batch, tuple[float, float]]
) -> list[str]:
    header = f"{'batch':<22}" + "".join(f"{name:>16}" for name in STRATEGIES)
    header += f"{'ceiling':>16}"
    lines = [header]
    for (captures, samples), timings in results.items():
        alone, together = ceilings[captures, samples]
        collect = timings[COLLECT].best
        serial = timings["serial"].best - collect
        cells = []
        for name in STRATEGIES:
            net = timings[name].best - collect
            cells.append(f"{serial / net:>6.2f}x {net:>5.2f}s")
        cells.append(f"{alone / together:>6.2f}x {together:>5.2f}s")
        lines.append(f"{f'{captures} x {samples:,}':<22}" + "".join(f"{c:>16}" for c in cells))
        cpu = "".join(f"{f'cpu {timings[n].best_cpu:.2f}s':>16}" for n in STRATEGIES)
        lines.append(f"{f'  collect {collect:.2f}s':<22}" + cpu)
        lines.append(f"{'  auto chose':<22}{timings['auto'].chose:>16}")
    return lines


def fit(results: dict[Batch, dict[str, Timing]]) -> list[str]:
    """Least-squares ``net = a + b · bytes`` per strategy and the auto thresholds it implies."""
    if len(results) < 2:
        return ["(give two or more --batches to fit the auto thresholds)"]
    model: dict[str, tuple[float, float]] = {}
    for name in ("serial", "thread", "process"):
        xs = [captures * (8 * samples + 128) for captures, samples in results]
        ys = [t[name].best - t[COLLECT].best for t in results.values()]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
            (x - mx) ** 2 for x in xs
        )
        model[name] = (my - slope * mx, slope)
    lines = ["fit: net seconds = start-up + seconds-per-byte x bytes"]
    for name, (a, b) in model.items():
        lines.append(f"  {name:<8} start-up {a:+.3f} s, {b * 1e9:.2f} ns/byte")
    per_byte = model["serial"][1]
    lines.append(f"DEFAULT_SECONDS_PER_BYTE = {per_byte:.3g}  (serial cost of a binary capture)")

    def crossover(slow: str, fast: str) -> float | None:
        (a0, b0), (a1, b1) = model[slow], model[fast]
        if b1 >= b0:
            return None  # never catches up
        return max(0.0, (a1 - a0) / (b0 - b1)) * per_byte  # in serial seconds

    thread = crossover("serial", "thread")
    process = crossover("thread", "process")
    lines.append(
        f"THREAD_MIN_SECONDS  = {thread:.2f}" if thread is not None else "threads never pay"
    )
    lines.append(
        f"PROCESS_MIN_SECONDS = {process:.2f}"
        if process is not None
        else "processes never pass threads"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--batches",
        type=parse_batch,
        nargs="+",
        default=[(24, 1_000_000), (100, 1_000_000), (50, 100_000)],
        metavar="CAPTURESxSAMPLES",
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="also write the raw timings here")
    parser.add_argument(
        "--quiet",
        type=float,
        metavar="IDLE",
        help="before each run, wait (up to 5 min) until the CPUs were at least IDLE (0..1) idle "
        "over 2 s: a shared machine's quiet moments",
    )
    parser.add_argument(
        "--code",
        type=Path,
        default=REPO,
        help="a checkout whose pytest_oscura to measure (before/after comparisons)",
    )
    args = parser.parse_args()
    CODE[0] = args.code.resolve()
    adopt_orphans()
    results: dict[Batch, dict[str, Timing]] = {}
    ceilings: dict[Batch, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="oscura-plugin-bench-") as tmp:
        for captures, samples in args.batches:
            folder = Path(tmp) / f"caps_{captures}x{samples}"
            write_dataset(folder, captures, samples)
            run_pytest(folder, "--oscura-update-baseline", "--oscura-strategy", "serial")
            results[captures, samples] = measure_batch(
                folder, args.rounds, args.workers, args.quiet
            )
            ceilings[captures, samples] = ceiling(folder, args.rounds, args.workers, args.quiet)
            for path in folder.glob("*.npy"):
                path.unlink()  # one batch on disk at a time
    idle = [i for r in results.values() for t in r.values() for i in t.idle]
    print(
        f"{CODE[0]}: through the plugin, {args.workers} workers, {os.cpu_count()} CPUs, best of "
        f"{args.rounds}, net of --collect-only; CPUs idle before a run: "
        f"{min(idle):.0%}..{max(idle):.0%}"
    )
    print("\n".join(table(results, ceilings)))
    print("\n".join(fit(results)))
    if args.json:
        raw = {
            f"{c}x{n}": {
                name: {"wall": t.wall, "cpu": t.cpu, "idle": t.idle, "chose": t.chose}
                for name, t in r.items()
            }
            for (c, n), r in results.items()
        }
        args.json.write_text(json.dumps({"runs": raw}, indent=2))


if __name__ == "__main__":
    main()
