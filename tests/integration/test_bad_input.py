"""Bad captures: each gets its own one-line item error; every other item runs."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tests.conftest import sine
from tests.integration.conftest import XDIST_MODES, make_suite, read_json


def write_bad_captures(folder) -> dict[str, str]:
    """Bad files in ``folder`` → the text their error line must contain."""
    folder.mkdir()
    (folder / "empty.npy").write_bytes(b"")
    good = folder / "truncated.npy"
    np.save(good, np.arange(1000.0))
    good.write_bytes(good.read_bytes()[:400])
    (folder / "corrupt.npz").write_bytes(os.urandom(256))
    np.save(folder / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(folder / "text.npy", np.array(["1.0", "2.0"]))
    np.save(folder / "nan.npy", np.full(100, np.nan))
    np.save(folder / "zero.npy", np.zeros(0))
    (folder / "junk.csv").write_text("Time,CH1\n0,1\n1e-5,abc\n")
    (folder / "header_only.csv").write_text("Time,CH1\ns,V\n")
    (folder / "notwav.wav").write_bytes(b"RIFX" + os.urandom(40))
    np.save(folder / "vanishes.npy", sine())
    return {
        "empty.npy": "empty.npy: not an NPY file",
        "truncated.npy": "truncated.npy: truncated",
        "corrupt.npz": "corrupt.npz: not a valid .npz archive",
        "objects.npy": "objects.npy: array has dtype '|O', not a real numeric sample type",
        "text.npy": "text.npy: array has dtype '<U3', not a real numeric sample type",
        "nan.npy": "nan.npy channel CH1: 100 of 100 samples are NaN or infinite",
        "zero.npy": "zero.npy channel CH1: no samples (zero-length capture)",
        "junk.csv": "junk.csv: bad data row",
        "header_only.csv": "header_only.csv: no numeric data rows",
        "notwav.wav": "notwav.wav: not a RIFF/WAVE file",
        "vanishes.npy": "vanishes.npy: no such file or directory",
    }


@pytest.mark.parametrize("xdist", XDIST_MODES)
def test_each_bad_capture_errors_alone(pytester: pytest.Pytester, xdist: list[str]) -> None:
    caps = make_suite(pytester.path / "caps")
    expected = write_bad_captures(caps / "bad")
    # The file disappears between collection and its run: an unreadable capture at run time.
    pytester.makeconftest(
        """
        import pathlib
        import pytest

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtest_setup(item):
            if item.path.name == "vanishes.npy":
                item.path.unlink(missing_ok=True)
        """
    )
    result = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-update-baseline", "--oscura-report", "r.json", *xdist
    )
    result.assert_outcomes(passed=5, errors=len(expected))
    output = result.stdout.str()
    for text in expected.values():
        assert text in output, text
    assert "Traceback" not in output
    baseline = read_json(caps / "oscura-baseline.json")["captures"]
    assert sorted(baseline) == [
        "psu/rail.npy::CH1",
        "sig/pair.npz::CLK",
        "sig/pair.npz::DATA",
        "sig/scope.csv::CH1",
        "sig/tone.wav::CH1",
    ]
    errors = {
        c["nodeid"].split("/")[-1].split("::")[0]: c
        for c in read_json(pytester.path / "r.json")["captures"]
        if c["outcome"] == "error"
    }
    assert sorted(errors) == sorted(expected)
    for name, text in expected.items():
        assert text in errors[name]["error"]
        assert "\n" not in errors[name]["error"]
    assert not list((caps).glob(".*tmp")), "no temp file is left behind"


def test_unknown_sample_rate_says_where_to_declare_it(pytester: pytest.Pytester) -> None:
    caps = pytester.mkdir("caps")
    np.save(caps / "raw.npy", sine())
    result = pytester.runpytest("--oscura-captures", "caps")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*caps/raw.npy: sample rate unknown; declare sample_rate_hz in raw.npy.json or in oscura.toml*"
        ]
    )


def test_sidecar_gives_rate_names_and_units(pytester: pytest.Pytester) -> None:
    caps = pytester.mkdir("caps")
    np.save(caps / "pair.npy", np.vstack([sine(), sine()]))
    (caps / "pair.npy.json").write_text(
        '{"sample_rate_hz": 1e5, "channels": ["VIN", "VOUT"], "units": "mV"}'
    )
    result = pytester.runpytest("--oscura-captures", "caps", "--co", "-q")
    result.stdout.fnmatch_lines(["caps/pair.npy::VIN", "caps/pair.npy::VOUT"])
    pytester.runpytest("--oscura-captures", "caps", "--oscura-update-baseline").assert_outcomes(
        passed=2
    )
    entry = read_json(caps / "oscura-baseline.json")["captures"]["pair.npy::VIN"]
    assert entry["units"] == "mV"


def test_bad_suite_config_is_a_usage_error_naming_file_and_key(pytester: pytest.Pytester) -> None:
    caps = make_suite(pytester.path / "caps")
    (caps / "oscura.toml").write_text("[defaults]\nsample_rate = 1e6\n")
    result = pytester.runpytest("--oscura-captures", "caps")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*caps/oscura.toml: unknown key 'defaults.sample_rate'; allowed: *sample_rate_hz*"]
    )


def test_unreadable_baseline_is_a_usage_error(pytester: pytest.Pytester) -> None:
    caps = make_suite(pytester.path / "caps")
    (caps / "oscura-baseline.json").write_text("{not json")
    result = pytester.runpytest("--oscura-captures", "caps")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*oscura-baseline.json: invalid JSON*--oscura-update-baseline*"])


def test_missing_captures_folder_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--oscura-captures", "nowhere")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--oscura-captures nowhere: no such directory*"])


def write_hostile_captures(folder) -> dict[str, str]:
    """Issue 12's hostile files (the capture-file rows) → the text their error must contain."""
    import struct
    import zipfile

    folder.mkdir()
    for name, sidecar in (
        ("utf8.npy", b'{"units": "\xff"}'),
        ("deep.npy", b"[" * 100_000 + b"]" * 100_000),
        ("bigint.npy", b'{"sample_rate_hz": ' + b"9" * 5000 + b"}"),
    ):
        np.save(folder / name, sine())
        (folder / f"{name}.json").write_bytes(sidecar)
    inflate = folder / "inflate.npz"
    np.savez_compressed(inflate, samples=sine(), sample_rate_hz=np.float64(1e5))
    data = bytearray(inflate.read_bytes())
    with zipfile.ZipFile(inflate) as archive:
        offset = archive.getinfo("samples.npy").header_offset
    name_length, extra_length = struct.unpack("<HH", data[offset + 26 : offset + 30])
    start = offset + 30 + name_length + extra_length
    data[start : start + 16] = b"\xff" * 16
    inflate.write_bytes(bytes(data))
    (folder / "span.vcd").write_text(
        "$timescale 1 ns $end\n$var wire 1 ! a $end\n$enddefinitions $end\n"
        "#0\n0!\n#1\n1!\n#20000000\n"
    )
    columns = 1_000_000
    (folder / "wide.csv").write_text(
        "Time," + ",".join(f"C{k}" for k in range(columns)) + "\n0," + "1," * columns + "\n"
    )
    frames = np.arange(100, dtype="<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, 8000, 32000, 60000, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 400)
    (folder / "block.wav").write_bytes(b"RIFF" + struct.pack("<I", 436) + body + frames)
    np.savez(
        folder / "dupes.npz", samples=np.vstack([sine(), sine()]), channels=np.array(["A", "A"])
    )
    (folder / "nan_time.csv").write_text("Time,CH1\n0,1\n1e-5,2\nnan,3\n3e-5,4\n")
    np.savez(
        folder / "sep.npz", samples=np.vstack([sine(), sine()]), channels=np.array(["A", "B::C"])
    )
    return {
        "utf8.npy": "utf8.npy.json: not UTF-8 text (byte 0xff at offset 11)",
        "deep.npy": "deep.npy.json: invalid JSON (nested too deeply)",
        "bigint.npy": "bigint.npy.json: invalid JSON (a number too long to convert)",
        "inflate.npz": "inflate.npz: member 'samples' is corrupt (zlib.error:",
        "span.vcd": "span.vcd: time stamps #0…#20000000 span 20000001 samples per channel",
        "wide.csv": "wide.csv: line 1 has 1000001 columns, above the limit of 4096 channels",
        "block.wav": "block.wav: header declares 60000-byte frames for 1 channel(s)",
        "dupes.npz": "dupes.npz: duplicate channel name 'A'",
        "nan_time.csv": "nan_time.csv: time column holds 1 NaN or infinite values",
        "sep.npz": "sep.npz: channel name 'B::C' contains '::'",
    }


@pytest.mark.parametrize("xdist", XDIST_MODES)
def test_hostile_capture_files_never_stop_the_run(
    pytester: pytest.Pytester, xdist: list[str]
) -> None:
    caps = make_suite(pytester.path / "caps")
    expected = write_hostile_captures(caps / "hostile")
    result = pytester.runpytest(
        "--oscura-captures", "caps", "--oscura-update-baseline", "--oscura-report", "r.json", *xdist
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # not INTERRUPTED: collection went on
    result.assert_outcomes(passed=5, errors=len(expected))
    output = result.stdout.str()
    for text in expected.values():
        assert text in output, text
    assert "Traceback" not in output
    assert "during collection" not in output
    errors = {
        c["key"].split("/")[-1].split("::")[0]: c["error"]
        for c in read_json(pytester.path / "r.json")["captures"]
        if c["outcome"] == "error"
    }
    assert sorted(errors) == sorted(expected)
    for name, text in expected.items():
        assert text in errors[name]
        assert "\n" not in errors[name]


def test_a_million_column_csv_collects_as_one_error_item(pytester: pytest.Pytester) -> None:
    caps = pytester.mkdir("caps")
    columns = 1_000_000
    (caps / "wide.csv").write_text(
        "Time," + ",".join(f"C{k}" for k in range(columns)) + "\n0," + "1," * columns + "\n"
    )
    result = pytester.runpytest("--oscura-captures", "caps", "--co", "-q")
    result.stdout.fnmatch_lines(["caps/wide.csv::load", "1 test collected*"])
