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
    from pytest_oscura.aggregate import GateSpec
    from pytest_oscura.execution import Execution
    from pytest_oscura.progress import Progress
    from pytest_oscura.resume import ResultStore
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
    gate = _check_gate(settings.gate)
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
    config.stash[RUNTIME_KEY] = Runtime(
        roots,
        settings.update_baseline,
        timeout_s=settings.timeout_s,
        store=_result_store(config) if settings.resume else None,
    )
    config.stash[EXECUTION_KEY] = execution_for(config, settings)
    add_roots_to_args(config, [root.path for root in roots])
    if hasattr(config, "workerinput"):
        return
    controller = Controller(
        roots,
        settings.update_baseline,
        settings.report,
        config.rootpath,
        outlier_method=settings.outliers,
        gate=gate,
    )
    config.pluginmanager.register(ControllerHooks(controller), "oscura-controller")
    if config.pluginmanager.hasplugin("xdist"):
        from pytest_oscura._xdist import XdistControllerHooks

        config.pluginmanager.register(XdistControllerHooks(controller), "oscura-xdist")
    if settings.progress != "off":
        config.pluginmanager.register(
            ProgressHooks(config, settings.progress, settings.progress_interval_s),
            "oscura-progress",
        )


def _check_gate(spec: str) -> GateSpec:
    from pytest_oscura.aggregate import parse_gate

    try:
        return parse_gate(spec)
    except ValueError as exc:
        raise pytest.UsageError(f"--oscura-gate {spec!r}: {exc}") from None


def _result_store(config: pytest.Config) -> ResultStore:
    from pytest_oscura.resume import ResultStore

    if config.cache is None:
        raise pytest.UsageError(
            "--oscura-resume stores results in pytest's cache: enable the cacheprovider plugin"
        )
    return ResultStore(config.cache.mkdir("oscura-results"))


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
        if controller.gate_failed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        controller = self.controller
        if not (controller.summary_lines or controller.lines):
            return
        terminalreporter.section("oscura")
        for line in controller.summary_lines:
            red = controller.gate_failed and line.startswith("Gate")
            terminalreporter.write_line(line, red=red, bold=red)
        for line in controller.lines:
            terminalreporter.write_line(line)


def _is_final(report: pytest.TestReport) -> bool:
    """Whether this report settles the item: its call, or a setup that failed or skipped."""
    return report.when == "call" or (report.when == "setup" and not report.passed)


class ProgressHooks:
    """The live progress line (tty) or periodic progress lines (log), on the controller."""

    TTY_REFRESH_S = 0.2

    def __init__(self, config: pytest.Config, mode: str, interval_s: float) -> None:
        from pytest_oscura.progress import Progress

        self.config = config
        self.mode = mode
        self.interval_s = interval_s
        self.reporter: pytest.TerminalReporter | None = None
        self.progress: Progress = Progress()
        self._last_shown = 0.0
        self._shown_completed = -1
        self._quiet_items = False

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        import os

        # The terminal reporter registers itself after our pytest_configure ran.
        self.reporter = self.config.pluginmanager.getplugin("terminalreporter")
        if self.reporter is None:
            self.mode = "off"
            return
        if self.mode == "auto":
            self.mode = "tty" if self.reporter.isatty and not os.environ.get("CI") else "log"
        if self.mode == "tty":
            self.interval_s = self.TTY_REFRESH_S
            self._quiet_items = self.config.get_verbosity() <= 0

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: list[str]) -> None:
        self.progress.total = max(self.progress.total, len(ids))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.items:
            self.progress.total = len(session.items)
        if self._quiet_items and self.reporter is not None:
            # The live line replaces pytest's per-file prefixes and result letters.
            self.reporter.showfspath = False

    def pytest_runtestloop(self, session: pytest.Session) -> None:
        self.progress.start()
        self._last_shown = self.progress.clock()  # the first line after one interval

    def pytest_report_teststatus(
        self, report: pytest.TestReport, config: pytest.Config
    ) -> tuple[str, str, str] | None:
        if not self._quiet_items or (report.when == "teardown" and report.passed):
            return None
        if report.when == "setup" and report.failed:
            return "error", "", "ERROR"
        if report.when == "call":
            return report.outcome, "", report.outcome.upper()
        return None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.mode == "off" or not _is_final(report):
            return
        self.progress.item_done(passed=report.passed)
        now = self.progress.clock()
        if (
            now - self._last_shown >= self.interval_s
            or self.progress.completed == self.progress.total
        ):
            self._last_shown = now
            self._show()

    def _show(self) -> None:
        assert self.reporter is not None
        if self.mode == "tty":
            self.reporter.rewrite(self.progress.line(), erase=True)
        else:
            self._log_line()

    def _log_line(self) -> None:
        assert self.reporter is not None
        self._shown_completed = self.progress.completed
        # Under xdist the result letters leave the cursor mid-line without pytest knowing.
        if getattr(self.reporter._tw, "width_of_current_line", 0):
            self.reporter.write("\n")
        self.reporter.write_line(self.progress.line())

    def pytest_sessionfinish(self) -> None:
        if self.reporter is not None and self.mode != "off" and self.progress.completed:
            if self.mode == "tty":
                self.reporter.rewrite(self.progress.line(), erase=True)
                self.reporter.write_line("")
            elif self._shown_completed != self.progress.completed:
                self._log_line()
