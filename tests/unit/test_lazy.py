"""``import_lazily``: lazy imports from several threads run one at a time."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from pytest_oscura._lazy import import_lazily


def test_two_threads_never_import_at_the_same_time(tmp_path: Path, monkeypatch) -> None:
    # Two modules whose import takes 0.2 s and notes how many imports were under way.
    (tmp_path / "lazy_probe_log.py").write_text("under_way = 0\nmost = 0\n")
    body = (
        "import time, lazy_probe_log as log\n"
        "log.under_way += 1\n"
        "log.most = max(log.most, log.under_way)\n"
        "time.sleep(0.2)\n"
        "log.under_way -= 1\n"
    )
    for name in ("lazy_probe_a", "lazy_probe_b"):
        (tmp_path / f"{name}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("lazy_probe_log", "lazy_probe_a", "lazy_probe_b"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import lazy_probe_log  # type: ignore[import-not-found]

    threads = [
        threading.Thread(target=import_lazily, args=(name,))
        for name in ("lazy_probe_a", "lazy_probe_b")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert lazy_probe_log.most == 1
    assert "lazy_probe_a" in sys.modules
    assert "lazy_probe_b" in sys.modules


def test_a_missing_module_raises_as_import_module_does() -> None:
    with pytest.raises(ModuleNotFoundError):
        import_lazily("no_such_module_for_oscura")
