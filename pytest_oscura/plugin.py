"""pytest11 entry point of pytest-oscura: hook wiring only.

Importing this module must stay cheap (no numpy, no scipy): it is imported by every pytest run
of every project that has the plugin installed. Each hook delegates to a pure module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_oscura.options import Settings, add_options, add_roots_to_args, selects_whole_suite

if TYPE_CHECKING:
    from pytest_oscura.execution import Execution
    from pytest_oscura.runtime import Runtime
    from pytest_oscura.session import Controller

RUNTIME_KEY: pytest.StashKey[Runtime] = pytest.StashKey()
EXECUTION_KEY: pytest.StashKey[Execution] = pytest.StashKey()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "oscura: a capture channel checked by pytest-oscura")
    settings = Settings.from_config(config)
    if not settings.captures:
        return
    settings.validate()
    from pytest_oscura.errors import OscuraError
    from pytest_oscura.roots import CaptureRoot
    from pytest_oscura.runtime import Runtime
    from pytest_oscura.session import Controller

    try:
        roots = [
            CaptureRoot.open(path, text, settings.baseline) for path, text in settings.captures
        ]
        if not settings.update_baseline:
            for root in roots:
                root.baseline()
    except OscuraError as exc:
        hint = (
            ""
            if settings.update_baseline
            else "; fix it or rewrite it with --oscura-update-baseline"
        )
        raise pytest.UsageError(f"{exc}{hint}") from None
    config.stash[RUNTIME_KEY] = Runtime(roots, settings.update_baseline)
    config.stash[EXECUTION_KEY] = execution_for(config, settings)
    add_roots_to_args(config, [root.path for root in roots])
    if hasattr(config, "workerinput"):
        return
    controller = Controller(roots, settings.update_baseline, settings.report, config.rootpath)
    config.pluginmanager.register(ControllerHooks(controller), "oscura-controller")
    if config.pluginmanager.hasplugin("xdist"):
        from pytest_oscura._xdist import XdistControllerHooks

        config.pluginmanager.register(XdistControllerHooks(controller), "oscura-xdist")


def execution_for(config: pytest.Config, settings: Settings) -> Execution:
    from pytest_oscura.execution import Execution

    workerinput = getattr(config, "workerinput", None)
    numprocesses = config.getoption("numprocesses", None) if workerinput is None else None
    return Execution(
        settings.strategy,
        settings.workers,
        xdist_worker=workerinput is not None,
        xdist_workers=int(workerinput["workercount"]) if workerinput else int(numprocesses or 0),
    )


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    runtime = config.stash.get(RUNTIME_KEY, None)
    if runtime is None:
        return None
    mode = "updating the baseline" if runtime.update_baseline else "checking against the baseline"
    lines = [f"oscura: {root.display} ({mode} {root.baseline_path.name})" for root in runtime.roots]
    return [*lines, config.stash[EXECUTION_KEY].header()]


@pytest.hookimpl(tryfirst=True)  # before the terminal reporter asks for the lines below
def pytest_collection_finish(session: pytest.Session) -> None:
    runtime = session.config.stash.get(RUNTIME_KEY, None)
    if runtime is None or session.config.option.collectonly or not session.items:
        return
    from pytest_oscura.execution import jobs_in_run_order

    session.config.stash[EXECUTION_KEY].start(jobs_in_run_order(session.items), runtime)


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    execution = config.stash.get(EXECUTION_KEY, None)
    return [] if execution is None else execution.collection_lines()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    execution = session.config.stash.get(EXECUTION_KEY, None)
    if execution is not None:  # shut the pool down, at once when interrupted (Ctrl-C)
        execution.close(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    runtime = parent.config.stash.get(RUNTIME_KEY, None)
    if runtime is None:
        return None
    from pytest_oscura.captures import format_for
    from pytest_oscura.collect import CaptureFile
    from pytest_oscura.roots import root_of

    root = root_of(runtime.roots, file_path)
    if root is None or file_path == root.baseline_path or format_for(file_path) is None:
        return None
    return CaptureFile.from_parent(parent, path=file_path, root=root, runtime=runtime)


class ControllerHooks:
    """Hooks of the process that gathers results: the xdist controller or a run without xdist."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.controller.deselected += len(items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not session.config.pluginmanager.hasplugin("dsession"):
            self.controller.expected_nodeids = {item.nodeid for item in session.items}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.controller.on_report(
            report.nodeid, report.when, report.outcome, report.user_properties
        )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        controller = self.controller
        whole_suite = (
            controller.deselected == 0
            and controller.saw_every_item()
            and selects_whole_suite(session.config, [root.path for root in controller.roots])
        )
        controller.finish(
            interrupted=exitstatus == pytest.ExitCode.INTERRUPTED,
            whole_suite=whole_suite,
            norecurse_patterns=session.config.getini("norecursedirs"),
        )

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.controller.lines:
            terminalreporter.section("oscura")
            for line in self.controller.lines:
                terminalreporter.write_line(line)
