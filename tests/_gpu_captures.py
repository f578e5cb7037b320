"""Captures for the GPU code path: every kind of signal the default set treats differently, in
equal lengths (so they stack), and a namespace that stands in for CuPy on the CPU."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import numpy as np

from pytest_oscura.captures import LoadSettings
from pytest_oscura.jobs import FileJob, ItemSpec, run_job
from pytest_oscura.measurements import DEFAULT_MEASUREMENTS, PROFILES

RATE_HZ = 1e6


def _trapezoid(n: int, period: float, edge: float) -> Any:
    t = np.arange(n) % period
    return np.interp(t, [0, edge, period / 2, period / 2 + edge, period], [0, 3.3, 3.3, 0, 0])


def signals(n: int, seed: int = 7) -> dict[str, Any]:
    """Float64 captures of ``n`` samples: pulses (one-sample and wide edges, a glitch far
    away, noise), tones (clean, noisy, quantised), noise, a constant and a ramp."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    square = np.where(t % 1000 < 300, 3.3, 0.0)
    glitched = square + rng.normal(0, 0.01, n)
    glitched[n // 3] = 1e4  # outside the waveform: the histogram needs a second pass
    return {
        "square": square,
        "trapezoid": _trapezoid(n, 997.3, 25.0) + rng.normal(0, 0.005, n),
        "glitched": glitched,
        "noisy_square": square + rng.normal(0, 0.8, n),
        "sine": np.sin(2 * np.pi * 1234.5 * t / RATE_HZ) + rng.normal(0, 1e-3, n),
        "quantized": np.round(2047 * np.sin(2 * np.pi * 3071.7 * t / RATE_HZ)) / 2048,
        "noise": rng.normal(0, 1.0, n),
        "constant": np.full(n, 1.25),
        "ramp": t / n,
    }


def write_captures(folder: Path, n: int) -> list[FileJob]:
    """Every signal of :func:`signals` as ``.npy``, two logic channels in one ``.npy`` of
    bools, an int16 ``.npy`` and a stereo 16-bit ``.wav`` (integers, scaled on the device); one
    job per file measuring the default set (``logic`` for the logic file)."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = LoadSettings(sample_rate_hz=RATE_HZ)
    analog = (ItemSpec("CH1", 0, None, DEFAULT_MEASUREMENTS),)
    jobs = []
    for name, samples in signals(n).items():
        path = folder / f"{name}.npy"
        np.save(path, samples)
        jobs.append(FileJob(str(path), path.name, settings, analog))
    t = np.arange(n)
    logic = folder / "logic.npy"
    np.save(logic, np.vstack([t % 40 < 13, t % 1000 < 500]))
    logic_items = tuple(ItemSpec(f"CH{i + 1}", i, None, PROFILES["logic"]) for i in range(2))
    jobs.append(FileJob(str(logic), logic.name, settings, logic_items))
    codes = np.round(12000 * np.sin(2 * np.pi * 2001.3 * t / RATE_HZ)).astype(np.int16)
    ints = folder / "codes.npy"
    np.save(ints, codes)
    jobs.append(FileJob(str(ints), ints.name, settings, analog))
    pcm = folder / "stereo.wav"
    with wave.open(str(pcm), "wb") as stream:
        stream.setnchannels(2)
        stream.setsampwidth(2)
        stream.setframerate(int(RATE_HZ))
        stream.writeframes(np.column_stack([codes, codes // 3]).astype("<i2").tobytes())
    both = tuple(ItemSpec(f"CH{i + 1}", i, None, DEFAULT_MEASUREMENTS) for i in range(2))
    jobs.append(FileJob(str(pcm), pcm.name, settings, both))
    return jobs


def serial_results(jobs: list[FileJob]) -> dict[str, Any]:
    return {job.path: run_job(job) for job in jobs}


class DeviceArray(np.ndarray):
    """An array "on the device" of :class:`FakeCupy`; reading one of its values as a Python
    number is a synchronising copy, counted in :attr:`FakeCupy.scalar_reads`."""

    namespace: FakeCupy | None = None

    def _read(self) -> None:
        if DeviceArray.namespace is not None:
            DeviceArray.namespace.scalar_reads += 1

    def __float__(self) -> float:
        self._read()
        return float(np.asarray(self).view(np.ndarray))

    def __int__(self) -> int:
        self._read()
        return int(np.asarray(self).view(np.ndarray))

    def __bool__(self) -> bool:
        self._read()
        return bool(np.asarray(self).view(np.ndarray))


def _on_device(value: Any) -> Any:
    if isinstance(value, np.ndarray) and not isinstance(value, DeviceArray):
        return value.view(DeviceArray)
    if isinstance(value, tuple):
        return tuple(_on_device(v) for v in value)
    return value


class _Wrapped:
    """A numpy function or module whose array results are :class:`DeviceArray`."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _on_device(self.target(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return _wrap(getattr(self.target, name))


def _wrap(found: Any) -> Any:
    """Functions and modules wrapped; types (``float64``) and constants as they are."""
    if isinstance(found, type) or not (callable(found) or hasattr(found, "__name__")):
        return found
    return _Wrapped(found)


class FakeCupy:
    """numpy standing in for CuPy: every array it makes is a :class:`DeviceArray`; ``asarray``
    of anything else (a host array, a list) is a copy to the device and ``asnumpy`` one back,
    recorded as (shape, dtype) in :attr:`uploads` and :attr:`downloads`."""

    def __init__(self) -> None:
        self.uploads: list[tuple[tuple[int, ...], str]] = []
        self.downloads: list[tuple[tuple[int, ...], str]] = []
        self.scalar_reads = 0
        DeviceArray.namespace = self

    def __getattr__(self, name: str) -> Any:
        return _wrap(getattr(np, name))

    def asarray(self, array: Any, dtype: Any = None) -> Any:
        if not isinstance(array, DeviceArray):
            found = np.asarray(array)
            self.uploads.append((found.shape, found.dtype.str))
        return np.asarray(array, dtype=dtype).view(DeviceArray)

    def array(self, array: Any, dtype: Any = None) -> Any:
        if not isinstance(array, DeviceArray):
            found = np.asarray(array)
            self.uploads.append((found.shape, found.dtype.str))
        return np.array(array, dtype=dtype).view(DeviceArray)

    def asnumpy(self, array: Any) -> Any:
        self.downloads.append((array.shape, array.dtype.str))
        return np.asarray(array).view(np.ndarray)
