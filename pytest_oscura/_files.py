"""Small file helpers shared by the baseline, sidecars, the JSON report and the resume store."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pytest_oscura.errors import OscuraError


def read_json(path: Path, error: type[OscuraError], max_bytes: int | None = None) -> Any:
    """The JSON value in ``path``; ``None`` when the file does not exist.

    Hostile or broken files end in one line naming the file, never in a traceback: bytes that
    are not UTF-8, a file above ``max_bytes``, invalid JSON, nesting too deep for the parser
    and integers too long to convert (Python refuses more than 4300 digits).

    Raises:
        error: the file cannot be read or is not JSON (one line naming the file).
    """
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


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file in the same folder and ``os.replace``.

    A crash at any moment leaves either the old file or the new one, never a half-written one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
