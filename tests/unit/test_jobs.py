"""A file job loads once and measures each item; bad input becomes data, never an exception."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from pytest_oscura.captures import LoadSettings
from pytest_oscura.jobs import FileJob, ItemSpec, run_job


def job(path: Path, *items: ItemSpec) -> FileJob:
    return FileJob(str(path), path.name, LoadSettings(sample_rate_hz=1e3), items)


def test_each_item_gets_its_measurements(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.array([[1.0, -1.0, 1.0, -1.0], [2.0, 2.0, 2.0, 2.0]]))
    result = run_job(
        job(
            tmp_path / "a.npy",
            ItemSpec("CH1", 0, None, ("rms", "vpp")),
            ItemSpec("CH2", 1, None, ("mean",)),
        )
    )
    assert result.error is None
    assert result.items["CH1"].values == {"rms": 1.0, "vpp": 2.0}
    assert result.items["CH2"].values == {"mean": 2.0}
    assert result.items["CH2"].units == "V"
    assert pickle.loads(pickle.dumps(result)) == result  # strategies send results across processes


def test_load_error_is_data(tmp_path: Path) -> None:
    (tmp_path / "a.npy").write_bytes(b"nope")
    result = run_job(job(tmp_path / "a.npy", ItemSpec("CH1", 0, None, ("rms",))))
    assert result.items == {}
    assert result.error == "a.npy: not an NPY file (bad magic number)"


def test_missing_segment_is_an_item_error(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.ones(4))
    result = run_job(job(tmp_path / "a.npy", ItemSpec("CH1#2", 0, 2, ("rms",))))
    assert result.items["CH1#2"].error == "a.npy: channel CH1 has no segment 2"
