"""One lock for the heavy modules that more than one thread may import lazily. Pure.

CPython locks each module while it is imported. Two threads that import overlapping parts of
scipy at the same moment (a thread-pool worker reading a WAV file needs ``scipy.io``, the
resume store ``scipy``, the summary's warm-up thread ``scipy.special``) can each hold a module
the other one needs; CPython breaks that deadlock by handing one of them the partially
initialised module, which then fails with "cannot import name ... (most likely due to a
circular import)". Seen in this project's tests with the thread strategy. Every lazy import of
such a module goes through :func:`import_lazily`, so they run one at a time.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType

_IMPORT_LOCK = threading.RLock()


def import_lazily(name: str) -> ModuleType:
    """``importlib.import_module(name)``, one thread at a time (cheap once imported)."""
    with _IMPORT_LOCK:
        return importlib.import_module(name)
