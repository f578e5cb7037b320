"""The fuzz corpus: one synthetic seed per capture format and deterministic mutants of them.

Every byte comes from this module (no real capture needed): :func:`seeds` writes a small valid
capture of each format, :func:`mutants` derives mutants of each class from them with a
``random.Random`` seeded by the class, the seed and the mutant's number, so a failing mutant is
the same file on every machine and every run.
"""

from __future__ import annotations

import io
import random
import re
import struct
import wave
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

RATE_HZ = 1e5
N = 1000  # samples per seed channel: 10 cycles of 1 kHz, enough for every measurement


@dataclass(frozen=True)
class Mutant:
    """One file of the corpus: where it goes below the captures root, and its bytes."""

    mutation: str  # the mutation class ("valid" for the seeds themselves)
    name: str  # file name, suffix included
    data: bytes


def _sine(n: int = N, freq_hz: float = 1e3) -> np.ndarray:
    return np.sin(2 * np.pi * freq_hz * np.arange(n) / RATE_HZ)


def _npy(samples: np.ndarray | np.float64) -> bytes:
    out = io.BytesIO()
    np.save(out, samples)
    return out.getvalue()


def _npz(samples: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.savez_compressed(
        out, samples=samples, sample_rate_hz=np.float64(RATE_HZ), channels=np.array(["A", "B"])
    )
    return out.getvalue()


def _csv(values: list[str]) -> bytes:
    rows = "".join(f"{i / RATE_HZ:.6e},{v}\n" for i, v in enumerate(values))
    return f"Time,CH1\ns,V\n{rows}".encode()


def _wav_int16() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as stream:
        stream.setnchannels(1)
        stream.setsampwidth(2)
        stream.setframerate(int(RATE_HZ))
        stream.writeframes((_sine() * 16000).astype("<i2").tobytes())
    return out.getvalue()


def _wav_float(samples: np.ndarray) -> bytes:
    """IEEE float WAV (format 3), two channels: the ``wave`` module cannot write it."""
    with np.errstate(over="ignore"):  # 1e300 becomes inf in float32, as a mutant wants
        frames = np.repeat(samples.astype("<f4"), 2).tobytes()
    fmt = struct.pack("<HHIIHH", 3, 2, int(RATE_HZ), int(RATE_HZ) * 8, 8, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(frames)) + frames
    return b"RIFF" + struct.pack("<I", len(body)) + body


SR_METADATA = (
    "[global]\nsigrok version=0.5.0\n\n[device 1]\ncapturefile=logic-1\ntotal probes=2\n"
    "samplerate=100 kHz\ntotal analog=1\nprobe1=clk\nprobe2=data\nanalog3=V\nunitsize=1\n"
)


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _sr(analog: np.ndarray) -> bytes:
    square = (np.arange(N) // 50) % 2
    logic = (square | (((np.arange(N) // 125) % 2) << 1)).astype(np.uint8).tobytes()
    with np.errstate(over="ignore"):
        analog_bytes = analog.astype("<f4").tobytes()
    return _zip(
        {
            "version": b"2",
            "metadata": SR_METADATA.encode(),
            "logic-1-1": logic,
            "analog-1-3-1": analog_bytes,
        }
    )


def _isf() -> bytes:
    values = np.round(_sine() * 100).astype(">i2")
    payload = values.tobytes()
    preamble = (
        ':WFMPRE:BYT_NR 2;BIT_NR 16;ENCDG BIN;BN_FMT RI;BYT_OR MSB;WFID "Ch1, DC coupling";'
        f'NR_PT {values.size};PT_FMT Y;XUNIT "s";XINCR 1.0E-5;XZERO 0.0;PT_OFF 0;YUNIT "V";'
        "YMULT 0.01;YOFF 0;YZERO 0.0;"
    )
    length = str(len(payload))
    return preamble.encode() + f":CURVE #{len(length)}{length}".encode() + payload + b"\n"


def _alb() -> bytes:
    header = (
        "AGILENT_BINARY_DATA\nHEADER_BEGIN\n"
        'TABLE_BEGIN "Scope Analog Ch1" ANALOG\nBYTE_ORDER=BIG_ENDIAN\n'
        f"NUM_ROWS={N}\n"
        'COLUMN "Ch1" VALUE NBYTES=2 INTEGER WIDTH_BITS=16\nX_INC=1e-5\nX_ORG=0\nX_REF=0\n'
        "Y_INC=0.01\nY_ORG=0\nY_REF=0\nTABLE_END\nHEADER_END\n"
    )
    return header.encode() + np.round(_sine() * 100).astype(">i2").tobytes()


def _vcd(real_value: str = "0.5") -> bytes:
    lines = [
        "$timescale 1 us $end",
        "$scope module top $end",
        "$var wire 1 ! clk $end",
        "$var real 1 % level $end",
        "$upscope $end",
        "$enddefinitions $end",
        "#0",
        "$dumpvars",
        "0!",
        f"r{real_value} %",
        "$end",
    ]
    for step in range(1, 200):
        lines.append(f"#{step * 10}")
        lines.append(f"{step % 2}!")
        if step % 20 == 0:
            lines.append(f"r{step / 100} %")
    return ("\n".join(lines) + "\n").encode()


def _keysight_bin(points: int = N) -> bytes:
    header = struct.pack("<iiiii", 140, 1, 1, points, 1)
    header += struct.pack("<fdddii", 1e-3, 0.0, 1 / RATE_HZ, 0.0, 2, 1)
    header += b"\0" * 56 + b"1".ljust(16, b"\0") + struct.pack("<dI", 0.0, 0)
    data = struct.pack("<ihhi", 12, 1, 4, points * 4) + _sine(points).astype("<f4").tobytes()
    waveform = header + data
    return b"AG10" + struct.pack("<ii", 12 + len(waveform), 1) + waveform


def _hdf5() -> bytes | None:
    try:
        import h5py
    except ImportError:
        return None
    out = io.BytesIO()
    with h5py.File(out, "w") as handle:
        group = handle.create_group("Waveforms/Channel 1")
        group.attrs["XInc"] = 1 / RATE_HZ
        group.attrs["NumSegments"] = 0
        group.create_dataset("Channel 1Data", data=_sine().astype(np.float32))
    return out.getvalue()


def _tdms() -> bytes | None:
    try:
        import nptdms
    except ImportError:
        return None
    out = io.BytesIO()
    with nptdms.TdmsWriter(out) as writer:
        channel = nptdms.ChannelObject("G", "V", _sine(), properties={"wf_increment": 1 / RATE_HZ})
        writer.write_segment([channel])
    return out.getvalue()


def seeds() -> dict[str, bytes]:
    """File name → bytes of one valid capture per format (HDF5/TDMS when their library is in)."""
    found: dict[str, bytes | None] = {
        "npy.npy": _npy(_sine()),
        "npz.npz": _npz(np.vstack([_sine(), 0.5 * _sine(freq_hz=2e3)])),
        "csv.csv": _csv([f"{v:.6f}" for v in _sine()]),
        "wav_i16.wav": _wav_int16(),
        "wav_f32.wav": _wav_float(_sine()),
        "sigrok.sr": _sr(_sine()),
        "isf.isf": _isf(),
        "alb.alb": _alb(),
        "vcd.vcd": _vcd(),
        "keysight.bin": _keysight_bin(),
        "hdf5.h5": _hdf5(),
        "tdms.tdms": _tdms(),
    }
    return {name: data for name, data in found.items() if data is not None}


# --- mutations ----------------------------------------------------------------------------------

HUGE_NUMBERS = (b"0", b"-1", b"4294967295", b"99999999999999999999", b"1e308", b"nan")
HUGE_WORDS = (0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 0x40000000)


def _truncate(data: bytes, rng: random.Random, index: int) -> bytes:
    cuts = [0, 1, 7, 31, 64, len(data) // 4, len(data) // 2, len(data) - 1]
    return (
        data[: cuts[index % len(cuts)]] if index < len(cuts) else data[: rng.randrange(len(data))]
    )


def _flip(data: bytes, rng: random.Random, index: int, *, header_only: bool = False) -> bytes:
    out = bytearray(data)
    span = min(len(out), 256) if header_only else len(out)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(span)] ^= rng.randint(1, 255)
    return bytes(out)


def _huge_size(data: bytes, rng: random.Random, index: int) -> bytes:
    """A declared size, count or span made absurd: a number in text, or a word in binary."""
    head = data[:2048]
    numbers = list(re.finditer(rb"\d+", head))
    if numbers and index % 2 == 0:
        match = rng.choice(numbers)
        return data[: match.start()] + rng.choice(HUGE_NUMBERS) + data[match.end() :]
    out = bytearray(data)
    offset = rng.randrange(0, max(min(len(out), 512) - 4, 1), 4)
    out[offset : offset + 4] = struct.pack("<I", rng.choice(HUGE_WORDS))
    return bytes(out)


NON_FINITE: dict[str, Callable[[str], bytes]] = {
    "npy.npy": lambda value: _npy(_with(value)),
    "npz.npz": lambda value: _npz(np.vstack([_with(value), _sine()])),
    "csv.csv": lambda value: _csv([f"{v:.6f}" for v in _sine()[:500]] + [value] * 3),
    "wav_f32.wav": lambda value: _wav_float(_with(value)),
    "sigrok.sr": lambda value: _sr(_with(value)),
    "vcd.vcd": lambda value: _vcd(value),
}
NON_FINITE_VALUES = ("nan", "inf", "-inf", "1e300", "1e400", "-1.7e308")


def _with(value: str) -> np.ndarray:
    samples = _sine()
    samples[N // 3] = float(value)
    return samples


SR_BOMB_METADATA = (
    "[global]\nsigrok version=0.5.0\n\n[device 1]\ntotal probes=0\nsamplerate=100 kHz\n"
    "total analog=1\nanalog1=V\n"
)


def _zip_bomb(size: int, name: str) -> bytes:
    """A sigrok or npz archive whose one big member inflates to ``size`` bytes of zeros.

    Built from one compressed MiB repeated (a full flush makes blocks independent), so a bomb
    costs little to make however much it inflates to. The npz member starts with an npy header
    declaring a float64 array of the rest.
    """
    mib = 1 << 20
    blocks = max(size // mib, 1)
    if name.endswith(".npz"):
        count = (blocks * mib - 128) // 8
        text = f"{{'descr': '<f8', 'fortran_order': False, 'shape': ({count},), }}"
        first = b"\x93NUMPY\x01\x00" + struct.pack("<H", 118) + text.ljust(117).encode() + b"\n"
        member, metadata = "samples.npy", {"sample_rate_hz.npy": _npy(np.float64(RATE_HZ))}
    else:
        first = b""
        member, metadata = "analog-1-1-1", {"version": b"2", "metadata": SR_BOMB_METADATA.encode()}
    zero, head = bytes(mib), first + bytes(mib - len(first))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    lead = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zero) + compressor.flush(zlib.Z_FULL_FLUSH)
    raw = lead + block * (blocks - 1) + compressor.flush()
    crc = zlib.crc32(head)
    for _ in range(blocks - 1):
        crc = zlib.crc32(zero, crc)
    return _append_raw_member(_zip(metadata), member, raw, crc, blocks * mib)


def _append_raw_member(archive: bytes, name: str, raw: bytes, crc: int, size: int) -> bytes:
    """``archive`` with one more deflated member whose compressed bytes are ``raw``."""
    end = archive.rindex(b"PK\x05\x06")
    count, cd_size, cd_offset = struct.unpack("<HII", archive[end + 10 : end + 20])
    entries, directory = archive[:cd_offset], archive[cd_offset : cd_offset + cd_size]
    encoded = name.encode()
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(raw), size, len(encoded), 0
    )
    offset = len(entries)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        20,
        20,
        0,
        8,
        0,
        0x21,
        crc,
        len(raw),
        size,
        len(encoded),
        0,
        0,
        0,
        0,
        0,
        offset,
    )
    entries += local + encoded + raw
    directory += central + encoded
    tail = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, count + 1, count + 1, len(directory), len(entries), 0
    )
    return entries + directory + tail


def _lying_sizes(data: bytes, rng: random.Random, index: int) -> bytes:
    """A zip whose headers declare a member far larger than its data (sizes patched)."""
    out = bytearray(data)
    sizes = [m.start() for m in re.finditer(rb"PK\x01\x02", data)]
    if not sizes:
        return data
    at = rng.choice(sizes)
    out[at + 24 : at + 28] = struct.pack("<I", rng.choice((0xFFFFFFF0, 1 << 31, 1 << 30)))
    return bytes(out)


Mutation = Callable[[bytes, random.Random, int], bytes]
BYTE_MUTATIONS: dict[str, tuple[Mutation, int]] = {
    "truncate": (_truncate, 8),
    "flip": (_flip, 6),
    "header-flip": (lambda d, r, i: _flip(d, r, i, header_only=True), 6),
    "huge-size": (_huge_size, 6),
}
MUTATION_CLASSES = (
    *BYTE_MUTATIONS,
    "non-finite",
    "zip-bomb",
    "wrong-suffix",
)


def _suffix(name: str) -> str:
    return name[name.rindex(".") :]


def mutants(scale: int = 1, bomb_bytes: int = 64 << 20) -> Iterator[Mutant]:
    """The seeds (class ``valid``) and every mutant, ``scale`` times the CI count per class."""
    base = seeds()
    for name, data in base.items():
        yield Mutant("valid", name, data)
    stem = {name: name[: name.rindex(".")] for name in base}
    for mutation, (mutate, count) in BYTE_MUTATIONS.items():
        for name, data in base.items():
            for index in range(count * scale):
                rng = random.Random(f"{mutation}/{name}/{index}")
                yield Mutant(
                    mutation, f"{stem[name]}_{index:03d}{_suffix(name)}", mutate(data, rng, index)
                )
    for name, make in NON_FINITE.items():
        for index, value in enumerate(NON_FINITE_VALUES):
            yield Mutant("non-finite", f"{stem[name]}_{index:03d}{_suffix(name)}", make(value))
    for name in ("npz.npz", "sigrok.sr"):
        yield Mutant("zip-bomb", f"bomb{_suffix(name)}", _zip_bomb(bomb_bytes, name))
        for index in range(3 * scale):
            rng = random.Random(f"lying/{name}/{index}")
            lying = _lying_sizes(base[name], rng, index)
            yield Mutant("zip-bomb", f"lying_{index:03d}{_suffix(name)}", lying)
    names = list(base)
    suffixes = sorted({_suffix(name) for name in names})
    for position, name in enumerate(names):
        for index in range(2 * scale):
            other = suffixes[(position + index + 1) % len(suffixes)]
            if other == _suffix(name):
                other = suffixes[(position + index + 2) % len(suffixes)]
            yield Mutant("wrong-suffix", f"{stem[name]}_{index:03d}{other}", base[name])
        rng = random.Random(f"garbage/{name}")
        garbage = bytes(rng.randrange(256) for _ in range(rng.randint(1, 600)))
        yield Mutant("wrong-suffix", f"garbage_{stem[name]}{_suffix(name)}", garbage)
