"""Small file helpers shared by the baseline, sidecars, the JSON report and the resume store.

* :func:`special_file`: a FIFO, device or socket is never opened (a FIFO blocks its reader
  forever);
* :func:`read_json` and :func:`json_text`: the one reader and the one writer of JSON text (the
  writer never emits NaN or infinity, which JSON cannot hold);
* :func:`write_atomically`: temp file next to the target, ``os.replace``, the target's mode kept;
* :func:`locked`: an advisory lock (``fcntl.flock``, POSIX only) around read-merge-write.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pytest_oscura.errors import LockTimeout, OscuraError


def special_file(path: Path) -> str | None:
    """``"a FIFO"``, ``"a socket"`` or ``"a device"`` when ``path`` is one, else ``None``.

    Regular files, folders and paths that do not exist are ``None``. Symlinks are followed.
    Callers check this before opening anything a user's folder may hold.
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file"


def read_json(path: Path, error: type[OscuraError], max_bytes: int | None = None) -> Any:
    """The JSON value in ``path``; ``None`` when the file does not exist.

    Hostile or broken files end in one line naming the file, never in a traceback: bytes that
    are not UTF-8, a file above ``max_bytes``, invalid JSON, nesting too deep for the parser
    and integers too long to convert (Python refuses more than 4300 digits).

    Raises:
        error: the file cannot be read or is not JSON (one line naming the file).
    """
    kind = special_file(path)
    if kind is not None:
        raise error(f"{path}: is {kind}, not a regular file (never read)")
    try:
        with path.open("rb") as stream:
            raw = stream.read() if max_bytes is None else stream.read(max_bytes + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise error(
            f"{path}: cannot read ({(exc.strerror or type(exc).__name__).lower()})"
        ) from None
    if max_bytes is not None and len(raw) > max_bytes:
        raise error(f"{path}: larger than {max_bytes} bytes, too large for this file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise error(f"{path}: invalid JSON (nested too deeply)") from None
    except ValueError:  # an integer of more digits than int() converts (4300)
        raise error(f"{path}: invalid JSON (a number too long to convert)") from None


def json_text(value: Any, *, indent: int | None = None) -> str:
    """``value`` as strict JSON text, keys sorted: the one writer of the plugin's JSON files.

    JSON has no NaN or infinity; a non-finite float anywhere in ``value`` is written as
    ``null`` (the measurements and statistics that produce them already say why), so one
    extreme capture can never stop a baseline or report from being written.
    """
    return json.dumps(
        _finite(value), indent=indent, sort_keys=True, allow_nan=False, ensure_ascii=False
    )


def finite_number(value: object) -> bool:
    """Whether a parsed JSON or TOML value is a number that a float holds: not a bool, not
    NaN or infinite, not an integer too large for a float (a 400-digit one)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file in the same folder and ``os.replace``.

    A crash at any moment leaves either the old file or the new one, never a half-written one;
    the temp file is removed on every path that does not rename it. The file keeps the mode of
    the file it replaces; a new file gets ``0o666`` less the umask, as ``open`` would give it
    (``mkstemp`` alone would make it ``0o600``).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    descriptor, temp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as stream:
            if hasattr(os, "fchmod"):
                os.fchmod(stream.fileno(), mode)
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """This process's umask, read without changing it where Linux allows (threads are about)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def locked(path: Path, timeout_s: float, error: type[OscuraError]) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created when missing) for the ``with`` body.

    Processes that take the same lock run their bodies one after the other, so a
    read-merge-write in the body never loses another process's changes. POSIX only
    (``fcntl.flock``); where ``fcntl`` does not exist the body runs without a lock.

    Raises:
        LockTimeout: another process still holds the lock after ``timeout_s`` seconds.
        error: the lock file cannot be opened or locked (one line naming it).
    """
    try:
        import fcntl
    except ImportError:  # Windows: no advisory lock (documented in the README)
        yield
        return
    kind = special_file(path)
    if kind is not None:
        raise error(f"{path}: is {kind}, not a lock file")
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise error(f"{path}: cannot open the lock file ({exc.strerror})") from None
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"{path}: held by another process for over {timeout_s:g} s"
                    ) from None
                time.sleep(0.05)
            except OSError as exc:  # a file system without locks (some network mounts)
                raise error(f"{path}: cannot lock ({exc.strerror})") from None
        yield
    finally:
        os.close(descriptor)  # releases the lock
