"""Exceptions of pytest-oscura. Pure: no pytest import.

Every message is one line that names the file (or option) and the problem, because it is
shown to the user as is, without a traceback.
"""

from __future__ import annotations


class OscuraError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(OscuraError):
    """A suite config (``oscura.toml``), sidecar or option has an unknown key or a bad value."""


class CaptureError(OscuraError):
    """A capture file cannot be read or holds data that cannot be measured."""


class BaselineError(OscuraError):
    """The baseline file cannot be read or has an unexpected structure."""


class CaptureWarning(UserWarning):
    """A capture was read, but something about its file is worth knowing (a size field that
    disagrees with the file's length). Issued by its items; filter it with
    ``-W ignore::pytest_oscura.errors.CaptureWarning``."""


class LockTimeout(OscuraError):
    """Another process held a lock longer than this one would wait (another update run)."""
