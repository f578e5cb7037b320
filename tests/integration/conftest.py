from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import sine

XDIST_MODES = [pytest.param([], id="no-xdist"), pytest.param(["-n", "2"], id="xdist-2")]

CONFIG = """\
[defaults]
sample_rate_hz = 100000.0
tolerance = { rel = 0.01 }

[tolerances]
mean = { abs = 0.01 }
"""


def make_suite(root: Path) -> Path:
    """A small captures root: npy, npz (2 channels), csv and wav captures plus oscura.toml."""
    (root / "psu").mkdir(parents=True)
    (root / "sig").mkdir()
    (root / "oscura.toml").write_text(CONFIG)
    np.save(root / "psu" / "rail.npy", 3.3 + 0.01 * sine())
    np.savez(
        root / "sig" / "pair.npz",
        samples=np.vstack([sine(), 0.5 * sine(freq_hz=2e3)]),
        sample_rate_hz=np.float64(2e5),
        channels=np.array(["CLK", "DATA"]),
    )
    rows = "\n".join(f"{i * 1e-5:.6e},{v:.6f}," for i, v in enumerate(sine(n=500)))
    (root / "sig" / "scope.csv").write_text(f"# exported\nTime,CH1,\ns,V,\n{rows}\n")
    import wave

    with wave.open(str(root / "sig" / "tone.wav"), "wb") as stream:
        stream.setnchannels(1)
        stream.setsampwidth(2)
        stream.setframerate(48000)
        stream.writeframes((sine(n=4800, rate_hz=48000) * 16000).astype("<i2").tobytes())
    return root


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())
