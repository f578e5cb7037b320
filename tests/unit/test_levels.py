"""State levels and aberrations (IEEE 181) against MEASUREMENTS.md's accuracy targets."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_oscura.measurements import measure_detailed
from tests.unit._waveforms import damped_step, measure_any, noise, sine, square, trapezoid

FS = 1e6
LEVELS = ["top", "base", "amplitude", "overshoot", "undershoot"]
TIMES = ["duty_cycle", "pulse_width", "rise_time", "fall_time"]


class TestStateLevels:
    @pytest.mark.parametrize(
        ("top", "base"), [(1.0, 0.0), (3.3, -0.2), (12.001, 11.999), (-1.0, -5.0), (5e-3, 0.0)]
    )
    @pytest.mark.parametrize("high", [50, 300, 950])
    def test_clean_square_reads_exact_levels(self, top, base, high):
        m = measure_any(square(20_000, 1000, high, top, base), FS, LEVELS)
        assert m["top"] == pytest.approx(top, rel=1e-9, abs=0)
        assert m["base"] == pytest.approx(base, rel=1e-9, abs=1e-12)
        assert m["amplitude"] == pytest.approx(top - base, rel=1e-9)

    def test_coarse_bin_centre_bias_is_gone(self):
        # Levels at bin centres of a 50-bin histogram read amplitude 0.98 (max - min); ours not.
        m = measure_any(square(10_000, 100, 50, 1.0, 0.0), FS, ["amplitude"])
        assert m["amplitude"] == pytest.approx(1.0, rel=1e-12)

    @pytest.mark.parametrize(("n", "seed"), [(20_000, 1), (200_000, 2), (1_000_000, 3)])
    def test_noisy_square_within_0_2_percent_of_amplitude(self, n, seed):
        amplitude = 3.5
        x = square(n, 1000, 300, 3.3, -0.2) + noise(n, 0.01 * amplitude, seed)
        m = measure_any(x, FS, LEVELS)
        assert abs(m["top"] - 3.3) <= 0.002 * amplitude
        assert abs(m["base"] + 0.2) <= 0.002 * amplitude

    def test_trapezoid_edges_do_not_move_the_plateaus(self):
        # Not a clean two-level signal: ramp samples share the plateau bin, hence 1e-7, not 1e-9.
        m = measure_any(trapezoid(50_000, 1000.37, 400, 40, 2.0, 1.0), FS, LEVELS)
        assert m["top"] == pytest.approx(2.0, rel=1e-7)
        assert m["base"] == pytest.approx(1.0, rel=1e-7)

    def test_sine_levels_sit_at_its_peaks(self):
        m = measure_any(sine(100_000, 50.3, 2.0, 1.0), FS, ["top", "base", "max"])
        assert 2.99 < m["top"] <= m["max"]
        assert -1.0 <= m["base"] < -0.99

    def test_constant_has_equal_levels_and_zero_amplitude(self):
        m = measure_any(np.full(100, 2.5), FS, ["top", "base", "amplitude"])
        assert m == {"top": 2.5, "base": 2.5, "amplitude": 0.0}


class TestGlitches:
    """One sample far outside top/base, crossing no reference level, moves nothing."""

    PERIOD, PLATEAU, EDGE = 1000.0, 480.0, 20.0

    def clock(self) -> np.ndarray:
        return trapezoid(100_000, self.PERIOD, self.PLATEAU, self.EDGE, 1.0, 0.0)

    @pytest.mark.parametrize(
        ("value", "at"),
        [
            (2.5, 50_250),  # on a top plateau
            (10.0, 50_250),
            (1e3, 50_250),
            (1e6, 50_250),
            (-1.5, 50_750),  # on a base plateau
            (-1e4, 50_750),
        ],
    )
    def test_clock_levels_and_timing_are_those_of_the_clean_clock(self, value, at):
        x = self.clock()
        x[at] = value
        m = measure_any(x, FS, ["top", "base", "amplitude", *TIMES])
        assert m["top"] == pytest.approx(1.0, rel=1e-7)
        assert m["base"] == pytest.approx(0.0, abs=1e-7)
        assert m["amplitude"] == pytest.approx(1.0, rel=1e-7)
        assert m["duty_cycle"] == pytest.approx((self.PLATEAU + self.EDGE) / self.PERIOD, abs=0.002)
        assert m["pulse_width"] == pytest.approx((self.PLATEAU + self.EDGE) / FS, rel=1e-9)
        assert m["rise_time"] == pytest.approx(0.8 * self.EDGE / FS, rel=0.01)
        assert m["fall_time"] == pytest.approx(0.8 * self.EDGE / FS, rel=0.01)

    @pytest.mark.parametrize("value", [10.0, -50.0, 1e5])
    def test_clean_square_stays_exact(self, value):
        x = square(20_000, 1000, 300, 3.3, -0.2)
        x[150 if value > 0 else 700] = value
        m = measure_any(x, FS, ["top", "base"])
        assert m["top"] == pytest.approx(3.3, rel=1e-9)
        assert m["base"] == pytest.approx(-0.2, rel=1e-9)

    def test_noisy_square_within_0_2_percent_of_amplitude(self):
        n, amplitude = 200_000, 3.5
        x = square(n, 1000, 300, 3.3, -0.2) + noise(n, 0.01 * amplitude, 30)
        x[100_100] = 3.3 + 5 * amplitude
        m = measure_any(x, FS, ["top", "base"])
        assert abs(m["top"] - 3.3) <= 0.002 * amplitude
        assert abs(m["base"] + 0.2) <= 0.002 * amplitude

    def test_one_spike_in_every_period(self):
        # 0.1 % of the samples at 2.5x: too many to set aside, too light for Otsu's split
        x = self.clock()
        x[250::1000] = 2.5
        m = measure_any(x, FS, ["top", "base", "duty_cycle"])
        assert m["top"] == pytest.approx(1.0, rel=1e-6)
        assert m["base"] == pytest.approx(0.0, abs=1e-7)
        assert m["duty_cycle"] == pytest.approx(0.5, abs=0.002)

    def test_a_constant_with_one_glitch_is_a_constant(self):
        x = np.full(1000, 1.5)
        x[500] = 9.0
        result = measure_detailed(x, FS, ["top", "base", "frequency"])
        assert result.values["top"] == result.values["base"] == 1.5
        assert "constant" in result.not_applicable["frequency"]


class TestOvershoot:
    def test_clean_square_has_none(self):
        m = measure_any(square(20_000, 1000, 400, 3.3, 0.0), FS, LEVELS)
        assert abs(m["overshoot"]) <= 0.05
        assert abs(m["undershoot"]) <= 0.05

    def test_trapezoid_has_none(self):
        m = measure_any(trapezoid(20_000, 999.5, 300, 20), FS, LEVELS)
        assert abs(m["overshoot"]) <= 0.05
        assert abs(m["undershoot"]) <= 0.05

    @pytest.mark.parametrize("natural_period", [50.0, 200.0])
    def test_damped_step_with_ten_percent_overshoot(self, natural_period):
        x = damped_step(40_000, 0.10, natural_period, at=10_000)
        m = measure_any(x, FS, LEVELS)
        assert m["overshoot"] == pytest.approx(10.0, abs=0.5)
        assert m["amplitude"] == pytest.approx(1.0, rel=0.01)
        assert abs(m["undershoot"]) <= 0.05

    def test_inverted_step_overshoot_is_undershoot(self):
        x = 5.0 - damped_step(40_000, 0.10, 100.0, at=10_000)
        m = measure_any(x, FS, LEVELS)
        assert m["undershoot"] == pytest.approx(10.0, abs=0.5)
        assert abs(m["overshoot"]) <= 0.05

    def test_noisy_square_overshoot_is_the_noise_peak(self):
        n = 100_000
        x = square(n, 1000, 500) + noise(n, 0.01, 4)
        m = measure_any(x, FS, ["overshoot"])
        # the largest of 50k Gaussian samples is about 4.3 sigma above the level
        assert 3.5 < m["overshoot"] < 5.5

    @pytest.mark.parametrize("name", ["overshoot", "undershoot"])
    def test_sine_is_not_applicable(self, name):
        result = measure_detailed(sine(10_000, 20.5), FS, [name])
        assert result.values[name] is None
        assert "two-state" in result.not_applicable[name]

    @pytest.mark.parametrize("name", ["overshoot", "undershoot"])
    def test_triangle_is_not_applicable(self, name):
        x = np.abs((np.arange(10_000) % 200) - 100.0)
        assert measure_any(x, FS, [name])[name] is None

    @pytest.mark.parametrize("name", ["overshoot", "undershoot"])
    def test_constant_is_not_applicable(self, name):
        result = measure_detailed(np.zeros(1000), FS, [name])
        assert result.values[name] is None
        assert "constant" in result.not_applicable[name]
