"""Every pytest-xdist fact the plugin needs, in one module.

Which role this process plays (a worker, the controller of ``-n N``, or a run without xdist),
how many workers the run has, and the controller's xdist-only hooks, which are registered only
when xdist is installed (an xdist hook on a run without it is a ``PluginValidationError``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

    from pytest_oscura.controller import Controller
    from pytest_oscura.progress import Progress


def is_worker(config: pytest.Config) -> bool:
    """Whether this process is an xdist worker (it has the ``workerinput`` xdist gave it)."""
    return hasattr(config, "workerinput")


def worker_count(config: pytest.Config) -> int:
    """The number of xdist workers of the run (0 without xdist), in any process of it."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return int(workerinput["workercount"])
    return int(config.getoption("numprocesses", None) or 0)


def is_crash_report(report: pytest.TestReport) -> bool:
    """Whether xdist made ``report`` for an item whose worker crashed while running it.

    xdist reports such an item as failed, with the phase ``"???"`` and no user properties.
    """
    return str(report.when) == "???"


def stop_reason(config: pytest.Config) -> str | None:
    """Why the controller of an ``-n N`` run stopped its workers early (``-x``, Ctrl-C), if so."""
    dsession = config.pluginmanager.getplugin("dsession")
    reason = getattr(dsession, "shouldstop", None)
    return str(reason) if reason else None


def is_installed(config: pytest.Config) -> bool:
    return config.pluginmanager.hasplugin("xdist")


def distributes(config: pytest.Config) -> bool:
    """Whether this process is the controller of an ``-n N`` run (it collects no items)."""
    return config.pluginmanager.hasplugin("dsession")


class XdistControllerHooks:
    """xdist hooks on the controller: which items the workers collected, and crashed workers.

    The controller collects nothing itself; the workers' collections tell it the items to expect
    and the progress line its total.
    """

    def __init__(self, controller: Controller, progress: Progress | None = None) -> None:
        self.controller = controller
        self.progress = progress

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if self.controller.expected_nodeids is None:
            self.controller.expected_nodeids = set(ids)
        if self.progress is not None:
            self.progress.total = max(self.progress.total, len(ids))

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        # A crashed worker has no workeroutput (PITFALLS 2): only note that it died; its items'
        # records already reached us inside their reports.
        if error is not None:
            self.controller.crashed_workers.append(str(getattr(node.gateway, "id", node)))
