"""Our readers against the field's reference: for every vendor binary of the real corpus that
RigolWFM reads, our channels, sample rates, time origins and values agree with RigolWFM's
(values to float32 precision), so a reader of ours can never silently disagree with it.

Some of these files we decode ourselves (Keysight/Rigol ``.bin``), others through RigolWFM; the
check covers both, so a change in RigolWFM's reading shows here too. Where we knowingly differ,
:data:`KNOWN_DISAGREEMENTS` says why, and the test checks that the difference is still there
(and still ours to explain) rather than skipping the file.

The corpus is read from ``$OSCURA_REAL_CAPTURES`` (default ``../shared/captures/real``) and never
copied into the project; these tests skip without it or without RigolWFM.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pytest_oscura.captures import format_for, load_capture
from pytest_oscura.errors import CaptureError
from tests.conftest import REAL_CAPTURES as REAL

HAS_RIGOLWFM = importlib.util.find_spec("RigolWFM") is not None
pytestmark = [
    pytest.mark.skipif(not (REAL / "MANIFEST.md").is_file(), reason=f"no corpus at {REAL}"),
    pytest.mark.skipif(not HAS_RIGOLWFM, reason="RigolWFM not installed ([formats] extra)"),
]

VENDOR_SUFFIXES = (".bin", ".wfm", ".trc", ".isf", ".000")
VENDOR_FILES = (
    sorted(
        str(p.relative_to(REAL))
        for p in REAL.rglob("*")
        if p.is_file() and p.name.lower().endswith(VENDOR_SUFFIXES)
    )
    if REAL.is_dir()
    else []
)
# Channels we read that RigolWFM does not: RigolWFM clips the MSO5000 LA word to its low
# byte (D0…D7); the file holds the 16-bit word of D0…D15.
EXTRA_CHANNELS = {"rigol/MSO5074-C.bin": {f"D{k}" for k in range(8, 16)}}
# RigolWFM numbers its channel slots (CH1); a LeCroy trace is named from its WAVEDESC (the
# source C1…C8, else the trace label), which is what its baseline keys have always been.
RENAMED = {"lecroy/trace3.000": {"CH1": "Trace3"}}
KNOWN_DISAGREEMENTS = {
    # MANIFEST trap 1: RigolWFM decodes the big-endian float32 payload (BN_FMT FP) as
    # integers (−32710…32766). We refuse the record: it is a spectrum, not a time capture.
    "tek_isf/tek0006NRM.isf": "frequency-domain record",
}


def _rigolwfm(path: Path) -> Any:
    """RigolWFM's reading of ``path``, or ``None`` where RigolWFM refuses the file."""
    from pytest_oscura.captures.vendor_formats import _rigolwfm_parse

    try:
        return _rigolwfm_parse(path)
    except ValueError:
        return None


def _theirs(wfm: Any) -> dict[str, tuple[float, Any, float | None]]:
    """Channel name → (sample rate, values, time of the first sample) as RigolWFM reads them."""
    out: dict[str, tuple[float, Any, float | None]] = {}
    for channel in wfm.channels:
        times = channel.times
        out[f"CH{channel.channel_number}"] = (
            1.0 / float(channel.seconds_per_point),
            np.asarray(channel.volts),
            float(times[0]) if times is not None and len(times) else None,
        )
    for name, trace in (wfm.logic_channels or {}).items():
        out[name] = (1.0 / float(wfm.logic_seconds_per_point), np.asarray(trace), None)
    return out


@pytest.mark.parametrize("rel", VENDOR_FILES)
def test_we_agree_with_rigolwfm_wherever_it_reads_a_file(rel: str) -> None:
    path = REAL / rel
    wfm = _rigolwfm(path)
    if wfm is None or not (wfm.channels or wfm.logic_channels):
        pytest.skip("RigolWFM does not read this file")
    if rel in KNOWN_DISAGREEMENTS:
        with pytest.raises(CaptureError, match=KNOWN_DISAGREEMENTS[rel]):
            load_capture(path)
        return
    assert format_for(path) is not None, "RigolWFM reads it, so it must be a capture of ours"
    ours = {c.channel: c for c in load_capture(path)}
    renamed = RENAMED.get(rel, {})
    theirs = {renamed.get(name, name): value for name, value in _theirs(wfm).items()}
    assert set(theirs) <= set(ours)
    assert set(ours) - set(theirs) == EXTRA_CHANNELS.get(rel, set())
    for name, (rate, values, t0) in theirs.items():
        capture = ours[name]
        assert capture.sample_rate_hz == pytest.approx(rate, rel=1e-9), name
        samples = capture.samples.reshape(-1)  # a LeCroy sequence is segments × samples
        assert samples.shape == values.shape, name
        if capture.kind == "logic":
            np.testing.assert_array_equal(samples, values, err_msg=name)
            continue
        scale = float(np.max(np.abs(values))) or 1.0
        eps = float(np.finfo(np.float32).eps)
        np.testing.assert_allclose(samples, values, rtol=eps, atol=eps * scale, err_msg=name)
        if t0 is not None:
            assert capture.metadata["t0_s"] == pytest.approx(t0, abs=1e-6 / rate), name


def test_the_isf_disagreement_is_still_rigolwfms() -> None:
    """RigolWFM still reads tek0006NRM's float payload as integers; our spectrum reading
    (time_domain=False) gives the documented watts. If RigolWFM is fixed, revisit the entry."""
    from pytest_oscura.captures.isf_format import load_isf

    path = REAL / "tek_isf/tek0006NRM.isf"
    wfm = _rigolwfm(path)
    assert wfm is not None
    theirs = np.asarray(wfm.channels[0].volts)
    (spectrum,) = load_isf(path, time_domain=False)
    assert float(spectrum.samples.max()) < 1e-6  # watts
    assert float(np.abs(theirs).max()) > 1000  # integer codes
