#!/usr/bin/env python3
"""Regenerate the example suite's captures and baselines, deterministically.

    .venv/bin/python example_suite/generate.py

Writes ``captures/`` (tonight's batch, all passing) and ``regression/`` (a few captures that
drifted, to show what a failing night looks like), each with its ``oscura.toml`` and a baseline
recorded by the plugin itself from the undrifted signals. Fixed seeds and SOURCE_DATE_EPOCH make
every byte reproducible, so a regenerated suite shows no diff.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

HERE = Path(__file__).resolve().parent
SOURCE_DATE_EPOCH = "1795824000"  # 2026-11-28, the suite's recording date

CONFIG = """\
# Suite config of the example regression suite: what is measured, how much it may move.
[defaults]
tolerance = { rel = 0.005 }      # 0.5 % unless a measurement says otherwise below

[tolerances]
mean = { abs = 0.005 }           # 5 mV: a mean near 0 V has no meaningful relative tolerance
ac_rms = { abs = 0.002, rel = 0.02 }
min = { abs = 0.02 }
max = { abs = 0.02 }
base = { abs = 0.01 }            # levels near 0 V: absolute
overshoot = { abs = 0.5 }        # percentage points
undershoot = { abs = 0.5 }
duty_cycle = { abs = 0.005 }
rise_time = { rel = 0.05 }
fall_time = { rel = 0.05 }
thd = { abs = 1.0 }              # dB
snr = { abs = 1.0 }
sinad = { abs = 1.0 }
sfdr = { abs = 2.0 }
enob = { abs = 0.2 }             # bits

[[rules]]
match = "clocks/*"
group = "clocks"
measurements = ["pulse"]
limits = { vpp = { min = 3.0, max = 3.6 } }

[[rules]]
match = "rails/*"
group = "rails"
measurements = ["rail"]
sample_rate_hz = 100e3           # the rail CSVs carry no time column

[[rules]]
match = "rails/vref*"             # a reference, not a supply: its own population
group = "references"

[[rules]]
match = "rails/vdd_core_*"
limits = { mean = { min = 1.15, max = 1.25 } }

[[rules]]
match = "adc/*"
group = "adc"
measurements = ["adc"]
full_scale = 1.0                 # the WAV codes span ±1 V at the ADC input
units = "V"
"""

Array = npt.NDArray[np.float64]


def square(
    t: Array, frequency_hz: float, duty: float, low: float, high: float, edge_s: float
) -> Array:
    """A trapezoidal clock: linear edges of ``edge_s`` (10 %–90 % ≈ 0.8·edge_s)."""
    phase = (t * frequency_hz) % 1.0
    period_s = 1.0 / frequency_hz
    ramp = edge_s / period_s
    rising = np.clip(phase / ramp, 0.0, 1.0)
    falling = np.clip((phase - duty) / ramp, 0.0, 1.0)
    level = np.where(phase < duty, rising, 1.0 - falling)
    return low + (high - low) * level


def write_clocks(folder: Path, rng: np.random.Generator, drift: dict[int, float]) -> None:
    rate_hz = 1e6
    t = np.arange(8192) / rate_hz
    for index in range(8):
        duty = 0.5 + drift.get(index, 0.0)
        clock = square(t, 10e3 + 10 * index, duty, 0.0, 3.3, 2e-6)
        data = square(t, 2.5e3, 0.5, 0.0, 3.3, 4e-6)
        noise = rng.normal(0.0, 0.01, size=(2, t.size))
        samples = (np.vstack([clock, data]) + noise).astype(np.float32)
        np.savez(
            folder / f"clk_{index:02d}.npz",
            samples=samples,
            sample_rate_hz=np.float64(rate_hz),
            channels=np.array(["CLK", "DATA"]),
            units=np.array("V"),
        )


def write_rails(folder: Path, rng: np.random.Generator, drift: dict[str, float]) -> None:
    nominal = {"vdd_core_a": 1.2, "vdd_core_b": 1.2, "vdd_io": 3.3, "vdd_ddr": 1.35, "vbat": 3.7}
    t = np.arange(1000) / 100e3
    for name, volts in nominal.items():
        level = volts * (1.0 + drift.get(name, 0.0))
        ripple = 0.004 * np.sin(2 * np.pi * 2e3 * t) + rng.normal(0.0, 0.001, t.size)
        lines = [
            f"# example rail capture {name}: 100 kS/s, exported without a time column",
            "VOUT",
            "Volt",
        ]
        lines += [f"{v:.5f}" for v in level + ripple]
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_adc(folder: Path, rng: np.random.Generator, drift: dict[int, float]) -> None:
    rate_hz = 48_000
    t = np.arange(4096) / rate_hz
    for index in range(6):
        amplitude = 0.8 * (1.0 + drift.get(index, 0.0))
        tone = amplitude * np.sin(2 * np.pi * (997.0 + 100 * index) * t + 0.1 * index)
        tone += rng.normal(0.0, 1e-3, t.size)
        codes = np.round(tone * 32767).astype("<i2")
        with wave.open(str(folder / f"sine_{index:02d}.wav"), "wb") as stream:
            stream.setnchannels(1)
            stream.setsampwidth(2)
            stream.setframerate(rate_hz)
            stream.writeframes(codes.tobytes())


def write_suite(
    root: Path,
    clock_drift: dict[int, float],
    rail_drift: dict[str, float],
    adc_drift: dict[int, float],
) -> None:
    rng = np.random.default_rng(20261128)
    for group in ("clocks", "rails", "adc"):
        (root / group).mkdir(parents=True, exist_ok=True)
    (root / "oscura.toml").write_text(CONFIG, encoding="utf-8")
    write_clocks(root / "clocks", rng, clock_drift)
    write_rails(root / "rails", rng, rail_drift)
    write_adc(root / "adc", rng, adc_drift)
    # One capture whose sample rate comes from a sidecar, as a scope-less export would need.
    np.save(root / "rails" / "vref.npy", (2.5 + rng.normal(0.0, 5e-4, 2000)).astype(np.float64))
    sidecar = {"sample_rate_hz": 50e3, "channels": ["VREF"], "units": "V"}
    (root / "rails" / "vref.npy.json").write_text(
        json.dumps(sidecar, indent=2) + "\n", encoding="utf-8"
    )


def record_baseline(root: Path) -> None:
    env = dict(os.environ, SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--oscura-captures",
        str(root),
        "--oscura-update-baseline",
    ]
    subprocess.run(command, cwd=HERE.parent, env=env, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    for name in ("captures", "regression"):
        shutil.rmtree(HERE / name, ignore_errors=True)
    write_suite(HERE / "captures", {}, {}, {})
    record_baseline(HERE / "captures")
    # The regression set: the same suite recorded clean, then a few captures drift.
    regression = HERE / "regression"
    write_suite(regression, {}, {}, {})
    record_baseline(regression)
    write_suite(
        regression, clock_drift={3: 0.04}, rail_drift={"vdd_core_b": 0.05}, adc_drift={2: -0.06}
    )
    print(f"wrote {HERE / 'captures'} and {regression}")


if __name__ == "__main__":
    main()
