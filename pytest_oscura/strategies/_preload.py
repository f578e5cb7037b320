"""What the process pool's fork server imports once, so that each worker forked from it starts
ready: numpy and its FFT, the engine, the readers and the installed capture formats (entry
points, cached). Importing this module does that work; only :mod:`.worker` names it. Pure.
"""

from __future__ import annotations

import numpy.fft  # noqa: F401  (numpy loads it lazily, on every worker's first capture)

import pytest_oscura.jobs
import pytest_oscura.measurements  # noqa: F401
from pytest_oscura.captures import all_formats

all_formats()  # scans the installed packages' entry points once, for every worker
