"""Setting a future's outcome once, from whichever thread finishes first. Pure.

A batch abandoned past its time limit, a run cancelled meanwhile, and the worker that finally
returns all race to settle the same future: the first outcome stays.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future, InvalidStateError

from pytest_oscura.jobs import FileResult


def settle(
    future: Future[FileResult],
    result: FileResult | None = None,
    exception: BaseException | None = None,
) -> None:
    """Give ``future`` its outcome unless it has one (a batch abandoned past its time limit)."""
    with contextlib.suppress(InvalidStateError):
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(result)  # type: ignore[arg-type]
