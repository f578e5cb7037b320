"""Peak memory of loading and measuring a large logic capture: a 16-channel VCD of 4 Mi samples.

    python -m benchmarks.vcd_memory            # writes the VCD to a temp folder, prints the peaks
    python -m benchmarks.vcd_memory --keep DIR # keeps the VCD in DIR

Each figure comes from a fresh interpreter (``resource.getrusage`` maximum resident set size), so
one measurement cannot inherit another's heap: "imports" is the interpreter with numpy and the
plugin's loaders imported, "load" adds ``load_capture`` of every channel, "load + measure" adds
measuring each channel with the ``logic`` profile the way an item does (``run_job``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

CHANNELS = 16
SAMPLES = 1 << 22  # 4 194 304, the ChronoVu LA16's record length

_PROBE = """
import resource, sys
from pathlib import Path
import numpy
from pytest_oscura.captures import LoadSettings, load_capture
from pytest_oscura.jobs import FileJob, ItemSpec, run_job
from pytest_oscura.measurements import PROFILES
stage = sys.argv[1]
path = Path(sys.argv[2])
if stage == "load":
    captures = load_capture(path)
    held = sum(c.samples.nbytes for c in captures)
    print("held", held)
elif stage == "measure":
    names = [f"ch{k}" for k in range(int(sys.argv[3]))]
    job = FileJob(str(path), path.name, LoadSettings(), tuple(
        ItemSpec(n, i, None, PROFILES["logic"]) for i, n in enumerate(names)))
    result = run_job(job)
    assert result.error is None, result.error
    print("frequency", result.items["ch0"].values["frequency"])
print("maxrss_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def write_vcd(path: Path, channels: int = CHANNELS, samples: int = SAMPLES) -> Path:
    """Channel 0 a clock of period 20 samples, channel 1 of period 2000, the rest sparse."""
    import numpy

    rng = numpy.random.default_rng(7)
    idents = [chr(33 + k) for k in range(channels)]
    changes: dict[int, list[tuple[str, int]]] = {}
    for k, ident in enumerate(idents):
        if k == 0:
            times = numpy.arange(10, samples, 10)
        elif k == 1:
            times = numpy.arange(1000, samples, 1000)
        else:
            times = numpy.unique(rng.integers(1, samples, size=200))
        for index, t in enumerate(times.tolist()):
            changes.setdefault(t, []).append((ident, (index + 1) % 2))
    with path.open("w", encoding="ascii") as out:
        out.write("$timescale 1 ns $end\n$scope module la $end\n")
        for k, ident in enumerate(idents):
            out.write(f"$var wire 1 {ident} D{k} $end\n")
        out.write("$upscope $end\n$enddefinitions $end\n#0\n$dumpvars\n")
        out.write("".join(f"0{ident}\n" for ident in idents) + "$end\n")
        for t in sorted(changes):
            out.write(f"#{5 * t}\n" + "".join(f"{v}{i}\n" for i, v in changes[t]))
        out.write(f"#{5 * (samples - 1)}\n")
    return path


def _probe(*args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, check=True
    ).stdout
    return {line.split()[0]: float(line.split()[1]) for line in out.splitlines()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="folder to write the VCD to (kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = args.keep or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        path = write_vcd(folder / "la16_4M.vcd")
        size = path.stat().st_size
        imports = _probe("imports", str(path))["maxrss_kib"]
        load = _probe("load", str(path))
        measure = _probe("measure", str(path), str(CHANNELS))
    print(f"VCD: {CHANNELS} channels x {SAMPLES} samples, {size / 2**20:.1f} MiB file")
    print(f"imports only:    peak RSS {imports / 1024:7.0f} MiB")
    print(
        f"load:            peak RSS {load['maxrss_kib'] / 1024:7.0f} MiB "
        f"(samples held: {load['held'] / 2**20:.0f} MiB)"
    )
    print(f"load + measure:  peak RSS {measure['maxrss_kib'] / 1024:7.0f} MiB")


if __name__ == "__main__":
    main()
