"""Print the engine's answers on the real-world probes of issue 11 next to the right answers.

Run: ``python -m benchmarks.probe_table``. Every probe is an analytic signal at 1 MS/s with a
known answer (non-coherent sampling unless stated); "not applicable" is printed as ``n/a`` with
its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy

from pytest_oscura.measurements import measure_detailed

Array = numpy.ndarray[Any, numpy.dtype[numpy.float64]]
FS = 1e6
N = 1 << 18
#: Non-coherent: a fractional number of cycles in the record.
CYCLES = 2345.678


def _sine(n: int = N, cycles: float = CYCLES, phase: float = 0.3) -> Array:
    return numpy.sin(2 * numpy.pi * cycles * numpy.arange(n) / n + phase)


def _quantized(bits: int, n: int = N, cycles: float = CYCLES) -> Array:
    codes = 2**bits
    x = _sine(n, cycles)
    return numpy.asarray(numpy.clip(numpy.round((x + 1) / 2 * codes - 0.5), 0, codes - 1))


def _harmonic(dbc: float) -> Array:
    t = numpy.arange(N) / N
    return _sine() + 10 ** (dbc / 20) * numpy.sin(2 * numpy.pi * 3 * CYCLES * t + 1.0)


def _trapezoid(n: int, period: float, high: float, edge: float) -> Array:
    t = numpy.arange(n) % period
    shape = numpy.interp(t, [0, edge, edge + high, 2 * edge + high, period], [0, 1, 1, 0, 0])
    return numpy.asarray(shape, numpy.float64)


def _glitched_clock() -> Array:
    x = _trapezoid(100_000, 1000.0, 480.0, 20.0)  # 10-90 % rise 16 samples = 16 us
    x[50_250] = 2.5  # on a top plateau: crosses no reference level
    return x


def _noisy_square() -> Array:
    rng = numpy.random.default_rng(3)
    x = numpy.where(numpy.arange(N) % 1000 < 250, 1.0, 0.0)
    return x + rng.normal(0.0, 0.35, N)


def _noisy_slow_clock() -> Array:
    rng = numpy.random.default_rng(6)
    return _trapezoid(N, 1000.0, 450.0, 50.0) + rng.normal(0.0, 0.1, N)


def _buried_sine() -> Array:
    rng = numpy.random.default_rng(4)
    return _sine() + rng.normal(0.0, numpy.sqrt(0.5), N)


def _chirp() -> Array:
    t = numpy.arange(N) / FS
    duration = N / FS
    return numpy.sin(2 * numpy.pi * (1e3 * t + 1e3 * t * t / duration))


def _noise() -> Array:
    return numpy.random.default_rng(5).normal(0.0, 1.0, N)


def _two_tones() -> Array:
    return _sine() + _sine(cycles=CYCLES * 1.37, phase=1.1)


PROBES: list[tuple[str, Callable[[], Array], list[str], str]] = [
    ("ideal 14-bit quantised sine", lambda: _quantized(14), ["enob"], "enob 14.0"),
    ("ideal 16-bit quantised sine", lambda: _quantized(16), ["enob", "snr"], "16.0, 98.1 dB"),
    ("noise-free sine", _sine, ["snr"], "snr >> 100 dB"),
    *(
        (f"{b}-bit quantised sine SFDR", lambda b=b: _quantized(b), ["sfdr"], "> 100 at 14-16")
        for b in (12, 14, 16)
    ),
    ("sine + 3rd harmonic at -110 dBc", lambda: _harmonic(-110.0), ["sfdr", "thd"], "110, -110"),
    ("sine at 0 dB SNR", _buried_sine, ["frequency", "duty_cycle", "pulse_width"], "duty 0.5"),
    ("square duty 0.25, sigma 0.35 A", _noisy_square, ["frequency", "duty_cycle"], "duty 0.25"),
    (
        "trapezoid clock + 2.5x glitch",
        _glitched_clock,
        ["top", "base", "duty_cycle", "rise_time"],
        "1, 0, 0.5, 16 us",
    ),
    (
        "clock, 50-sample edges, sigma 0.1 A",
        _noisy_slow_clock,
        ["duty_cycle", "rise_time"],
        "0.5, 40 us or n/a",
    ),
    ("linear chirp 1 -> 3 kHz", _chirp, ["snr", "enob", "sfdr"], "n/a"),
    ("white noise", _noise, ["snr", "thd"], "n/a"),
    ("two equal tones", _two_tones, ["sinad", "sfdr"], "n/a"),
]


def _show(value: float | None, reason: str | None) -> str:
    if value is None:
        return f"n/a ({reason})"
    return f"{value:.6g}"


def main() -> None:
    for label, make, names, truth in PROBES:
        result = measure_detailed(make(), FS, names)
        got = ", ".join(
            f"{name} {_show(result.values[name], result.not_applicable.get(name))}"
            for name in names
        )
        print(f"{label:36} | right: {truth:18} | we say: {got}")


if __name__ == "__main__":
    main()
