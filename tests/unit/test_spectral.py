"""Spectral measurements (IEEE 1241) against MEASUREMENTS.md's accuracy targets."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from pytest_oscura.measurements import Signal, measure_detailed
from pytest_oscura.measurements._spectrum import BH7, LOBE, blackman_harris
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


#: Non-coherent sampling: a fractional number of cycles in the record.
NON_COHERENT = 1234.56


class TestWindow:
    @pytest.mark.parametrize("n", [64, 1000, 4097])
    def test_is_the_periodic_7_term_blackman_harris(self, n):
        expected = scipy.signal.windows.general_cosine(n, BH7, sym=False)
        np.testing.assert_allclose(blackman_harris(n, np), expected, rtol=0, atol=1e-12)

    def test_side_lobes_are_below_minus_150_db(self):
        # the window's transform, 32 points per bin: everything beyond the main lobe's first
        # null (LOBE bins) is a side lobe
        n, per_bin = 4096, 32
        response = np.abs(np.fft.rfft(blackman_harris(n, np), n * per_bin)) ** 2
        response /= response[0]
        assert 10 * np.log10(response[LOBE * per_bin + 1 :].max()) < -150
        assert np.argmin(response[: (LOBE + 1) * per_bin]) == LOBE * per_bin


class TestEnob:
    @pytest.mark.parametrize("bits", range(8, 17))
    def test_ideally_quantized_full_scale_sine(self, bits):
        # coherent sampling: 67 cycles (prime) in 4096 samples
        m = measure_any(quantized_sine(bits, 4096, 67), FS, ["enob"])
        assert m["enob"] == pytest.approx(bits, abs=0.1)

    @pytest.mark.parametrize("bits", range(8, 17))
    @pytest.mark.parametrize(("n", "cycles"), [(4096, 67.37), (65_536, NON_COHERENT)])
    def test_non_coherent_quantized_full_scale_sine(self, bits, n, cycles):
        # The 4-term window's leakage (-92 dB) read 13.6 bits for 14 and 14.2 for 16.
        m = measure_any(quantized_sine(bits, n, cycles), FS, ["enob", "snr"])
        assert m["enob"] == pytest.approx(bits, abs=0.15)
        # the quantisation noise of an ideal b-bit converter: SNR = 6.02 b + 1.76 dB
        assert m["snr"] == pytest.approx(6.02 * bits + 1.76, abs=1.0)

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

    @pytest.mark.parametrize("order", [2, 3, 5, 10])
    @pytest.mark.parametrize("dbc", [-80.0, -100.0, -110.0])
    def test_one_harmonic_down_to_minus_110_dbc_non_coherent(self, order, dbc):
        x = tones(65_536, NON_COHERENT, (order, dbc))
        m = measure_any(x, FS, ["thd", "sfdr"])
        assert m["thd"] == pytest.approx(dbc, abs=0.5)
        assert m["sfdr"] == pytest.approx(-dbc, abs=1.0)

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

    @pytest.mark.parametrize("snr", [20.0, 40.0, 80.0, 100.0, 110.0])
    def test_white_noise_non_coherent_up_to_110_db(self, snr):
        n = 65_536
        x = sine(n, NON_COHERENT) + noise(n, np.sqrt(0.5) * 10 ** (-snr / 20), int(snr))
        m = measure_any(x, FS, ["snr", "sinad", "enob"])
        assert m["snr"] == pytest.approx(snr, abs=1.0)
        assert m["sinad"] == pytest.approx(snr, abs=1.0)
        assert m["enob"] == pytest.approx((snr - 1.76) / 6.02, abs=0.17)

    def test_noise_free_non_coherent_sine_has_no_leakage_floor(self):
        # the 4-term window read 87 dB here: its own side lobes counted as noise
        m = measure_any(sine(65_536, NON_COHERENT), FS, ["snr", "sinad", "sfdr"])
        assert m["snr"] > 150
        assert m["sinad"] > 150
        assert m["sfdr"] > 150

    def test_a_sine_at_6_db_snr_is_still_measured(self):
        n = 65_536
        x = sine(n, NON_COHERENT) + noise(n, np.sqrt(0.5) * 10 ** (-6 / 20), 19)
        assert measure_any(x, FS, ["snr"])["snr"] == pytest.approx(6.0, abs=0.3)

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


class TestSfdrOfQuantizedSines:
    @pytest.mark.parametrize("bits", [14, 15, 16])
    def test_is_not_capped_by_the_window(self, bits):
        # the 4-term window read 90-91 dBc for every one of them
        m = measure_any(quantized_sine(bits, 65_536, NON_COHERENT), FS, ["sfdr"])
        assert m["sfdr"] > 100


def chirp(n: int, start: float, stop: float) -> np.ndarray:
    """Linear chirp from ``start`` to ``stop`` cycles per record."""
    t = np.arange(n) / n
    return np.sin(2 * np.pi * (start * t + 0.5 * (stop - start) * t * t))


class TestNotApplicable:
    @pytest.mark.parametrize("name", SPECTRAL)
    @pytest.mark.parametrize("cycles", [3.2, 12.5])
    def test_fewer_than_fifteen_cycles(self, name, cycles):
        # the fundamental's main lobe (+-7 bins) must clear the DC lobe (bins 0..7)
        result = measure_detailed(sine(10_000, cycles), FS, [name])
        assert result.values[name] is None
        assert "DC lobe" in result.not_applicable[name]

    @pytest.mark.parametrize("name", SPECTRAL)
    def test_white_noise_has_no_tone(self, name):
        result = measure_detailed(noise(10_000, 1.0, 16), FS, [name])
        assert result.values[name] is None
        assert "no dominant tone" in result.not_applicable[name]

    @pytest.mark.parametrize(
        "samples",
        [
            pytest.param(chirp(1 << 18, 262.144, 786.432), id="chirp-1-3kHz"),
            pytest.param(chirp(65_536, 500.0, 5000.0), id="chirp-wide"),
            pytest.param(noise(65_536, 1.0, 22), id="white-noise"),
            pytest.param(
                sine(65_536, NON_COHERENT) + sine(65_536, 1.37 * NON_COHERENT, phase=1.1),
                id="two-equal-tones",
            ),
            pytest.param(
                sum(sine(65_536, NON_COHERENT * k, phase=k) for k in (1.0, 1.3, 1.7, 2.9)),
                id="four-tones",
            ),
            pytest.param(np.where(np.arange(100_000) % 1000 < 100, 1.0, 0.0), id="pulses-duty-0.1"),
            pytest.param(
                sine(65_536, NON_COHERENT) + noise(65_536, np.sqrt(0.5), 23), id="sine-at-0-dB"
            ),
        ],
    )
    def test_no_single_dominant_tone(self, samples):
        # IEEE 1241 measures one sine: below 60 % of the AC power in the strongest tone (SINAD
        # 1.76 dB, ENOB 0) a capture is not one. Two equal tones hold 50 % each, a 10 % pulse
        # train 22 % in its fundamental.
        result = measure_detailed(samples, FS, SPECTRAL)
        for name in SPECTRAL:
            assert result.values[name] is None, name
            reason = result.not_applicable[name]
            assert reason.startswith("no dominant tone: the strongest tone holds"), reason
            assert "% of the AC power" in reason

    def test_the_tone_share_of_two_equal_tones_is_one_half(self):
        x = sine(65_536, NON_COHERENT) + sine(65_536, 1.37 * NON_COHERENT, phase=1.1)
        assert Signal(x, FS).spectrum.tone_share == pytest.approx(0.5, abs=1e-3)

    def test_a_square_is_a_dominant_tone(self):
        # a 50 % square holds 8 / pi^2 = 81 % of its power in the fundamental
        x = np.where(np.arange(100_000) % 1000 < 500, 1.0, -1.0)
        assert Signal(x, FS).spectrum.tone_share == pytest.approx(8 / np.pi**2, abs=1e-3)
        assert measure_any(x, FS, ["sinad"])["sinad"] is not None

    def test_noise_has_no_spectral_frequency_either(self):
        # the frequency fallback keeps its own, weaker test: a peak standing out of the noise
        result = measure_detailed(noise(65_536, 1.0, 24), FS, ["frequency"])
        assert result.values["frequency"] is None
        assert "no spectral peak stands out" in result.not_applicable["frequency"]

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
