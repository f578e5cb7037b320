"""Print the cost of the full default measurement set relative to one ``scipy.fft.rfft``.

Run: ``python -m benchmarks.engine_ratio [size] [repeats] [wall|cpu]``. Both are timed in this
process, interleaved, and the best of ``repeats`` is kept for each, which is robust to other load
on the machine. ``cpu`` times with the process's CPU clock instead of the wall clock: on a
machine shared with other jobs the wall clock also counts the time the process waited for a
core (every numpy and pocketfft call here runs on one thread, so the CPU clock is the cost).

MEASUREMENTS.md's speed target on 1,000,000 samples: a ratio of at most 3 on a square and 3.5 on
a non-coherent sine. The other captures show the paths that only some signals take, held to the
square's budget: levels re-binned around a far glitch, and a square buried in noise, whose
hundreds of thousands of noise-made runs the edge scan walks (linear in the samples, but several
times the clean scan) before the frequency falls back to the spectrum. The buried square read
3-4x before the measurement changes of 0.2.0 too.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial

import scipy.fft

from benchmarks._signals import SAMPLE_RATE_HZ, Array, buried_square, glitched_square, sine, square
from pytest_oscura.measurements import DEFAULT_MEASUREMENTS, measure
from pytest_oscura.strategies.worker import tune_allocator

#: (name, capture, budget as a multiple of one rfft)
CAPTURES: tuple[tuple[str, Callable[[int], Array], float], ...] = (
    ("square", square, 3.0),
    ("sine", sine, 3.5),
    ("glitch", glitched_square, 3.0),
    ("buried", buried_square, 3.0),
)


def best_of(
    repeats: int, *functions: Callable[[], object], clock: Callable[[], float] = time.perf_counter
) -> list[float]:
    """Best time in seconds of each function on ``clock``, calls interleaved."""
    best = [float("inf")] * len(functions)
    for function in functions:
        function()  # warm up (window cache, allocator)
    for _ in range(repeats):
        for i, function in enumerate(functions):
            start = clock()
            function()
            best[i] = min(best[i], clock() - start)
    return best


def main() -> None:
    # As in every process the plugin measures in (strategies/worker.py): freed 8-16 MB blocks
    # are reused instead of faulted in afresh, which otherwise makes one rfft of 1M samples
    # take 10 or 21 ms depending on what the heap did before it (seen here, best of 30).
    tune_allocator()
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    clock = time.process_time if len(sys.argv) > 3 and sys.argv[3] == "cpu" else time.perf_counter
    for name, make, budget in CAPTURES:
        samples = make(size)
        fft, full = best_of(
            repeats,
            partial(scipy.fft.rfft, samples),
            partial(measure, samples, SAMPLE_RATE_HZ, DEFAULT_MEASUREMENTS),
            clock=clock,
        )
        ratio = full / fft
        print(
            f"{name:6} {size:>9} samples: rfft {fft * 1e3:7.2f} ms, "
            f"full default set ({len(DEFAULT_MEASUREMENTS)}) {full * 1e3:7.2f} ms, "
            f"ratio {ratio:.2f} (budget {budget:.1f}{'' if ratio <= budget else ', OVER'})"
        )


if __name__ == "__main__":
    main()
