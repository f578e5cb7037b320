"""Print the cost of the full default measurement set relative to one ``scipy.fft.rfft``.

Run: ``python -m benchmarks.engine_ratio [size] [repeats]``. Both are timed in this process,
interleaved, and the best of ``repeats`` is kept for each, which is robust to other load on the
machine. MEASUREMENTS.md's speed target on 1,000,000 samples: a ratio of at most 3 on a square
and 3.5 on a non-coherent sine. The other captures show the paths that only some signals take
(levels re-binned around a far glitch; noise-made edges and the spectral frequency fallback),
which must stay in the same budget.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial

import scipy.fft

from benchmarks._signals import SAMPLE_RATE_HZ, Array, buried_square, glitched_square, sine, square
from pytest_oscura.measurements import DEFAULT_MEASUREMENTS, measure

#: (name, capture, budget as a multiple of one rfft)
CAPTURES: tuple[tuple[str, Callable[[int], Array], float], ...] = (
    ("square", square, 3.0),
    ("sine", sine, 3.5),
    ("glitch", glitched_square, 3.0),
    ("buried", buried_square, 3.0),
)


def best_of(repeats: int, *functions: Callable[[], object]) -> list[float]:
    """Best wall time in seconds of each function, calls interleaved."""
    best = [float("inf")] * len(functions)
    for function in functions:
        function()  # warm up (window cache, allocator)
    for _ in range(repeats):
        for i, function in enumerate(functions):
            start = time.perf_counter()
            function()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    for name, make, budget in CAPTURES:
        samples = make(size)
        fft, full = best_of(
            repeats,
            partial(scipy.fft.rfft, samples),
            partial(measure, samples, SAMPLE_RATE_HZ, DEFAULT_MEASUREMENTS),
        )
        ratio = full / fft
        print(
            f"{name:6} {size:>9} samples: rfft {fft * 1e3:7.2f} ms, "
            f"full default set ({len(DEFAULT_MEASUREMENTS)}) {full * 1e3:7.2f} ms, "
            f"ratio {ratio:.2f} (budget {budget:.1f}{'' if ratio <= budget else ', OVER'})"
        )


if __name__ == "__main__":
    main()
