"""Loaders of the core formats, on files with known contents."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from pytest_oscura.captures import LoadSettings, format_for, load_capture, read_header
from pytest_oscura.errors import CaptureError, ConfigError
from tests.conftest import sine


def write_wav(
    path: Path, codes: np.ndarray, width: int, rate_hz: int = 8000, channels: int = 1
) -> None:
    with wave.open(str(path), "wb") as stream:
        stream.setnchannels(channels)
        stream.setsampwidth(width)
        stream.setframerate(rate_hz)
        stream.writeframes(codes.tobytes())


class TestNpy:
    def test_one_dimensional(self, tmp_path: Path) -> None:
        np.save(tmp_path / "a.npy", np.arange(5, dtype=np.int16))
        (capture,) = load_capture(tmp_path / "a.npy", LoadSettings(sample_rate_hz=10.0))
        assert capture.channel == "CH1"
        assert capture.samples.dtype == np.float64
        assert capture.samples.tolist() == [0, 1, 2, 3, 4]
        assert capture.sample_rate_hz == 10.0
        assert capture.units == "V"

    def test_two_dimensional_is_channels_by_samples(self, tmp_path: Path) -> None:
        np.save(tmp_path / "a.npy", np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
        header = read_header(tmp_path / "a.npy")
        assert [c.name for c in header.channels] == ["CH1", "CH2"]
        captures = load_capture(tmp_path / "a.npy", LoadSettings(sample_rate_hz=1.0))
        assert captures[1].samples.tolist() == [4.0, 5.0, 6.0]

    def test_samples_by_channels_is_refused_with_the_fix(self, tmp_path: Path) -> None:
        np.save(tmp_path / "a.npy", np.zeros((1000, 2)))
        with pytest.raises(CaptureError, match=r"a.npy: array is 2-D with 1000 rows.*transpose it"):
            read_header(tmp_path / "a.npy")

    def test_never_unpickles(self, tmp_path: Path) -> None:
        np.save(tmp_path / "a.npy", np.array([object()], dtype=object), allow_pickle=True)
        with pytest.raises(CaptureError, match="not a real numeric sample type"):
            load_capture(tmp_path / "a.npy", LoadSettings(sample_rate_hz=1.0))

    def test_header_reading_does_not_import_numpy(self, tmp_path: Path) -> None:
        import subprocess
        import sys

        np.save(tmp_path / "a.npy", np.zeros((3, 10)))
        code = (
            "import sys; from pathlib import Path; from pytest_oscura.captures import read_header; "
            f"h = read_header(Path({str(tmp_path / 'a.npy')!r})); "
            "print(len(h.channels), 'numpy' in sys.modules)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.split() == ["3", "False"]


class TestNpz:
    def test_documented_keys(self, tmp_path: Path) -> None:
        np.savez_compressed(
            tmp_path / "a.npz",
            samples=np.vstack([sine(), 2 * sine()]),
            sample_rate_hz=np.float64(2e5),
            channels=np.array(["VIN", "VOUT"]),
            units=np.array("mV"),
            operator=np.array("extra keys are ignored"),
        )
        header = read_header(tmp_path / "a.npz")
        assert [c.name for c in header.channels] == ["VIN", "VOUT"]
        vin, vout = load_capture(tmp_path / "a.npz")
        assert (vin.sample_rate_hz, vin.units, vout.channel) == (2e5, "mV", "VOUT")
        np.testing.assert_array_equal(vout.samples, 2 * sine())

    def test_missing_samples_key_lists_what_was_found(self, tmp_path: Path) -> None:
        np.savez(tmp_path / "a.npz", data=np.zeros(3))
        with pytest.raises(CaptureError, match=r"a.npz: no 'samples' array \(keys found: data\)"):
            read_header(tmp_path / "a.npz")

    def test_channel_count_mismatch(self, tmp_path: Path) -> None:
        np.savez(tmp_path / "a.npz", samples=np.zeros((2, 5)), channels=np.array(["A"]))
        with pytest.raises(CaptureError, match="'channels' names 1 channels, 'samples' holds 2"):
            read_header(tmp_path / "a.npz")


class TestCsv:
    def test_scope_export_with_units_row_comments_and_trailing_commas(self, tmp_path: Path) -> None:
        values = sine(n=200)
        rows = "\n".join(f"{i * 2e-6:+.6E},{v:.6f},{-v:.6f}," for i, v in enumerate(values))
        (tmp_path / "a.csv").write_text(
            f"# scope export\n\nx-axis,1,2,\nsecond,Volt,Volt,\n{rows}\n"
        )
        header = read_header(tmp_path / "a.csv")
        assert [c.name for c in header.channels] == ["1", "2"]
        ch1, ch2 = load_capture(tmp_path / "a.csv")
        assert ch1.sample_rate_hz == pytest.approx(5e5, rel=1e-9)
        assert ch1.units == "V"
        np.testing.assert_allclose(ch2.samples, -values, atol=1e-6)

    def test_value_columns_alone_need_a_declared_rate(self, tmp_path: Path) -> None:
        (tmp_path / "a.csv").write_text("1.0;2.0\n3.0;4.0\n")
        assert [c.name for c in read_header(tmp_path / "a.csv").channels] == ["CH1", "CH2"]
        with pytest.raises(CaptureError, match="sample rate unknown"):
            load_capture(tmp_path / "a.csv")
        ch1, _ = load_capture(tmp_path / "a.csv", LoadSettings(sample_rate_hz=1e3))
        assert ch1.samples.tolist() == [1.0, 3.0]

    def test_non_uniform_time_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "a.csv").write_text("Time,CH1\n0,1\n1,2\n3,3\n")
        with pytest.raises(CaptureError, match="not uniformly spaced"):
            load_capture(tmp_path / "a.csv")


class TestWav:
    @pytest.mark.parametrize(
        ("width", "dtype", "full_code", "expected"),
        [
            (1, "u1", 255, 127 / 128),
            (2, "<i2", 32767, 32767 / 32768),
            (4, "<i4", 2**31 - 1, (2**31 - 1) / 2**31),
        ],
    )
    def test_integer_pcm_is_scaled_to_full_scale(
        self, tmp_path: Path, width: int, dtype: str, full_code: int, expected: float
    ) -> None:
        zero = 128 if dtype == "u1" else 0
        write_wav(tmp_path / "a.wav", np.array([zero, full_code], dtype=dtype), width)
        (capture,) = load_capture(tmp_path / "a.wav")
        assert capture.samples.tolist() == pytest.approx([0.0, expected], abs=1e-12)
        assert capture.sample_rate_hz == 8000
        assert capture.units == "FS"

    def test_config_full_scale_gives_volts(self, tmp_path: Path) -> None:
        write_wav(tmp_path / "a.wav", np.array([0, -32768, 16384], dtype="<i2"), 2)
        (capture,) = load_capture(tmp_path / "a.wav", LoadSettings(full_scale=2.5, units="V"))
        assert capture.samples.tolist() == [0.0, -2.5, 1.25]
        assert capture.units == "V"

    def test_stereo(self, tmp_path: Path) -> None:
        write_wav(tmp_path / "a.wav", np.array([0, 16384, 0, -16384], dtype="<i2"), 2, channels=2)
        left, right = load_capture(tmp_path / "a.wav")
        assert left.samples.tolist() == [0.0, 0.0]
        assert right.samples.tolist() == [0.5, -0.5]


class TestSidecarAndResolution:
    def test_file_rate_wins_over_sidecar_and_config(self, tmp_path: Path) -> None:
        np.savez(tmp_path / "a.npz", samples=np.ones(3), sample_rate_hz=np.float64(7.0))
        (tmp_path / "a.npz.json").write_text(json.dumps({"sample_rate_hz": 8.0}))
        (capture,) = load_capture(tmp_path / "a.npz", LoadSettings(sample_rate_hz=9.0))
        assert capture.sample_rate_hz == 7.0

    def test_sidecar_wins_over_config(self, tmp_path: Path) -> None:
        np.save(tmp_path / "a.npy", np.ones(3))
        (tmp_path / "a.npy.json").write_text(json.dumps({"sample_rate_hz": 8.0, "units": "A"}))
        (capture,) = load_capture(tmp_path / "a.npy", LoadSettings(sample_rate_hz=9.0, units="V"))
        assert (capture.sample_rate_hz, capture.units) == (8.0, "A")

    def test_unknown_sidecar_key(self, tmp_path: Path) -> None:
        np.save(tmp_path / "a.npy", np.ones(3))
        (tmp_path / "a.npy.json").write_text(json.dumps({"rate": 8.0}))
        with pytest.raises(ConfigError, match=r"a.npy.json: unknown key 'rate'; allowed: channels"):
            load_capture(tmp_path / "a.npy")

    @pytest.mark.parametrize("bad", [0, -1, "fast", True])
    def test_bad_sidecar_rate(self, tmp_path: Path, bad: object) -> None:
        np.save(tmp_path / "a.npy", np.ones(3))
        (tmp_path / "a.npy.json").write_text(json.dumps({"sample_rate_hz": bad}))
        with pytest.raises(ConfigError, match="sample_rate_hz must be a number > 0"):
            load_capture(tmp_path / "a.npy")


def test_unknown_suffix_is_no_capture(tmp_path: Path) -> None:
    assert format_for(tmp_path / "notes.txt") is None
    assert format_for(tmp_path / "a.npy.json") is None
    assert format_for(tmp_path / "A.NPY") is not None


@pytest.mark.parametrize("dtype", [">i2", ">u4", "<i2"])
def test_stored_integers_are_in_the_machines_byte_order(tmp_path: Path, dtype: str) -> None:
    # The GPU strategy stacks the stored integers and copies their bytes to the device, where
    # CuPy reads them as little-endian whatever the dtype says: a big-endian file must arrive
    # in native order (values unchanged).
    values = np.arange(100) % 7
    np.save(tmp_path / "x.npy", values.astype(dtype))
    (tmp_path / "x.npy.json").write_text('{"sample_rate_hz": 1000}')
    (capture,) = load_capture(tmp_path / "x.npy")
    assert capture.stored.dtype.isnative
    assert capture.stored.dtype.kind == np.dtype(dtype).kind
    assert capture.samples.tolist() == values.astype(float).tolist()
