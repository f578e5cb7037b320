"""Engine-wide behaviour: degenerate inputs, profiles, the array namespace and invariants."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pytest_oscura.measurements import (
    DEFAULT_MEASUREMENTS,
    PROFILES,
    REGISTRY,
    expand_names,
    measure_detailed,
)
from tests.unit._waveforms import measure_any, noise, quantized_sine, sine, square, trapezoid

FS = 1e6
ALL = PROFILES["all"]
TIMING = ["frequency", "period", "duty_cycle", "pulse_width", "rise_time", "fall_time"]
SPECTRAL = ["thd", "snr", "sinad", "enob", "sfdr"]
EDGE = ["edge_count", "overshoot", "undershoot"]
FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TestDegenerateInputs:
    @pytest.mark.parametrize(
        "samples",
        [
            pytest.param(np.full(1000, 1.25), id="constant"),
            pytest.param(np.full(1000, np.nan), id="all-nan"),
            pytest.param(np.array([0.5]), id="one-sample"),
            pytest.param(np.array([]), id="empty"),
        ],
    )
    def test_timing_and_spectral_are_not_applicable(self, samples):
        result = measure_detailed(samples, FS, ALL)
        for name in TIMING + SPECTRAL + EDGE:
            assert result.values[name] is None, name
            assert result.not_applicable[name], name

    def test_some_nan_makes_everything_not_applicable(self):
        x = sine(1000, 20.0)
        x[500] = np.nan
        result = measure_detailed(x, FS, ALL)
        assert set(result.not_applicable) == set(ALL)
        assert all("NaN" in reason for reason in result.not_applicable.values())

    @pytest.mark.parametrize("rate", [0.0, -1.0, math.inf, math.nan])
    def test_bad_sample_rate(self, rate):
        result = measure_detailed(sine(1000, 20.0), rate, ALL)
        assert all(value is None for value in result.values.values())

    def test_range_overflowing_a_float(self):
        result = measure_detailed(np.array([-1.5e308, 1.5e308, -1.5e308, 1.5e308]), FS, ALL)
        assert result.values["min"] == -1.5e308
        assert result.values["top"] is None
        assert "overflows" in result.not_applicable["top"]

    def test_two_dimensional_samples(self):
        result = measure_detailed(np.ones((10, 10)), FS, ALL)
        assert all("1-D" in reason for reason in result.not_applicable.values())

    @FAST
    @given(
        hnp.arrays(
            np.float64,
            st.integers(0, 300),
            elements=st.floats(allow_nan=True, allow_infinity=True, width=64),
        )
    )
    def test_arbitrary_input_never_raises_and_returns_plain_floats(self, samples):
        result = measure_detailed(samples, FS, ALL)
        assert set(result.values) == set(ALL)
        for name, value in result.values.items():
            if value is None:
                assert result.not_applicable[name]
            else:
                assert type(value) is float
                assert math.isfinite(value)

    @FAST
    @given(
        hnp.arrays(
            np.float64,
            st.integers(2, 400),
            elements=st.floats(-1e6, 1e6, allow_nan=False, width=64),
        )
    )
    def test_levels_lie_between_min_and_max(self, samples):
        m = measure_any(samples, FS, ["min", "max", "top", "base", "amplitude"])
        assert m["min"] <= m["base"] <= m["top"] <= m["max"]
        assert m["amplitude"] >= 0


class TestProfiles:
    def test_every_profile_member_is_registered(self):
        for members in PROFILES.values():
            assert set(members) <= set(REGISTRY)

    def test_all_is_everything_default_first(self):
        assert set(PROFILES["all"]) == set(REGISTRY)
        assert PROFILES["all"][: len(DEFAULT_MEASUREMENTS)] == DEFAULT_MEASUREMENTS

    def test_default_is_the_measurements_md_table(self):
        table = {"mean", "rms", "ac_rms", "min", "max", "vpp", "top", "base", "amplitude"}
        table |= {"frequency", "period", "duty_cycle", "pulse_width", "rise_time", "fall_time"}
        table |= {"overshoot", "undershoot", "thd", "snr", "sinad", "enob", "sfdr"}
        assert set(DEFAULT_MEASUREMENTS) == table
        assert len(DEFAULT_MEASUREMENTS) == len(table)

    def test_basic_is_unchanged(self):
        assert PROFILES["basic"] == ("mean", "rms", "ac_rms", "min", "max", "vpp")

    def test_logic_profile(self):
        assert set(PROFILES["logic"]) == {
            "frequency",
            "period",
            "duty_cycle",
            "pulse_width",
            "edge_count",
        }

    @pytest.mark.parametrize("profile", ["pulse", "adc", "rail", "logic"])
    def test_profiles_expand(self, profile):
        assert expand_names([profile]) == PROFILES[profile]

    @pytest.mark.parametrize(
        ("name", "unit"),
        [
            ("top", "V"),
            ("amplitude", "V"),
            ("frequency", "Hz"),
            ("period", "s"),
            ("duty_cycle", "ratio"),
            ("rise_time", "s"),
            ("overshoot", "%"),
            ("thd", "dBc"),
            ("sfdr", "dBc"),
            ("snr", "dB"),
            ("sinad", "dB"),
            ("enob", "bits"),
            ("edge_count", "count"),
        ],
    )
    def test_units(self, name, unit):
        assert REGISTRY[name].unit_for("V") == unit

    def test_level_timing_and_spectral_measurements_name_their_standard(self):
        for name, measurement in REGISTRY.items():
            assert measurement.description, name
            if name not in PROFILES["basic"]:
                doc = measurement.function.__doc__ or ""
                assert "IEEE 181-2011" in doc or "IEEE 1241-2010" in doc, name


def _spy_namespace(used: set[str]) -> Any:
    """A stand-in for CuPy: numpy underneath, records what the engine takes from it, and is
    not ``numpy`` (so the engine must use ``asnumpy`` to bring small arrays to the host)."""

    class Spy:
        def __getattr__(self, name: str) -> Any:
            used.add(name)
            return np.asarray if name == "asnumpy" else getattr(np, name)

    return Spy()


class TestArrayNamespace:
    SIGNALS = {  # noqa: RUF012
        "square": square(20_000, 1000, 300, 3.3, 0.0) + noise(20_000, 0.03, 20),
        "sine": sine(20_000, 123.4) + noise(20_000, 1e-3, 21),
        "adc": quantized_sine(10, 4096, 67),
        "ramp": trapezoid(10_000, 333.3, 100, 20.0),
    }

    @pytest.mark.parametrize("name", SIGNALS)
    def test_explicit_numpy_matches_the_default(self, name):
        x = self.SIGNALS[name]
        assert measure_any(x, FS, ALL, xp=np) == measure_any(x, FS, ALL)

    @pytest.mark.parametrize("name", SIGNALS)
    def test_another_namespace_gives_the_same_values(self, name):
        x = self.SIGNALS[name]
        used: set[str] = set()
        expected = measure_any(x, FS, ALL)
        got = measure_any(x, FS, ALL, xp=_spy_namespace(used))
        assert got.keys() == expected.keys()
        for key, value in expected.items():
            if value is None:
                assert got[key] is None
            else:
                assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key
        # the hot path goes through the namespace
        assert {"bincount", "fft", "flatnonzero", "take", "asnumpy"} <= used


def _close(a: float | None, b: float | None, rel: float, abs_: float = 0.0) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


@st.composite
def periodic_signals(draw: Any) -> tuple[np.ndarray, str]:
    """A periodic trapezoid or coherent sine with a whole number of samples per period and a
    record of whole periods (so a circular shift is a pure time shift), and its kind."""
    period = draw(st.integers(24, 96))
    periods = draw(st.integers(12, 24))
    n = period * periods
    if draw(st.booleans()):
        edge = draw(st.integers(2, period // 6))
        plateau = draw(st.integers(1, period - 2 * edge - 1))
        x = trapezoid(n, float(period), float(plateau), float(edge), 1.0, -0.5, delay=0.3)
        kind = "trapezoid"
    else:
        x = sine(n, float(periods), 0.8, 0.1, phase=draw(st.floats(0, 6.28)))
        kind = "sine"
    return x + noise(n, 1e-3, draw(st.integers(0, 99))), kind


LEVELS = ("top", "base", "amplitude")
STATS = ("mean", "rms", "ac_rms", "min", "max", "vpp")
TIMES = ("frequency", "period", "duty_cycle", "pulse_width", "rise_time", "fall_time")
RATIOS = ("overshoot", "undershoot", "thd", "snr", "sinad", "enob", "sfdr", "edge_count")


class TestInvariants:
    @FAST
    @given(periodic_signals(), st.floats(1e-3, 1e3))
    def test_scaling_by_k(self, signal, k):
        x, _ = signal
        base = measure_any(x, FS, ALL)
        scaled = measure_any(k * x, FS, ALL)
        for name in STATS + LEVELS:
            assert _close(scaled[name], k * base[name], 1e-9, 1e-12 * k), name
        for name in TIMES:
            assert _close(scaled[name], base[name], 1e-9), name
        for name in RATIOS:
            assert _close(scaled[name], base[name], 1e-7, 1e-9), name

    @FAST
    @given(periodic_signals(), st.floats(1e-3, 1e3))
    def test_negative_scaling_mirrors(self, signal, k):
        x, _ = signal
        base = measure_any(x, FS, ALL)
        flipped = measure_any(-k * x, FS, ALL)
        for name in ("vpp", "rms", "ac_rms"):
            assert _close(flipped[name], k * base[name], 1e-9, 1e-12 * k), name
        # mirrored bins: levels equal up to rounding and the mean shift's convergence
        assert _close(flipped["amplitude"], k * base["amplitude"], 1e-8, 1e-12 * k)
        assert _close(flipped["top"], -k * base["base"], 1e-8, 1e-12 * k)
        assert _close(flipped["frequency"], base["frequency"], 1e-9)
        assert _close(flipped["rise_time"], base["fall_time"], 1e-7)
        assert _close(flipped["overshoot"], base["undershoot"], 1e-7, 1e-9)
        for name in ("thd", "snr", "sfdr"):
            assert _close(flipped[name], base[name], 1e-7, 1e-9), name
        if base["duty_cycle"] is not None:
            # positive pulses become the negative ones: other pulses, other noise
            assert flipped["duty_cycle"] == pytest.approx(1 - base["duty_cycle"], abs=1e-3)

    @FAST
    @given(periodic_signals(), st.integers(1, 10_000))
    def test_time_shift(self, signal, shift):
        x, kind = signal
        base = measure_any(x, FS, ALL)
        moved = measure_any(np.roll(x, shift), FS, ALL)
        # the same samples in another order
        for name in STATS + LEVELS + ("overshoot", "undershoot"):
            assert _close(moved[name], base[name], 1e-12, 1e-12), name
        for name in TIMES:
            # crossings are whole periods apart in both records; only the noise differs per edge
            assert _close(moved[name], base[name], 1e-3), name
        # The window weighs another stretch of the noise, so the noise power estimate scatters:
        # about 0.9 dB RMS on the shortest records drawn here (288 samples, ~50 noise bins).
        assert _close(moved["snr"], base["snr"], 0, 3.0)
        if kind == "trapezoid":  # harmonics dominate: THD, SINAD and SFDR barely see the noise
            for name in ("thd", "sinad", "enob", "sfdr"):
                assert _close(moved[name], base[name], 0, 0.05), name

    @FAST
    @given(periodic_signals(), st.floats(-50, 50))
    def test_dc_offset_moves_only_the_level_measurements(self, signal, offset):
        x, _ = signal
        base = measure_any(x, FS, ALL)
        moved = measure_any(x + offset, FS, ALL)
        for name in ("mean", "top", "base", "min", "max"):
            assert _close(moved[name], base[name] + offset, 1e-9, 1e-9), name
        assert _close(
            moved["rms"], math.sqrt(base["ac_rms"] ** 2 + (base["mean"] + offset) ** 2), 1e-9
        )
        for name in ("ac_rms", "vpp", "amplitude", *TIMES, *RATIOS):
            assert _close(moved[name], base[name], 1e-6, 1e-6), name
