"""The only module that knows about pytest-xdist; registered only when xdist is active."""

from __future__ import annotations

from typing import Any

from pytest_oscura.session import Controller


class XdistControllerHooks:
    """xdist hooks on the controller: which items the workers collected, and crashed workers."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if self.controller.expected_nodeids is None:
            self.controller.expected_nodeids = set(ids)

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        # A crashed worker has no workeroutput (PITFALLS 2): only note that it died; its items'
        # records already reached us inside their reports.
        if error is not None:
            self.controller.crashed_workers.append(str(getattr(node.gateway, "id", node)))
