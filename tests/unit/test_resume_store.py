"""The resume store: reuse only what provably has not changed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from pytest_oscura.captures import LoadSettings
from pytest_oscura.jobs import FileJob, ItemSpec, run_job, time_limit
from pytest_oscura.resume import ResultStore, fingerprint


def make_job(path: Path, measurements: tuple[str, ...] = ("rms",)) -> FileJob:
    return FileJob(
        str(path),
        path.name,
        LoadSettings(sample_rate_hz=1e3),
        (ItemSpec("CH1", 0, None, measurements),),
    )


def stored(tmp_path: Path) -> tuple[ResultStore, FileJob, Path]:
    capture = tmp_path / "a.npy"
    np.save(capture, np.ones(10))
    store = ResultStore(tmp_path / "store")
    store.folder.mkdir()
    job = make_job(capture)
    store.put(job, fingerprint(capture), run_job(job))
    return store, job, capture


def test_round_trip(tmp_path: Path) -> None:
    store, job, _ = stored(tmp_path)
    assert store.get(job) == run_job(job)
    assert store.count() == 1


def test_warnings_and_companions_are_stored(tmp_path: Path) -> None:
    from dataclasses import replace

    store, job, capture = stored(tmp_path)
    result = run_job(job)
    item = replace(result.items["CH1"], warnings=("size field off",), companions=("a.txt",))
    noted = replace(result, items={"CH1": item})
    store.put(job, fingerprint(capture), noted)
    assert store.get(job) == noted


@pytest.mark.parametrize(
    ("measured_on", "gpu_fallback"), [("gpu", None), ("cpu", "cupy: out of memory")]
)
def test_where_a_capture_was_measured_is_stored(
    tmp_path: Path, measured_on: str, gpu_fallback: str | None
) -> None:
    # A resumed GPU run reports what the clean run reported: measured_on and the fallback.
    from dataclasses import replace

    store, job, capture = stored(tmp_path)
    result = run_job(job)
    item = replace(result.items["CH1"], measured_on=measured_on, gpu_fallback=gpu_fallback)
    gpu = replace(result, items={"CH1": item})
    store.put(job, fingerprint(capture), gpu)
    assert store.get(job) == gpu


def test_changed_content_config_or_sidecar_is_a_miss(tmp_path: Path) -> None:
    store, job, capture = stored(tmp_path)
    assert store.get(make_job(capture, ("rms", "vpp"))) is None
    (tmp_path / "a.npy.json").write_text(json.dumps({"units": "A"}))
    assert store.get(job) is None
    (tmp_path / "a.npy.json").unlink()
    assert store.get(job) is not None
    np.save(capture, np.zeros(10))  # same size, new content
    assert store.get(job) is None


def test_new_mtime_same_bytes_is_a_hit(tmp_path: Path) -> None:
    store, job, capture = stored(tmp_path)
    os.utime(capture, ns=(1, 1))
    assert store.get(job) is not None


def test_corrupt_or_foreign_entries_are_misses(tmp_path: Path) -> None:
    store, job, _ = stored(tmp_path)
    (entry,) = store.folder.iterdir()
    entry.write_text("{half")
    assert store.get(job) is None


def test_load_errors_are_not_stored(tmp_path: Path) -> None:
    capture = tmp_path / "bad.npy"
    capture.write_bytes(b"junk")
    store = ResultStore(tmp_path)
    job = make_job(capture)
    store.put(job, fingerprint(capture), run_job(job))
    assert store.get(job) is None


def test_time_limit_interrupts_python_code() -> None:
    import time

    from pytest_oscura.jobs import CaptureTimeout

    start = time.monotonic()
    with pytest.raises(CaptureTimeout), time_limit(0.2):
        time.sleep(5)
    assert time.monotonic() - start < 2
