"""Min/max envelopes and the envelope files stored next to a baseline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pytest_oscura.report.envelope import (
    STORED_COLUMNS,
    Envelope,
    decode_envelope,
    encode_envelope,
    envelope,
    envelope_path,
    read_envelope,
    remove_envelope,
    store_baseline_waveforms,
    store_envelope,
    waveforms_folder,
)


class TestEnvelope:
    def test_keeps_the_extremes_of_every_column(self) -> None:
        x = np.zeros(10_000_000, dtype=np.float32)
        x[1_234_567] = 5.0  # one sample in ten million
        x[9_999_999] = -2.0
        env = envelope(x, 1e6, 1000)
        assert env.columns == 1000
        assert env.samples == 10_000_000
        assert env.high.max() == 5.0
        assert env.high[123] == 5.0  # 1,234,567 // 10,000
        assert env.low[-1] == -2.0
        assert np.count_nonzero(env.high) == 1

    def test_a_short_record_keeps_every_sample(self) -> None:
        x = np.array([1.0, -1.0, 0.5])
        env = envelope(x, 10.0, 720)
        assert env.columns == 3
        assert env.low.tolist() == env.high.tolist() == [1.0, -1.0, 0.5]
        assert env.times().tolist() == [0.0, 0.1, 0.2]

    def test_times_are_the_middle_of_each_column(self) -> None:
        env = envelope(np.arange(100.0), 100.0, 10)
        assert env.times()[0] == pytest.approx(0.045)
        assert env.times()[-1] == pytest.approx(0.945)
        assert env.duration_s == 1.0
        assert env.low.tolist() == list(range(0, 100, 10))

    def test_rejects_zero_columns(self) -> None:
        with pytest.raises(ValueError, match="columns"):
            envelope(np.ones(3), 1.0, 0)


class TestStoredEnvelopes:
    def _envelope(self) -> Envelope:
        rng = np.random.default_rng(0)
        return envelope(rng.standard_normal(100_000), 1e6, STORED_COLUMNS, "V")

    def test_the_folder_sits_next_to_the_baseline(self, tmp_path: Path) -> None:
        baseline = tmp_path / "oscura-baseline.json"
        assert waveforms_folder(baseline) == tmp_path / "oscura-baseline.waveforms"

    def test_round_trip_is_json_float32_and_deterministic(self) -> None:
        value = self._envelope()
        text = encode_envelope("a/b.npy::CH1", value)
        assert text == encode_envelope("a/b.npy::CH1", value)
        assert text.startswith("{")
        assert '"schema": "pytest-oscura-envelope/1"' in text
        assert len(text.encode()) < 8000  # a few kB
        back = decode_envelope(text)
        assert back is not None
        assert back.samples == 100_000
        assert back.sample_rate_hz == 1e6
        assert back.units == "V"
        np.testing.assert_array_equal(back.low, value.low.astype(np.float32))
        np.testing.assert_array_equal(back.high, value.high.astype(np.float32))

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "[]",
            '{"schema": "other"}',
            '{"schema": "pytest-oscura-envelope/1", "columns": 2, "samples": 2, '
            '"sample_rate_hz": 1, "low": "AAAA", "high": "AAAA"}',
            '{"schema": "pytest-oscura-envelope/1", "columns": 1, "samples": 1, '
            '"sample_rate_hz": -1, "low": "AAAAAA==", "high": "AAAAAA=="}',
            '{"schema": "pytest-oscura-envelope/1", "columns": 1, "samples": 1, '
            '"sample_rate_hz": 1, "low": "not base64!", "high": "AAAAAA=="}',
        ],
    )
    def test_anything_else_is_no_envelope(self, text: str) -> None:
        assert decode_envelope(text) is None

    def test_file_names_are_flat_safe_and_distinct(self, tmp_path: Path) -> None:
        keys = ["a/b.npy::CH1", "a_b.npy::CH1", "a/b.npy::C1#3", "x" * 300 + "::CH1", "ü/ß::Ω"]
        paths = [envelope_path(tmp_path, key) for key in keys]
        assert len(set(paths)) == len(keys)
        for path in paths:
            assert path.parent == tmp_path
            assert len(path.name) < 120
            assert all(c.isalnum() or c in "._-" for c in path.name)

    def test_store_writes_only_what_changed(self, tmp_path: Path) -> None:
        value = self._envelope()
        assert store_envelope(tmp_path / "w", "k::CH1", value) is True
        first = envelope_path(tmp_path / "w", "k::CH1").read_bytes()
        assert store_envelope(tmp_path / "w", "k::CH1", value) is False
        assert envelope_path(tmp_path / "w", "k::CH1").read_bytes() == first
        back = read_envelope(tmp_path / "w", "k::CH1")
        assert back is not None
        assert back.columns == STORED_COLUMNS
        assert read_envelope(tmp_path / "w", "other::CH1") is None
        assert remove_envelope(tmp_path / "w", "k::CH1") is True
        assert remove_envelope(tmp_path / "w", "k::CH1") is False

    def test_store_baseline_waveforms_reads_each_capture_again(self, tmp_path: Path) -> None:
        root = tmp_path / "caps"
        root.mkdir()
        np.save(root / "a.npy", np.sin(np.arange(5000) / 10.0))
        (root / "a.npy.json").write_text('{"sample_rate_hz": 1000.0}')
        folder = tmp_path / "w"
        done = store_baseline_waveforms(root, None, folder, ["a.npy::CH1", "gone.npy::CH1"])
        assert (done.written, done.unchanged, len(done.unreadable)) == (1, 0, 1)
        assert "gone.npy" in done.unreadable[0]
        again = store_baseline_waveforms(root, None, folder, ["a.npy::CH1"], ["old.npy::CH1"])
        assert (again.written, again.unchanged, again.removed) == (0, 1, 0)
        stored = read_envelope(folder, "a.npy::CH1")
        assert stored is not None
        assert stored.sample_rate_hz == 1000.0
