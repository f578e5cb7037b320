"""Bad input per instrument format: each ends in a one-line CaptureError, nothing crashes and
nothing huge is allocated. All files are synthetic, written to ``tmp_path``."""

from __future__ import annotations

import importlib.util
import struct
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from pytest_oscura.captures import (
    CaptureFormat,
    LoadSettings,
    _limits,
    format_for,
    load_capture,
    read_header,
)
from pytest_oscura.errors import CaptureError

HAS_RIGOLWFM = importlib.util.find_spec("RigolWFM") is not None


def _refused(path: Path, match: str, *, at_collection: bool = True) -> None:
    """Both read_header (collection) and load_capture refuse with a one-line reason."""
    calls: list[Callable[[], object]] = [lambda: load_capture(path)]
    if at_collection:
        calls.append(lambda: read_header(path))
    for call in calls:
        with pytest.raises(CaptureError, match=match) as info:
            call()
        assert "\n" not in str(info.value)
        assert str(info.value).startswith(str(path))


# --- sigrok -----------------------------------------------------------------------------------

METADATA_V2 = (
    "[global]\nsigrok version=0.5.0\n\n[device 1]\ncapturefile=logic-1\ntotal probes=8\n"
    "samplerate=1 MHz\ntotal analog=1\nprobe1=clk\nprobe2=data\nanalog9=V\nunitsize=1\n"
)


