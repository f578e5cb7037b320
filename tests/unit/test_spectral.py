"""Spectral measurements (IEEE 1241) against MEASUREMENTS.md's accuracy targets."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from pytest_oscura.measurements import Signal, measure_detailed
from pytest_oscura.measurements._spectrum import blackman_harris
from tests.unit._waveforms import measure_any, noise, quantized_sine, sine

FS = 1e6
SPECTRAL = ["thd", "snr", "sinad", "enob", "sfdr"]


def tones(n: int, cycles: float, *harmonics: tuple[int, float]) -> np.ndarray:
    """A unit sine of ``cycles`` periods plus ``(order, dBc)`` harmonics."""
    t = np.arange(n) / n
    x = np.sin(2 * np.pi * cycles * t)
    for order, dbc in harmonics:
        x += 10 ** (dbc / 20) * np.sin(2 * np.pi * order * cycles * t + order)
    return x


class TestWindow:
    @pytest.mark.parametrize("n", [64, 1000, 4097])
    def test_is_the_periodic_4_term_blackman_harris(self, n):
        expected = scipy.signal.windows.blackmanharris(n, sym=False)
        np.testing.assert_allclose(blackman_harris(n, np), expected, rtol=0, atol=1e-12)


class TestEnob:
    @pytest.mark.parametrize("bits", range(8, 15))
    def test_ideally_quantized_full_scale_sine(self, bits):
        # coherent sampling: 67 cycles (prime) in 4096 samples
        m = measure_any(quantized_sine(bits, 4096, 67), FS, ["enob"])
        assert m["enob"] == pytest.approx(bits, abs=0.1)

    def test_enob_is_sinad_formula(self):
        m = measure_any(quantized_sine(10, 4096, 67), FS, ["enob", "sinad"])
        assert m["enob"] == pytest.approx((m["sinad"] - 1.76) / 6.02, rel=1e-12)


class TestThd:
    @pytest.mark.parametrize("cycles", [123.45, 1001.7, 67.0])
    def test_harmonics_at_minus_40_and_minus_50_dbc(self, cycles):
        x = tones(65_536, cycles, (2, -40.0), (3, -50.0))
        m = measure_any(x, FS, ["thd", "sfdr"])
        assert m["thd"] == pytest.approx(10 * np.log10(1e-4 + 1e-5), abs=0.2)
        assert m["sfdr"] == pytest.approx(40.0, abs=0.2)

    def test_aliased_harmonic_is_folded(self):
        # fundamental at 0.31 fs: its 3rd harmonic (0.93 fs) aliases to 0.07 fs
        n = 65_536
        x = tones(n, 0.31 * n + 0.37, (3, -40.0))
        m = measure_any(x, FS, ["thd", "frequency"])
        assert m["thd"] == pytest.approx(-40.0, abs=0.2)

    def test_pure_sine_has_low_thd(self):
        m = measure_any(sine(65_536, 1001.7), FS, ["thd"])
        assert m["thd"] < -80

    def test_square_wave_thd(self):
        # odd harmonics 1/k: THD² = Σ_{k=3,5,7,9} 1/k² (harmonics above the 10th ignored)
        n, period = 100_000, 1000
        x = np.where(np.arange(n) % period < period // 2, 1.0, -1.0)
        expected = 10 * np.log10(sum(1 / k**2 for k in (3, 5, 7, 9)))
        assert measure_any(x, FS, ["thd"])["thd"] == pytest.approx(expected, abs=0.1)


class TestSnr:
    @pytest.mark.parametrize("seed", [11, 12, 13])
    def test_white_noise_at_60_db(self, seed):
        n = 65_536
        x = sine(n, 1234.56) + noise(n, np.sqrt(0.5) * 1e-3, seed)
        m = measure_any(x, FS, ["snr", "sinad", "thd"])
        assert m["snr"] == pytest.approx(60.0, abs=0.5)
        assert m["sinad"] == pytest.approx(60.0, abs=0.5)

    def test_harmonics_are_not_noise(self):
        n = 65_536
        x = tones(n, 1234.56, (2, -40.0)) + noise(n, np.sqrt(0.5) * 1e-3, 14)
        m = measure_any(x, FS, ["snr", "sinad"])
        assert m["snr"] == pytest.approx(60.0, abs=0.5)
        assert m["sinad"] == pytest.approx(10 * np.log10(1 / (1e-4 + 1e-6)), abs=0.5)

    def test_short_records_are_not_flattered(self):
        # 512 samples: DC, fundamental and nine harmonic lobes cover a third of the 257 bins.
        # Noise under them is estimated, not dropped (dropping it reads about 2 dB high).
        n = 512
        snrs = [
            measure_any(sine(n, 16.0) + noise(n, np.sqrt(0.5) * 1e-3, seed), FS, ["snr"])["snr"]
            for seed in range(20)
        ]
        assert np.mean(snrs) == pytest.approx(60.0, abs=0.5)

    def test_dc_offset_is_excluded(self):
        n = 65_536
        x = 100.0 + sine(n, 1234.56) + noise(n, np.sqrt(0.5) * 1e-3, 15)
        assert measure_any(x, FS, ["snr"])["snr"] == pytest.approx(60.0, abs=0.5)


class TestSfdr:
    def test_non_harmonic_spur(self):
        n = 65_536
        t = np.arange(n) / n
        x = np.sin(2 * np.pi * 1234.56 * t) + 10 ** (-70 / 20) * np.sin(2 * np.pi * 7777.7 * t)
        assert measure_any(x, FS, ["sfdr"])["sfdr"] == pytest.approx(70.0, abs=0.2)


class TestNotApplicable:
    @pytest.mark.parametrize("name", SPECTRAL)
    def test_fewer_than_nine_cycles(self, name):
        result = measure_detailed(sine(10_000, 3.2), FS, [name])
        assert result.values[name] is None
        assert "DC lobe" in result.not_applicable[name]

    @pytest.mark.parametrize("name", SPECTRAL)
    def test_white_noise_has_no_tone(self, name):
        result = measure_detailed(noise(10_000, 1.0, 16), FS, [name])
        assert result.values[name] is None
        assert "no dominant tone" in result.not_applicable[name]

    @pytest.mark.parametrize("name", SPECTRAL)
    def test_too_few_samples(self, name):
        result = measure_detailed(sine(32, 10.0), FS, [name])
        assert "too few samples" in result.not_applicable[name]

    def test_noise_free_coherent_sine_snr_is_not_invented(self):
        # All power in the fundamental lobe: noise is float rounding (about -280 dB), summed
        # directly rather than as a difference of large sums (which floors SNR near 156 dB).
        result = measure_detailed(sine(4096, 67.0), FS, ["snr", "thd"])
        for name in ("snr", "thd"):
            value = result.values[name]
            assert value is not None
            assert np.isfinite(value)
            assert abs(value) > 250


def test_one_fft_per_capture(monkeypatch):
    calls = []
    real_rfft = np.fft.rfft

    def counting_rfft(*args, **kwargs):
        calls.append(1)
        return real_rfft(*args, **kwargs)

    monkeypatch.setattr(np.fft, "rfft", counting_rfft)
    n = 65_536
    x = sine(n, 1234.56) + noise(n, 0.1, 17)  # noisy: frequency falls back to the spectrum
    m = measure_any(x, FS, [*SPECTRAL, "frequency"])
    assert all(value is not None for value in m.values())
    assert len(calls) == 1


def test_spectrum_powers_add_up():
    n = 65_536
    x = tones(n, 1234.56, (2, -40.0)) + noise(n, 0.01, 18)
    s = Signal(x, FS).spectrum
    assert s.fundamental_bin == pytest.approx(1234.56, abs=1e-3)
    assert s.harmonics / s.signal == pytest.approx(1e-4, rel=0.05)
    assert s.spur == pytest.approx(s.harmonics, rel=0.05)
