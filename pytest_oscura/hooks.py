"""The plugin's hook objects, registered for runs that check captures.

:func:`start_run` (from ``pytest_configure``) builds the run's state and registers:

* :class:`RunHooks` in every process: collect capture files, the header line, deselect the
  capture files of other shards (``--oscura-shard``), start the execution strategy after
  collection and stop it at the end;
* :class:`ControllerHooks` in the process that gathers results (the xdist controller, or a run
  without xdist): every report's record, then the end of the run;
* :class:`ProgressHooks` there too, unless progress is off.

Each hook delegates in a few lines to the pure modules (runtime, controller, progress).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_oscura import _xdist
from pytest_oscura.options import Settings, add_roots_to_args, selects_whole_suite

if TYPE_CHECKING:
    from pytest_oscura.controller import Controller
    from pytest_oscura.progress import Progress
    from pytest_oscura.resume import ResultStore
    from pytest_oscura.runtime import Runtime
    from pytest_oscura.shards import Shard
    from pytest_oscura.suite import CaptureRoot

# Set on the items --oscura-shard deselects: they are another shard's, not narrowed by the user,
# so they do not make the run partial.
OUT_OF_SHARD = pytest.StashKey[bool]()


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
    except OscuraError as exc:  # oscura.toml: only its owner can fix it
        raise pytest.UsageError(str(exc)) from None
    if not settings.update_baseline:
        try:
            for root in roots:
                root.baseline()
        except OscuraError as exc:
            hint = "fix it or rewrite it with --oscura-update-baseline"
            raise pytest.UsageError(f"{exc}; {hint}") from None
    scheduler: Any = settings.dask_scheduler
    if settings.strategy == "dask" and not _xdist.is_worker(config):
        # A bad or unreachable address is a usage error now, before xdist starts workers.
        scheduler = _dask_client(settings.dask_scheduler)
        if _xdist.worker_count(config):  # the controller of -n N measures nothing itself
            scheduler.close()
            scheduler = settings.dask_scheduler
    runtime = Runtime(
        roots,
        settings.update_baseline,
        timeout_s=settings.timeout_s,
        store=_result_store(config) if settings.resume else None,
        strategy=settings.strategy,
        workers=settings.workers,
        xdist_workers=_xdist.worker_count(config),
        xdist_worker=_xdist.is_worker(config),
        dask_scheduler=scheduler,
        measures=not config.option.collectonly,
    )
    add_roots_to_args(config, [root.path for root in roots])
    config.pluginmanager.register(RunHooks(runtime, settings.shard), "oscura-run")
    if runtime.xdist_worker:
        return
    controller = Controller(
        roots,
        settings.update_baseline,
        settings.report,
        config.rootpath,
        outlier_method=settings.outliers,
        gate=settings.gate,
        html_path=settings.html,
        baseline_waveforms=settings.baseline_waveforms and settings.update_baseline,
        shard=settings.shard,
    )
    config.pluginmanager.register(ControllerHooks(controller, runtime), "oscura-controller")
    progress = None
    if settings.progress != "off":
        hooks = ProgressHooks(config, settings.progress, settings.progress_interval_s)
        config.pluginmanager.register(hooks, "oscura-progress")
        progress = hooks.progress
    if _xdist.is_installed(config):
        hooks_ = _xdist.XdistControllerHooks(controller, progress)
        config.pluginmanager.register(hooks_, "oscura-xdist")


def _dask_client(address: str | None) -> Any:
    """A client connected to a scheduler with workers, or a one-line usage error."""
    from pytest_oscura.errors import OscuraError
    from pytest_oscura.strategies.dask_backend import DaskBackend, connect

    assert address is not None  # Settings.validate checked it
    try:
        client = connect(address)
    except OscuraError as exc:
        raise pytest.UsageError(f"--oscura-strategy dask: {exc}") from None
    try:
        DaskBackend(client).threads()
    except OscuraError as exc:
        client.close()
        raise pytest.UsageError(f"--oscura-strategy dask: {exc}") from None
    return client


def _result_store(config: pytest.Config) -> ResultStore:
    from pytest_oscura.resume import ResultStore

    if config.cache is None:
        raise pytest.UsageError(
            "--oscura-resume stores results in pytest's cache: enable the cacheprovider plugin"
        )
    return ResultStore(config.cache.mkdir("oscura-results"))


class RunHooks:
    """Hooks of every process of a run that checks captures (workers included)."""

    def __init__(self, runtime: Runtime, shard: Shard | None = None) -> None:
        self.runtime = runtime
        self.shard = shard

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        runtime = self.runtime

        def mode(root: CaptureRoot) -> str:
            name = root.baseline_path.name
            if runtime.update_baseline:
                return f"updating the baseline {name}"
            if not root.baseline_path.exists():
                return f"no baseline yet: --oscura-update-baseline records {name}"
            return f"checking against the baseline {name}"

        lines = [f"oscura: {r.display} ({mode(r)})" for r in runtime.roots]
        if self.shard is not None:
            lines.append(
                f"oscura: shard {self.shard}: capture files by a stable hash of their path below "
                "the captures root; the other shards' items are deselected"
            )
        return [*lines, runtime.strategy_header()]

    def pytest_collect_file(
        self, file_path: Path, parent: pytest.Collector
    ) -> pytest.Collector | None:
        from pytest_oscura.captures import format_for
        from pytest_oscura.collect import CaptureFile
        from pytest_oscura.suite import root_of

        root = root_of(self.runtime.roots, file_path)
        if (
            root is None
            or file_path == root.baseline_path
            or root.has_separator(file_path)  # named at the end of the run
        ):
            return None
        capture_format = format_for(file_path)
        if capture_format is None:
            return None
        self.runtime.collected(str(file_path))  # may start the process pool
        return CaptureFile.from_parent(
            parent,
            path=file_path,
            root=root,
            runtime=self.runtime,
            capture_format=capture_format,
        )

    def pytest_ignore_collect(self, collection_path: Path) -> bool | None:
        """Enter a symlinked folder below a captures root only when nothing else reaches it."""
        from pytest_oscura.suite import root_of

        root = root_of(self.runtime.roots, collection_path)
        if (
            root is None
            or collection_path == root.path
            or not collection_path.is_symlink()
            or not collection_path.is_dir()
        ):
            return None
        return True if root.folder_seen(collection_path) is not None else None

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """``--oscura-shard K/N``: deselect the capture items of the other shards' files."""
        if self.shard is None:
            return
        from pytest_oscura.collect import CaptureItem

        kept: list[pytest.Item] = []
        others: list[pytest.Item] = []
        for item in items:
            if isinstance(item, CaptureItem) and not self.shard.holds(item.parent.relative):
                item.stash[OUT_OF_SHARD] = True
                others.append(item)
            else:
                kept.append(item)
        if others:
            config.hook.pytest_deselected(items=others)
            items[:] = kept

    def pytest_collection(self) -> None:
        self.runtime.collecting()  # a process pool asked for by name starts now

    @pytest.hookimpl(tryfirst=True)  # before the terminal reporter asks for the lines below
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.config.option.collectonly or not session.items:
            return
        from pytest_oscura.collect import jobs_in_run_order
        from pytest_oscura.errors import OscuraError

        try:
            self.runtime.start(jobs_in_run_order(session.items))
        except OscuraError as exc:  # the dask strategy's cluster went away since start-up
            raise pytest.UsageError(f"--oscura-strategy {self.runtime.strategy}: {exc}") from None

    def pytest_report_collectionfinish(self) -> list[str]:
        return self.runtime.collection_lines()

    def pytest_sessionfinish(self, exitstatus: int) -> None:
        # Shut the pool down, at once when interrupted (Ctrl-C).
        self.runtime.close(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)


