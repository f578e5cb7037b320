"""The plugin's hook objects, registered for runs that check captures.

:func:`start_run` (from ``pytest_configure``) builds the run's state and registers:

* :class:`RunHooks` in every process: collect capture files, the header line, start the
  execution strategy after collection and stop it at the end;
* :class:`ControllerHooks` in the process that gathers results (the xdist controller, or a run
  without xdist): every report's record, then the end of the run;
* :class:`ProgressHooks` there too, unless progress is off.

Each hook delegates in a few lines to the pure modules (runtime, controller, progress).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_oscura import _xdist
from pytest_oscura.options import Settings, add_roots_to_args, selects_whole_suite

if TYPE_CHECKING:
    from pytest_oscura.controller import Controller
    from pytest_oscura.progress import Progress
    from pytest_oscura.resume import ResultStore
    from pytest_oscura.runtime import Runtime


def start_run(config: pytest.Config, settings: Settings) -> None:
    """Open the captures roots, build this process's run state and register the hooks."""
    from pytest_oscura.controller import Controller
    from pytest_oscura.errors import OscuraError
    from pytest_oscura.runtime import Runtime
    from pytest_oscura.suite import CaptureRoot

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
    runtime = Runtime(
        roots,
        settings.update_baseline,
        timeout_s=settings.timeout_s,
        store=_result_store(config) if settings.resume else None,
        strategy=settings.strategy,
        workers=settings.workers,
        xdist_workers=_xdist.worker_count(config),
        xdist_worker=_xdist.is_worker(config),
        measures=not config.option.collectonly,
    )
    add_roots_to_args(config, [root.path for root in roots])
    config.pluginmanager.register(RunHooks(runtime), "oscura-run")
    if runtime.xdist_worker:
        return
    controller = Controller(
        roots,
        settings.update_baseline,
        settings.report,
        config.rootpath,
        outlier_method=settings.outliers,
        gate=settings.gate,
    )
    config.pluginmanager.register(ControllerHooks(controller), "oscura-controller")
    progress = None
    if settings.progress != "off":
        hooks = ProgressHooks(config, settings.progress, settings.progress_interval_s)
        config.pluginmanager.register(hooks, "oscura-progress")
        progress = hooks.progress
    if _xdist.is_installed(config):
        hooks_ = _xdist.XdistControllerHooks(controller, progress)
        config.pluginmanager.register(hooks_, "oscura-xdist")


def _result_store(config: pytest.Config) -> ResultStore:
    from pytest_oscura.resume import ResultStore

    if config.cache is None:
        raise pytest.UsageError(
            "--oscura-resume stores results in pytest's cache: enable the cacheprovider plugin"
        )
    return ResultStore(config.cache.mkdir("oscura-results"))


class RunHooks:
    """Hooks of every process of a run that checks captures (workers included)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        runtime = self.runtime
        mode = (
            "updating the baseline" if runtime.update_baseline else "checking against the baseline"
        )
        lines = [f"oscura: {r.display} ({mode} {r.baseline_path.name})" for r in runtime.roots]
        return [*lines, runtime.strategy_header()]

    def pytest_collect_file(
        self, file_path: Path, parent: pytest.Collector
    ) -> pytest.Collector | None:
        from pytest_oscura.captures import format_for
        from pytest_oscura.collect import CaptureFile
        from pytest_oscura.suite import root_of

        root = root_of(self.runtime.roots, file_path)
        if root is None or file_path == root.baseline_path or format_for(file_path) is None:
            return None
        self.runtime.collected(str(file_path))  # may start the process pool
        return CaptureFile.from_parent(parent, path=file_path, root=root, runtime=self.runtime)

    def pytest_collection(self) -> None:
        self.runtime.collecting()  # a process pool asked for by name starts now

    @pytest.hookimpl(tryfirst=True)  # before the terminal reporter asks for the lines below
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.config.option.collectonly or not session.items:
            return
        from pytest_oscura.collect import jobs_in_run_order

        self.runtime.start(jobs_in_run_order(session.items))

    def pytest_report_collectionfinish(self) -> list[str]:
        return self.runtime.collection_lines()

    def pytest_sessionfinish(self, exitstatus: int) -> None:
        # Shut the pool down, at once when interrupted (Ctrl-C).
        self.runtime.close(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)


class ControllerHooks:
    """Hooks of the process that gathers results: the xdist controller or a run without xdist."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.controller.deselected += len(items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not _xdist.distributes(session.config):
            self.controller.expected_nodeids = {item.nodeid for item in session.items}
        if session.items and not session.config.option.collectonly:
            from pytest_oscura.aggregate import warm_up

            warm_up()  # the summary's imports, while the captures are measured

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
        # Under xdist the result letters leave the cursor mid-line without pytest knowing. The
        # terminal writer's column is the one fact pytest has no public accessor for; reading
        # it (never writing it) is the least intrusive way to start the line at column 0.
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
