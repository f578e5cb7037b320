"""A synthetic nightly batch for the HTML report's tests and benchmark, run without pytest.

:func:`write_suite` writes clocks (square waves), sines (12-bit, noisy) and rails (DC with
ripple) below a captures root; :func:`night` measures and judges every capture with the plugin's
own pure modules and hands the records to a :class:`~pytest_oscura.controller.Controller`, which
writes the baseline, the JSON report and the HTML page exactly as at the end of a real run.
:func:`break_captures` makes some captures fail (a duty cycle, a harmonic, a rail level) and can
shift every rail a little (a drift within the tolerance).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pytest_oscura.captures import LoadSettings
from pytest_oscura.compare import judge
from pytest_oscura.controller import Controller
from pytest_oscura.jobs import FileJob, ItemSpec, run_job
from pytest_oscura.measurements import DEFAULT_MEASUREMENTS
from pytest_oscura.records import RECORD_PROPERTY, CaptureRecord
from pytest_oscura.suite import CaptureRoot, captures_args

RATE = 1e6
CONFIG = """\
[defaults]
sample_rate_hz = 1e6
tolerance = { rel = 0.01 }

[tolerances]
mean = { abs = 0.005, rel = 0.002 }
base = { abs = 0.01 }
min = { abs = 0.02 }
overshoot = { abs = 0.5 }
undershoot = { abs = 0.5 }
duty_cycle = { abs = 0.005 }
thd = { abs = 1.0 }
snr = { abs = 1.0 }
sinad = { abs = 1.0 }
sfdr = { abs = 2.0 }
enob = { abs = 0.2 }

[[rules]]
match = "clocks/*"
group = "clocks"
measurements = ["pulse"]

[[rules]]
match = "sines/*"
group = "sines"
measurements = ["adc"]

[[rules]]
match = "rails/*"
group = "rails"
measurements = ["rail"]
"""
KINDS = ("clocks", "sines", "rails")


def _clock(rng: np.random.Generator, n: int, duty: float = 0.5) -> np.ndarray:
    period = 100.0 * (1 + 0.002 * rng.standard_normal())
    phase = (np.arange(n) / period) % 1.0
    edge = 0.04  # 4 % of a period per transition: linear ramps
    wave = np.clip(np.minimum(phase / edge, (duty - phase) / edge + 1), 0, 1)
    wave = np.where(phase > duty + edge, 0.0, wave)
    return 3.3 * wave + 0.003 * rng.standard_normal(n)


def _sine(rng: np.random.Generator, n: int, harmonic: float = 0.0) -> np.ndarray:
    t = np.arange(n) / RATE
    f = 10_000 * (1 + 0.001 * rng.standard_normal())
    x = 0.9 * np.sin(2 * np.pi * f * t) + harmonic * np.sin(2 * np.pi * 3 * f * t)
    x += 1e-4 * rng.standard_normal(n)
    return np.round(x * 2047) / 2047


def _rail(rng: np.random.Generator, n: int, level: float = 3.3) -> np.ndarray:
    t = np.arange(n) / RATE
    level *= 1 + 0.0005 * rng.standard_normal()
    return level + 0.01 * np.sin(2 * np.pi * 5e3 * t) + 0.002 * rng.standard_normal(n)


def write_suite(root: Path, captures: int, samples: int = 4000, seed: int = 1) -> list[Path]:
    """``captures`` capture files below ``root`` (clocks, sines, rails in turn) and its config."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "oscura.toml").write_text(CONFIG)
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(captures):
        kind = KINDS[index % 3]
        path = root / kind / f"{kind[:-1]}_{index:04d}.npy"
        path.parent.mkdir(exist_ok=True)
        make = {"clocks": _clock, "sines": _sine, "rails": _rail}[kind]
        np.save(path, make(rng, samples).astype(np.float32))
        paths.append(path)
    return paths


def break_captures(paths: list[Path], failing: int, drift_rails: bool = False) -> list[Path]:
    """Make the first ``failing`` captures fail, and (``drift_rails``) move every rail up by
    0.2 % (inside its tolerance, so only the drift check sees it)."""
    rng = np.random.default_rng(99)
    broken = paths[:failing]
    for path in paths:
        samples = np.load(path).astype(np.float64)
        kind = path.parent.name
        if path in broken:
            n = samples.size
            if kind == "clocks":
                samples = _clock(rng, n, duty=0.56)
            elif kind == "sines":
                samples = _sine(rng, n, harmonic=0.02)
            else:
                samples = _rail(rng, n, level=3.4)
        elif drift_rails and kind == "rails":
            samples = samples * 1.002
        else:
            continue
        np.save(path, samples.astype(np.float32))
    return broken


def night(
    root: Path,
    *,
    update: bool = False,
    report: Path | None = None,
    html: Path | None = None,
    baseline_waveforms: bool = False,
) -> Controller:
    """Measure and judge every capture below ``root`` like one pytest run, then finish it."""
    captures_root = CaptureRoot.open(root, root.name, None)
    controller = Controller(
        [captures_root],
        update,
        report,
        root.parent,
        html_path=html,
        baseline_waveforms=baseline_waveforms,
        strategy="serial (test helper)",
    )
    baseline = None if update else captures_root.baseline()
    for path in sorted(root.rglob("*.npy")):
        relative = path.relative_to(root).as_posix()
        config = captures_root.suite.for_capture(relative, "CH1")
        names = config.measurements or DEFAULT_MEASUREMENTS
        job = FileJob(str(path), relative, LoadSettings(RATE), (ItemSpec("CH1", 0, None, names),))
        result = run_job(job).items["CH1"]
        key = captures_root.key(path, "CH1")
        verdict = judge(
            key,
            result,
            config,
            baseline,
            baseline_path=captures_root.baseline_path,
            update_baseline=update,
            captures_args=captures_args([captures_root]),
        )
        record = CaptureRecord(
            key=key,
            root=captures_root.display,
            group=config.group or root.name,
            channel="CH1",
            units=result.units,
            measurements=dict(result.values),
            not_applicable=dict(result.not_applicable),
            failures=verdict.failures,
            nodeid=f"{root.name}/{relative}::CH1",
        )
        properties = [(RECORD_PROPERTY, json.dumps(record.to_dict()))]
        outcome = "failed" if verdict.message else "passed"
        controller.on_report(record.nodeid, "call", outcome, properties)
    controller.finish(stopped=None, whole_suite=True)
    return controller
