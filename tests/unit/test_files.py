"""_files: special files are never opened, strict JSON text, file modes, the advisory lock."""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
import threading
import time
from pathlib import Path

import pytest

from pytest_oscura._files import json_text, locked, read_json, special_file, write_atomically
from pytest_oscura.errors import BaselineError, ConfigError, LockTimeout

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, modes and flock are POSIX")


@POSIX
def test_special_files_are_named_and_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "x.json"
    os.mkfifo(fifo)
    sock_path = tmp_path / "s.json"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        assert special_file(sock_path) == "a socket"
    assert special_file(fifo) == "a FIFO"
    assert special_file(Path("/dev/null")) == "a device"
    assert special_file(tmp_path) is None
    assert special_file(tmp_path / "missing") is None
    (tmp_path / "plain").write_text("{}")
    assert special_file(tmp_path / "plain") is None
    # Opening the FIFO for reading would block this test forever.
    with pytest.raises(ConfigError, match=r"x\.json: is a FIFO, not a regular file"):
        read_json(fifo, ConfigError)


def test_json_text_never_writes_nan_or_infinity() -> None:
    data = {"b": [1.0, float("inf")], "a": {"x": float("nan"), "y": -float("inf")}, "c": (2,)}
    text = json_text(data, indent=2)
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"wrote {c}")) == {
        "a": {"x": None, "y": None},
        "b": [1.0, None],
        "c": [2],
    }
    assert text.index('"a"') < text.index('"b"')  # keys sorted


@POSIX
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o664, 0o600])
def test_an_existing_file_keeps_its_mode(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "oscura-baseline.json"
    path.write_text("old")
    path.chmod(mode)
    write_atomically(path, "new")
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.read_text() == "new"


@POSIX
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_follows_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        write_atomically(tmp_path / "sub" / "report.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "sub" / "report.json").stat().st_mode) == mode


def test_the_temp_file_is_removed_when_writing_fails(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    with pytest.raises(UnicodeEncodeError):
        write_atomically(path, "\udc80")  # a lone surrogate cannot be encoded
    assert list(tmp_path.iterdir()) == []


@POSIX
def test_the_lock_serialises_and_times_out_with_a_message(tmp_path: Path) -> None:
    lock = tmp_path / ".oscura-baseline.json.lock"
    order: list[str] = []
    with locked(lock, 5, BaselineError):
        # flock belongs to the open file: a second open, even in this process, must wait.
        held = r"\.lock: held by another process for over 0\.2 s"
        with pytest.raises(LockTimeout, match=held), locked(lock, 0.2, BaselineError):
            pytest.fail("took a lock that is held")

        def other() -> None:
            with locked(lock, 5, BaselineError):
                order.append("other")

        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.3)
        order.append("first")
    thread.join(5)
    assert order == ["first", "other"]
    assert lock.exists()  # left in place: removing it would race with a waiting run