class ControllerHooks:
    """Hooks of the process that gathers results: the xdist controller or a run without xdist."""

    def __init__(self, controller: Controller, runtime: Runtime | None = None) -> None:
        self.controller = controller
        self.runtime = runtime

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        # Items of other shards leave the run whole: the merge of all shards covers them.
        self.controller.deselected += sum(1 for i in items if not i.stash.get(OUT_OF_SHARD, False))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not _xdist.distributes(session.config):
            self.controller.expected_nodeids = {item.nodeid for item in session.items}
        if session.items and not session.config.option.collectonly:
            from pytest_oscura.aggregate import warm_up

            warm_up()  # the summary's imports, while the captures are measured

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if _xdist.is_crash_report(report):
            self.controller.on_crash(report.nodeid, str(report.longrepr or ""))
            return
        self.controller.on_report(
            report.nodeid, report.when, report.outcome, report.user_properties
        )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        controller = self.controller
        norecurse = session.config.getini("norecursedirs")
        if session.config.option.collectonly:  # nothing ran: no summary, report or baseline
            controller.lines.extend(controller.survey_lines(norecurse))
            return
        whole_suite = (
            controller.deselected == 0
            and controller.saw_every_item()
            and selects_whole_suite(session.config, [root.path for root in controller.roots])
        )
        if self.runtime is not None:
            controller.strategy = self.runtime.strategy_summary()
        controller.finish(
            stopped=_stop_reason(session, exitstatus),
            whole_suite=whole_suite,
            norecurse_patterns=norecurse,
        )
        failed = controller.gate_failed or controller.write_failed
        if failed and session.exitstatus == pytest.ExitCode.OK:
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


def _stop_reason(session: pytest.Session, exitstatus: int) -> str | None:
    """Why the run ended before every item ran (``-x``, ``--maxfail``, Ctrl-C), else ``None``.

    Without xdist, ``-x`` sets ``session.shouldfail`` and the run ends normally; under xdist
    the controller stops the workers and the run ends as interrupted (PITFALLS 16).
    """
    reason = session.shouldfail or session.shouldstop or _xdist.stop_reason(session.config)
    if reason:
        hint = " with -x/--maxfail" if session.config.option.maxfail else ""
        return f"the run stopped early{hint} ({reason})"
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        return "the run was interrupted"
    return None


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