def _sr(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _good_sr(tmp_path: Path) -> dict[str, bytes | str]:
    logic = bytes([0b01, 0b10] * 50)
    analog = np.linspace(0, 1, 100, dtype="<f4").tobytes()
    return {
        "version": "2",
        "metadata": METADATA_V2,
        "logic-1-1": logic,
        "analog-1-9-1": analog,
    }


class TestSigrok:
    def test_good_synthetic_file_loads(self, tmp_path: Path) -> None:
        path = _sr(tmp_path / "ok.sr", _good_sr(tmp_path))
        header = read_header(path)
        assert [(c.name, c.kind) for c in header.channels] == [
            ("clk", "logic"),
            ("data", "logic"),
            ("V", "analog"),
        ]
        clk, data, volts = load_capture(path)
        assert clk.sample_rate_hz == 1e6
        assert clk.samples[:4].tolist() == [1, 0, 1, 0]
        assert data.samples[:4].tolist() == [0, 1, 0, 1]
        assert volts.samples.size == 100

    @pytest.mark.parametrize("member", ["version", "metadata", "logic-1-1", "analog-1-9-1"])
    def test_missing_member(self, tmp_path: Path, member: str) -> None:
        members = _good_sr(tmp_path)
        del members[member]
        _refused(_sr(tmp_path / "missing.sr", members), "missing|no logic|no analog")

    def test_missing_middle_chunk(self, tmp_path: Path) -> None:
        members = _good_sr(tmp_path)
        members["logic-1-3"] = members["logic-1-1"]
        _refused(_sr(tmp_path / "gap.sr", members), "chunk logic-1-2 missing")

    def test_not_a_zip(self, tmp_path: Path) -> None:
        path = tmp_path / "junk.sr"
        path.write_bytes(b"this is not a zip archive at all" * 4)
        _refused(path, "not a sigrok session")

    def test_truncated_zip(self, tmp_path: Path) -> None:
        data = _sr(tmp_path / "full.sr", _good_sr(tmp_path)).read_bytes()
        path = tmp_path / "cut.sr"
        path.write_bytes(data[: len(data) // 2])
        _refused(path, "not a sigrok session")

    def test_corrupt_member_data(self, tmp_path: Path) -> None:
        members = _good_sr(tmp_path)
        members["logic-1-1"] = bytes(range(256)) * 64
        data = bytearray(_sr(tmp_path / "ok.sr", members).read_bytes())
        start = data.find(b"logic-1-1") + len(b"logic-1-1")  # first local header's payload
        data[start + 10 : start + 60] = b"\xff" * 50
        path = tmp_path / "corrupt.sr"
        path.write_bytes(bytes(data))
        _refused(path, "corrupt", at_collection=False)

    @pytest.mark.parametrize(
        ("line", "match"),
        [
            ("samplerate=-5 kHz", "samplerate"),
            ("samplerate=0 Hz", "not positive"),
            ("samplerate=fast", "samplerate"),
            ("samplerate=3 parsecs", "unit"),
            ("unitsize=0", "unitsize"),
            ("total probes=99999999", "absurd"),
        ],
    )
    def test_absurd_metadata(self, tmp_path: Path, line: str, match: str) -> None:
        members = _good_sr(tmp_path)
        key = line.split("=")[0]
        text = "\n".join(
            line if row.startswith(key + "=") else row for row in METADATA_V2.splitlines()
        )
        members["metadata"] = text
        _refused(_sr(tmp_path / "absurd.sr", members), match)

    def test_millihertz_is_read_as_stored(self, tmp_path: Path) -> None:
        members = _good_sr(tmp_path)
        members["metadata"] = METADATA_V2.replace("1 MHz", "2 mHz")
        (clk, *_) = load_capture(_sr(tmp_path / "mhz.sr", members))
        assert clk.sample_rate_hz == pytest.approx(0.002)

    def test_zip_bomb_declared_size_refused_before_decompressing(self, tmp_path: Path) -> None:
        path = _sr(tmp_path / "bomb.sr", _good_sr(tmp_path))
        data = bytearray(path.read_bytes())
        # Forge the central directory's uncompressed size of logic-1-1 to 4 GiB.
        central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"logic-1-1") + 1)
        assert central > 0
        data[central + 24 : central + 28] = struct.pack("<I", 0xFFFFFFF0)
        path.write_bytes(bytes(data))
        tracemalloc.start()
        try:
            _refused(path, "zip bomb")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 16 << 20

    def test_zip_bomb_real_ratio_refused(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(_limits, "MAX_MEMBER_BYTES", 4 << 20)
        members = _good_sr(tmp_path)
        members["logic-1-1"] = bytes(32 << 20)  # 32 MiB of zeros: deflates to ~32 KiB
        _refused(_sr(tmp_path / "bomb2.sr", members), "zip bomb")

    def test_decoded_size_is_capped(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(_limits, "MAX_DECODED_BYTES", 1000)
        _refused(_sr(tmp_path / "big.sr", _good_sr(tmp_path)), "limit", at_collection=False)

    def test_wrong_magic_with_sr_suffix(self, tmp_path: Path) -> None:
        path = tmp_path / "npy.sr"
        np.save(tmp_path / "x.npy", np.zeros(4))
        path.write_bytes((tmp_path / "x.npy").read_bytes())
        _refused(path, "not a sigrok session")


# --- Tektronix ISF ----------------------------------------------------------------------------


def _isf(path: Path, values: np.ndarray, *, xunit: str = "s", extra: str = "", fmt: str = "RI"):
    payload = values.astype(">i2" if fmt == "RI" else ">f4").tobytes()
    width = 2 if fmt == "RI" else 4
    preamble = (
        f":WFMPRE:BYT_NR {width};BIT_NR {8 * width};ENCDG BIN;BN_FMT {fmt};BYT_OR MSB;"
        f'WFID "Ch1, DC coupling, 1.0V/div";NR_PT {values.size};PT_FMT Y;XUNIT "{xunit}";'
        f'XINCR 1.0E-6;XZERO 0.0;PT_OFF 0;YUNIT "V";YMULT 0.5;YOFF 2;YZERO 1.0{extra};'
    )
    length = str(len(payload))
    path.write_bytes(
        preamble.encode() + f":CURVE #{len(length)}{length}".encode() + payload + b"\n"
    )
    return path


class TestIsf:
    def test_good_synthetic_file_loads(self, tmp_path: Path) -> None:
        path = _isf(tmp_path / "ok.isf", np.array([2, 4, 35, 6]))  # 35 == ord("#")
        (capture,) = load_capture(path)
        assert capture.channel == "CH1"
        assert capture.sample_rate_hz == pytest.approx(1e6)
        assert capture.samples.tolist() == [1.0, 2.0, 17.5, 3.0]

    def test_float_payload(self, tmp_path: Path) -> None:
        path = _isf(tmp_path / "fp.isf", np.array([0.5, 35.0]), fmt="FP")
        assert load_capture(path)[0].samples.tolist() == [0.25, 17.5]

    def test_spectrum_refused(self, tmp_path: Path) -> None:
        _refused(_isf(tmp_path / "rf.isf", np.arange(8), xunit="Hz"), "frequency-domain")

    def test_truncated_payload(self, tmp_path: Path) -> None:
        data = _isf(tmp_path / "ok.isf", np.arange(100)).read_bytes()
        path = tmp_path / "cut.isf"
        path.write_bytes(data[:-60])
        _refused(path, "truncated file")

    def test_declared_length_far_beyond_file(self, tmp_path: Path) -> None:
        data = _isf(tmp_path / "ok.isf", np.arange(4)).read_bytes()
        path = tmp_path / "huge.isf"
        path.write_bytes(data.replace(b"#18", b"#9999999999"))
        _refused(path, "truncated file")

    def test_corrupt_block_header(self, tmp_path: Path) -> None:
        data = _isf(tmp_path / "ok.isf", np.arange(4)).read_bytes()
        path = tmp_path / "bad.isf"
        path.write_bytes(data.replace(b"#18", b"#x8"))
        _refused(path, "block header")

    def test_nr_pt_disagrees(self, tmp_path: Path) -> None:
        data = _isf(tmp_path / "ok.isf", np.arange(4)).read_bytes()
        path = tmp_path / "nrpt.isf"
        path.write_bytes(data.replace(b"NR_PT 4", b"NR_PT 7"))
        _refused(path, "NR_PT", at_collection=False)

    @pytest.mark.parametrize("xincr", ["-1.0E-6", "0", "abc"])
    def test_absurd_xincr(self, tmp_path: Path, xincr: str) -> None:
        data = _isf(tmp_path / "ok.isf", np.arange(4)).read_bytes()
        path = tmp_path / "xincr.isf"
        path.write_bytes(data.replace(b"XINCR 1.0E-6", f"XINCR {xincr}".encode()))
        _refused(path, "XINCR", at_collection=False)

    def test_no_curve(self, tmp_path: Path) -> None:
        path = tmp_path / "none.isf"
        path.write_bytes(b":WFMPRE:BYT_NR 2;NR_PT 4;")
        _refused(path, "no :CURVE")


# --- Agilent ALB --------------------------------------------------------------------------------

ALB_HEADER = (
    "AGILENT_BINARY_DATA\nHEADER_BEGIN\n"
    'TABLE_BEGIN "Scope Analog Ch1" ANALOG\nBYTE_ORDER=BIG_ENDIAN\nNUM_ROWS={rows}\n'
    'COLUMN "Ch1" VALUE NBYTES=2 INTEGER WIDTH_BITS=16\nX_INC=1e-3\nX_ORG=0\nX_REF=0\n'
    "Y_INC=0.5\nY_ORG=1\nY_REF=0\nTABLE_END\nHEADER_END\n"
)


class TestAlb:
    def test_good_synthetic_file_loads(self, tmp_path: Path) -> None:
        path = tmp_path / "ok.alb"
        path.write_bytes(ALB_HEADER.format(rows=3).encode() + np.array([0, 2, -2], ">i2").tobytes())
        (capture,) = load_capture(path)
        assert capture.samples.tolist() == [1.0, 2.0, 0.0]
        assert capture.sample_rate_hz == pytest.approx(1e3)

    def test_declared_rows_far_beyond_file(self, tmp_path: Path) -> None:
        path = tmp_path / "huge.alb"
        path.write_bytes(ALB_HEADER.format(rows=10**12).encode() + b"\x00\x01")
        _refused(path, "truncated file")

    def test_no_header_end(self, tmp_path: Path) -> None:
        path = tmp_path / "cut.alb"
        path.write_bytes(ALB_HEADER.format(rows=3).encode()[:120])
        _refused(path, "HEADER_END")

    def test_wrong_magic(self, tmp_path: Path) -> None:
        path = tmp_path / "x.alb"
        path.write_bytes(b"RIFF" + bytes(100))
        _refused(path, "bad magic")


# --- VCD ----------------------------------------------------------------------------------------

VCD = (
    "$timescale 1 ns $end\n$scope module top $end\n$var wire 1 ! clk $end\n"
    "$var wire 8 # bus $end\n$var real 1 % level $end\n$upscope $end\n$enddefinitions $end\n"
    "$dumpvars\n0!\nb0 #\nr0.5 %\n$end\n#0\n#10\n1!\n#20\n0!\nr1.5 %\n#30\n1!\n#40\n"
)


class TestVcd:
    def test_good_synthetic_file_loads(self, tmp_path: Path) -> None:
        path = tmp_path / "ok.vcd"
        path.write_text(VCD)
        header = read_header(path)
        assert [(c.name, c.kind) for c in header.channels] == [
            ("clk", "logic"),
            ("level", "analog"),
        ]
        clk, level = load_capture(path)
        assert clk.sample_rate_hz == pytest.approx(1e8)  # gcd 10 ns, not the 1 ns timescale
        assert clk.samples.tolist() == [0, 1, 0, 1, 1]
        assert level.samples.tolist() == [0.5, 0.5, 1.5, 1.5, 1.5]

    def test_values_before_the_first_time_stamp_are_at_time_zero(self, tmp_path: Path) -> None:
        # Many writers put $dumpvars before any "#": its values are the initial ones, at 0.
        path = tmp_path / "start.vcd"
        path.write_text(
            "$timescale 1ns $end\n$var wire 1 ! a $end\n$enddefinitions $end\n"
            "$dumpvars\n1!\n$end\n#5\n0!\n#10\n1!\n#15\n"
        )
        (a,) = load_capture(path)
        assert a.sample_rate_hz == pytest.approx(2e8)  # gcd of 0, 5, 10, 15 ns
        assert a.samples.tolist() == [1, 0, 1, 1]

    def test_truncated_header(self, tmp_path: Path) -> None:
        path = tmp_path / "cut.vcd"
        path.write_text(VCD[:80])
        _refused(path, "truncated file")

    def test_not_vcd(self, tmp_path: Path) -> None:
        path = tmp_path / "x.vcd"
        path.write_text("hello world\n")
        _refused(path, "not a VCD")

    def test_absurd_time_stamp_is_capped(self, tmp_path: Path) -> None:
        path = tmp_path / "long.vcd"
        path.write_text(VCD + "#1\n#999999999999999\n".replace("#1\n", ""))
        tracemalloc.start()
        try:
            _refused(path, "limit", at_collection=False)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 16 << 20

    def test_backwards_time(self, tmp_path: Path) -> None:
        path = tmp_path / "back.vcd"
        path.write_text(VCD + "#5\n")
        _refused(path, "backwards", at_collection=False)

    def test_bad_timescale(self, tmp_path: Path) -> None:
        path = tmp_path / "ts.vcd"
        path.write_text(VCD.replace("1 ns", "7 parsecs"))
        _refused(path, "timescale")


# --- CSV dialects -------------------------------------------------------------------------------


class TestCsvDialects:
    def test_agilent_trailing_empty_row_dropped(self, tmp_path: Path) -> None:
        path = tmp_path / "a.csv"
        path.write_text("x-axis,1,2\nsecond,Volt,Volt\n0,1,2\n+1E-3,3,4\n+2E-3,,\n")
        ch1, ch2 = load_capture(path)
        assert (ch1.channel, ch2.channel) == ("1", "2")
        assert ch1.samples.tolist() == [1, 3]
        assert ch1.sample_rate_hz == pytest.approx(1e3)

    def test_a_bad_value_names_its_data_row_and_column(self, tmp_path: Path) -> None:
        path = tmp_path / "v.csv"
        path.write_text("Time,CH1\n0,1\n1e-3,abc\n2e-3,3\n")
        _refused(path, "bad data row 2, column 2: 'abc' is not a number", at_collection=False)

    def test_a_short_row_is_a_bad_data_row(self, tmp_path: Path) -> None:
        path = tmp_path / "w.csv"
        path.write_text("Time,CH1,CH2\n0,1,1\n1e-3,2,2\n2e-3,3\n4e-3,3,3\n")
        _refused(path, "bad data row: invalid column index 2", at_collection=False)

    def test_empty_row_in_the_middle_is_an_error(self, tmp_path: Path) -> None:
        path = tmp_path / "m.csv"
        path.write_text("x-axis,1\nsecond,Volt\n0,1\n1,\n2,3\n")
        _refused(path, "bad data row", at_collection=False)

    def test_rigol_start_increment(self, tmp_path: Path) -> None:
        path = tmp_path / "r.csv"
        path.write_text(
            "X,CH1,CH2,Start,Increment,\nSequence,Volt,Volt,-1e-3,2e-6,\n22,1,2,\n23,3,4,\n"
        )
        ch1, _ = load_capture(path)
        assert ch1.sample_rate_hz == pytest.approx(5e5)
        assert ch1.metadata["t0_s"] == pytest.approx(-1e-3)

    def test_rigol_bad_increment(self, tmp_path: Path) -> None:
        path = tmp_path / "r.csv"
        path.write_text("X,CH1,Start,Increment,\nSequence,Volt,0,-2e-6,\n0,1,\n1,2,\n")
        _refused(path, "Increment")

    def test_unit_in_header(self, tmp_path: Path) -> None:
        path = tmp_path / "d.csv"
        path.write_text("X,CH 1 (V),CH 2 (mV)\n0,1,2\n1e-3,3,4\n")
        ch1, ch2 = load_capture(path)
        assert (ch1.channel, ch1.units, ch2.channel, ch2.units) == ("CH 1", "V", "CH 2", "mV")

    def test_scopy_comment_rate_and_sample_column(self, tmp_path: Path) -> None:
        path = tmp_path / "s.csv"
        path.write_text(
            ";Scopy version,1.4\n;Sample rate,1000\n;Tool,Oscilloscope\n"
            "Sample,CH1(V),CH2(V)\n0,1,2\n1,3,4\n"
        )
        ch1, _ = load_capture(path)
        assert ch1.sample_rate_hz == pytest.approx(1000)
        assert ch1.samples.tolist() == [1, 3]


# --- vendor binaries (own header readers; RigolWFM only for samples) ----------------------------


def _agxx(path: Path, n_waveforms: int = 1, points: int = 4, declared: int | None = None) -> Path:
    waveforms = b""
    for i in range(n_waveforms):
        header = struct.pack("<iiiii", 140, 1, 1, points, 1)
        header += struct.pack("<fdddii", 1e-3, 0.0, 1e-6, 0.0, 2, 1)
        header += b"\0" * 16 + b"\0" * 16 + b"\0" * 24 + f"{i + 1}".encode().ljust(16, b"\0")
        header += struct.pack("<dI", 0.0, 0)
        data = struct.pack("<ihhi", 12, 1, 4, points * 4) + np.arange(points, dtype="<f4").tobytes()
        waveforms += header + data
    size = 12 + len(waveforms)
    path.write_bytes(b"AG10" + struct.pack("<ii", declared or size, n_waveforms) + waveforms)
    return path


class TestVendorBinaries:
    def test_keysight_header_names_channels(self, tmp_path: Path) -> None:
        path = _agxx(tmp_path / "k.bin", 2)
        chosen = format_for(path)
        assert chosen is not None
        assert chosen.name == "keysight-bin"
        assert [c.name for c in read_header(path).channels] == ["CH1", "CH2"]

    def test_keysight_size_field_disagreeing_is_a_warning(self, tmp_path: Path) -> None:
        # The payload the header describes is complete: read, with the disagreement reported.
        path = _agxx(tmp_path / "k.bin", declared=10**9)
        (capture,) = load_capture(path)
        assert capture.samples.tolist() == [0.0, 1.0, 2.0, 3.0]
        assert capture.warnings[0].startswith("header declares a 1000000000-byte file")

    def test_keysight_absurd_waveform_count(self, tmp_path: Path) -> None:
        path = _agxx(tmp_path / "k.bin")
        data = bytearray(path.read_bytes())
        data[8:12] = struct.pack("<i", -3)
        path.write_bytes(bytes(data))
        _refused(path, "declares -3 waveforms")

    def test_keysight_truncated(self, tmp_path: Path) -> None:
        data = _agxx(tmp_path / "k.bin", points=100).read_bytes()
        path = tmp_path / "cut.bin"
        path.write_bytes(data[:200])
        _refused(path, "file has 200 bytes|truncated")

    def test_unknown_bin_magic(self, tmp_path: Path) -> None:
        path = tmp_path / "x.bin"
        path.write_bytes(b"ZZ99" + bytes(200))
        _refused(path, "unknown .bin signature")

    def test_unknown_wfm_magic(self, tmp_path: Path) -> None:
        path = tmp_path / "x.wfm"
        path.write_bytes(b"\x13\x37\x00\x00" + bytes(400))
        _refused(path, "unreadable waveform|needs the")

    def test_lecroy_truncated_and_absurd(self, tmp_path: Path) -> None:
        desc = bytearray(346)
        desc[0:8] = b"WAVEDESC"
        desc[16:26] = b"LECROY_2_3"
        struct.pack_into("<HH", desc, 32, 1, 1)  # word samples, little-endian
        struct.pack_into("<i", desc, 36, 346)
        struct.pack_into("<i", desc, 60, 2 * 10**9)  # WAVE_ARRAY_1 far beyond the file
        struct.pack_into("<i", desc, 116, 10**9)
        path = tmp_path / "x.trc"
        path.write_bytes(bytes(desc))
        _refused(path, "truncated file")
        struct.pack_into("<i", desc, 40, -5)
        path.write_bytes(bytes(desc))
        _refused(path, "negative block length")

    def test_numbered_suffix_without_wavedesc_is_not_a_capture(self, tmp_path: Path) -> None:
        path = tmp_path / "backup.001"
        path.write_bytes(b"just some file")
        assert format_for(path) is None

    def test_tek_wfm_truncated(self, tmp_path: Path) -> None:
        path = tmp_path / "t.wfm"
        path.write_bytes(b"\x0f\x0f:WFM#003" + bytes(10))
        _refused(path, "truncated file")

    @pytest.mark.skipif(not HAS_RIGOLWFM, reason="RigolWFM not installed ([formats])")
    def test_rigol_wfm_garbage_after_magic(self, tmp_path: Path) -> None:
        path = tmp_path / "r.wfm"
        path.write_bytes(bytes.fromhex("a5a50000") + b"\xff" * 300)
        _refused(path, "unreadable waveform|limit|no samples")

    def test_missing_library_names_the_extra(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import builtins

        real_import = builtins.__import__

        def no_rigolwfm(name: str, *args: object, **kwargs: object) -> object:
            if name.startswith("RigolWFM"):
                raise ImportError(name)
            return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(builtins, "__import__", no_rigolwfm)
        monkeypatch.setattr(
            "importlib.import_module",
            lambda name: no_rigolwfm(name),
        )
        path = tmp_path / "r.wfm"
        path.write_bytes(bytes.fromhex("a5a50000") + bytes(300))
        _refused(path, r"pytest-oscura\[formats\]")


# --- HDF5 / TDMS (optional libraries) ------------------------------------------------------------


class TestHdf5:
    def test_not_hdf5(self, tmp_path: Path) -> None:
        pytest.importorskip("h5py")
        path = tmp_path / "x.h5"
        path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(50))
        _refused(path, "not a readable HDF5")

    def test_keysight_layout_segments(self, tmp_path: Path) -> None:
        h5py = pytest.importorskip("h5py")
        path = tmp_path / "k.h5"
        with h5py.File(path, "w") as handle:
            group = handle.create_group("Waveforms/Channel 1")
            group.attrs["XInc"] = 1e-6
            group.attrs["NumSegments"] = 3
            group.create_dataset("Channel 1Data", data=np.arange(12, dtype=np.float32))
        (header,) = read_header(path).channels
        assert (header.name, header.segments) == ("CH1", 3)
        (capture,) = load_capture(path)
        assert capture.samples.shape == (3, 4)
        assert capture.sample_rate_hz == pytest.approx(1e6)

    def test_negative_step(self, tmp_path: Path) -> None:
        h5py = pytest.importorskip("h5py")
        path = tmp_path / "g.h5"
        with h5py.File(path, "w") as handle:
            handle["sig"] = np.zeros(4)
            handle["sig"].attrs["dt"] = -1.0
        _refused(path, "positive step", at_collection=False)


class TestTdms:
    def test_not_tdms(self, tmp_path: Path) -> None:
        pytest.importorskip("nptdms")
        path = tmp_path / "x.tdms"
        path.write_bytes(b"TDSm" + bytes(10))
        _refused(path, "unreadable TDMS|no numeric")

    def test_round_trip(self, tmp_path: Path) -> None:
        nptdms = pytest.importorskip("nptdms")
        path = tmp_path / "x.tdms"
        with nptdms.TdmsWriter(path) as writer:
            writer.write_segment(
                [nptdms.ChannelObject("G", "V", np.ones(8), properties={"wf_increment": 1e-3})]
            )
        (capture,) = load_capture(path)
        assert capture.channel == "G.V"
        assert capture.sample_rate_hz == pytest.approx(1e3)


# --- entry points ---------------------------------------------------------------------------------


class _EntryPoint:
    def __init__(self, name: str, obj: object) -> None:
        self.name, self.value, self._obj = name, f"thirdparty:{name}", obj

    def load(self) -> object:
        if isinstance(self._obj, Exception):
            raise self._obj
        return self._obj


def test_entry_point_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    from pytest_oscura import captures

    fmt = CaptureFormat(
        "xyz",
        (".xyz",),
        lambda p: captures.CaptureHeader((captures.ChannelHeader("A"),)),
        lambda p, s: [captures.RawChannel("A", np.ones(3), 10.0)],
    )
    eps = [_EntryPoint("b", lambda: [fmt]), _EntryPoint("a", fmt)]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: eps)
    captures._entry_point_formats.cache_clear()
    try:
        assert [f.name for f in captures.all_formats()[-2:]] == ["xyz", "xyz"]
        path = tmp_path / "c.xyz"
        path.write_bytes(b"")
        assert format_for(path) is fmt
        assert load_capture(path, LoadSettings())[0].samples.tolist() == [1, 1, 1]
    finally:
        captures._entry_point_formats.cache_clear()


def test_broken_entry_point_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    from pytest_oscura import captures
    from pytest_oscura.errors import ConfigError

    monkeypatch.setattr(
        importlib.metadata, "entry_points", lambda group: [_EntryPoint("bad", ImportError("x"))]
    )
    captures._entry_point_formats.cache_clear()
    try:
        with pytest.raises(ConfigError, match="'bad'"):
            captures.all_formats()
    finally:
        captures._entry_point_formats.cache_clear()
