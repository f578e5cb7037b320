"""Command-line options, their ini twins, and the frozen :class:`Settings` read from them."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pytest_oscura.aggregate.config import OUTLIER_METHODS
from pytest_oscura.aggregate.gate import GateSpec, parse_gate
from pytest_oscura.shards import Shard, parse_shard
from pytest_oscura.strategies.choice import AUTO
from pytest_oscura.strategies.choice import CHOICES as STRATEGY_CHOICES

PROGRESS_MODES = ("auto", "tty", "log", "off")


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("oscura", "signal regression testing (pytest-oscura)")
    group.addoption(
        "--oscura-captures",
        action="append",
        dest="oscura_captures",
        default=[],
        metavar="DIR",
        help="Collect every capture file below DIR as test items (repeatable)",
    )
    group.addoption(
        "--oscura-baseline",
        dest="oscura_baseline",
        default=None,
        metavar="PATH",
        help="Baseline file. Default: oscura-baseline.json at the captures root",
    )
    group.addoption(
        "--oscura-update-baseline",
        action="store_true",
        dest="oscura_update_baseline",
        default=False,
        help="Record every collected capture's measurements in the baseline file",
    )
    group.addoption(
        "--oscura-report",
        dest="oscura_report",
        default=None,
        metavar="PATH",
        help="Write a JSON report of every capture's measurements and verdicts to PATH",
    )
    group.addoption(
        "--oscura-html",
        dest="oscura_html",
        default=None,
        metavar="PATH",
        help="Write a self-contained HTML report with plots to PATH: the verdict, the failing, "
        "drifting and outlier captures with their waveforms, each group's distributions",
    )
    group.addoption(
        "--oscura-baseline-waveforms",
        action="store_true",
        dest="oscura_baseline_waveforms",
        default=None,
        help="With --oscura-update-baseline, also store a small min/max envelope of every "
        "accepted capture next to the baseline, which the HTML report draws under tonight's",
    )
    group.addoption(
        "--oscura-progress",
        dest="oscura_progress",
        default=None,
        choices=PROGRESS_MODES,
        help="Progress display: a live line on a terminal (tty), a plain line every "
        "--oscura-progress-interval seconds (log), auto (tty on a terminal outside CI, else log) "
        "or off. Default: auto",
    )
    group.addoption(
        "--oscura-progress-interval",
        dest="oscura_progress_interval",
        default=None,
        type=float,
        metavar="SECONDS",
        help="Seconds between progress lines in log mode. Default: 10",
    )
    group.addoption(
        "--oscura-resume",
        action="store_true",
        dest="oscura_resume",
        default=None,
        help="Reuse measurements stored by earlier runs (in pytest's cache) for captures and "
        "settings that did not change; measure and store the rest",
    )
    group.addoption(
        "--oscura-timeout",
        dest="oscura_timeout",
        default=None,
        type=float,
        metavar="SECONDS",
        help="Fail a capture whose loading and measuring takes longer than SECONDS. The gpu "
        "strategy measures batches: a batch of N captures gets N times SECONDS, and past that its "
        "unfinished captures fail (a stuck device call is abandoned, it cannot be stopped)",
    )
    group.addoption(
        "--oscura-outliers",
        dest="oscura_outliers",
        default=None,
        choices=OUTLIER_METHODS,
        help="Outlier test within tonight's batch, per group and measurement: robust modified "
        "z-score (mad), Tukey fences (iqr), z-score (zscore) or none. Default: mad",
    )
    group.addoption(
        "--oscura-gate",
        dest="oscura_gate",
        default=None,
        metavar="SPEC",
        help="What fails the session beyond item failures: comma-separated outliers, drift, "
        "quality>=PERCENT, or none. Default: none",
    )
    group.addoption(
        "--oscura-strategy",
        dest="oscura_strategy",
        default=None,
        choices=STRATEGY_CHOICES,
        help="How captures are measured: auto, serial, thread, process, gpu or dask (a Dask "
        "cluster, see --oscura-dask-scheduler). Default: auto (serial inside xdist workers; auto "
        "never picks dask)",
    )
    group.addoption(
        "--oscura-workers",
        dest="oscura_workers",
        default=None,
        type=_positive_int,
        metavar="N",
        help="Threads or processes of the thread and process strategies. Default: one per CPU",
    )
    group.addoption(
        "--oscura-shard",
        dest="oscura_shard",
        default=None,
        type=_shard,
        metavar="K/N",
        help="Run shard K of N: capture files are assigned by a stable hash of their path below "
        "the captures root; the others are deselected. Merge the shards' --oscura-report files "
        "with python -m pytest_oscura merge",
    )
    group.addoption(
        "--oscura-dask-scheduler",
        dest="oscura_dask_scheduler",
        default=None,
        metavar="ADDRESS",
        help="Dask scheduler of --oscura-strategy dask, for example tcp://HOST:8786. "
        "Default: $DASK_SCHEDULER_ADDRESS",
    )
    parser.addini(
        "oscura_captures",
        type="paths",
        default=[],
        help="Captures folders, relative to the ini file (like --oscura-captures)",
    )
    parser.addini("oscura_baseline", type="string", default="", help="Like --oscura-baseline")
    parser.addini("oscura_report", type="string", default="", help="Like --oscura-report")
    parser.addini("oscura_html", type="string", default="", help="Like --oscura-html")
    parser.addini(
        "oscura_baseline_waveforms",
        type="bool",
        default=False,
        help="Like --oscura-baseline-waveforms",
    )
    parser.addini("oscura_progress", type="string", default="auto", help="Like --oscura-progress")
    parser.addini(
        "oscura_progress_interval",
        type="string",
        default="10",
        help="Like --oscura-progress-interval",
    )
    parser.addini("oscura_resume", type="bool", default=False, help="Like --oscura-resume")
    parser.addini("oscura_outliers", type="string", default="mad", help="Like --oscura-outliers")
    parser.addini("oscura_gate", type="string", default="none", help="Like --oscura-gate")
    parser.addini("oscura_timeout", type="string", default="", help="Like --oscura-timeout")
    parser.addini("oscura_strategy", type="string", default="", help="Like --oscura-strategy")
    parser.addini("oscura_workers", type="string", default="", help="Like --oscura-workers")
    parser.addini("oscura_shard", type="string", default="", help="Like --oscura-shard")
    parser.addini(
        "oscura_dask_scheduler", type="string", default="", help="Like --oscura-dask-scheduler"
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number of workers")
    return value


def _shard(text: str) -> Shard:
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@dataclass(frozen=True)
class Settings:
    """Resolved options: command line first, then ini, then defaults. Plain values only.

    ``captures`` holds (absolute path, text as written) pairs in the order given.
    """

    captures: tuple[tuple[Path, str], ...]
    baseline: Path | None
    update_baseline: bool
    report: Path | None
    progress: str = "auto"
    progress_interval_s: float = 10.0
    resume: bool = False
    timeout_s: float | None = None
    outliers: str = "mad"
    gate: GateSpec = field(default_factory=GateSpec)
    strategy: str = AUTO
    workers: int | None = None
    html: Path | None = None
    baseline_waveforms: bool = False
    shard: Shard | None = None
    dask_scheduler: str | None = None

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        invocation_dir = config.invocation_params.dir
        given: list[str] = config.getoption("oscura_captures") or []
        if given:
            captures = tuple(((invocation_dir / text).resolve(), text) for text in given)
        else:
            ini_paths: list[Path] = config.getini("oscura_captures")
            root = config.rootpath
            captures = tuple((p.resolve(), _relative(p, root)) for p in ini_paths)
        baseline_text = config.getoption("oscura_baseline") or config.getini("oscura_baseline")
        report_text = config.getoption("oscura_report") or config.getini("oscura_report")
        html_text = config.getoption("oscura_html") or config.getini("oscura_html")
        waveforms = config.getoption("oscura_baseline_waveforms")
        progress = config.getoption("oscura_progress") or config.getini("oscura_progress")
        if progress not in PROGRESS_MODES:
            raise pytest.UsageError(
                f"oscura_progress = {progress!r}: choose one of {', '.join(PROGRESS_MODES)}"
            )
        resume = config.getoption("oscura_resume")
        outliers = config.getoption("oscura_outliers") or config.getini("oscura_outliers")
        if outliers not in OUTLIER_METHODS:
            raise pytest.UsageError(
                f"oscura_outliers = {outliers!r}: choose one of {', '.join(OUTLIER_METHODS)}"
            )
        strategy = config.getoption("oscura_strategy") or config.getini("oscura_strategy") or AUTO
        if strategy not in STRATEGY_CHOICES:
            raise pytest.UsageError(
                f"oscura_strategy = {strategy!r} in the ini file: choose one of "
                + ", ".join(STRATEGY_CHOICES)
            )
        workers: int | None = config.getoption("oscura_workers")
        workers_text = config.getini("oscura_workers")
        if workers is None and workers_text:
            try:
                workers = _positive_int(workers_text)
            except argparse.ArgumentTypeError as exc:
                raise pytest.UsageError(f"oscura_workers in the ini file: {exc}") from None
        shard: Shard | None = config.getoption("oscura_shard")
        shard_text = config.getini("oscura_shard").strip()
        if shard is None and shard_text:
            try:
                shard = parse_shard(shard_text)
            except ValueError as exc:
                raise pytest.UsageError(f"oscura_shard in the ini file: {exc}") from None
        scheduler = (
            config.getoption("oscura_dask_scheduler")
            or config.getini("oscura_dask_scheduler").strip()
            or os.environ.get("DASK_SCHEDULER_ADDRESS", "").strip()
        )
        return cls(
            captures=captures,
            baseline=(invocation_dir / baseline_text).resolve() if baseline_text else None,
            update_baseline=bool(config.getoption("oscura_update_baseline")),
            report=(invocation_dir / report_text).resolve() if report_text else None,
            progress=progress,
            progress_interval_s=_seconds(
                config.getoption("oscura_progress_interval"),
                config.getini("oscura_progress_interval"),
                "--oscura-progress-interval",
            )
            or 10.0,
            resume=bool(config.getini("oscura_resume") if resume is None else resume),
            timeout_s=_seconds(
                config.getoption("oscura_timeout"),
                config.getini("oscura_timeout"),
                "--oscura-timeout",
            ),
            outliers=outliers,
            gate=_gate(config.getoption("oscura_gate") or config.getini("oscura_gate")),
            strategy=strategy,
            workers=workers,
            html=(invocation_dir / html_text).resolve() if html_text else None,
            baseline_waveforms=bool(
                config.getini("oscura_baseline_waveforms") if waveforms is None else waveforms
            ),
            shard=shard,
            dask_scheduler=scheduler or None,
        )

    def validate(self) -> None:
        """Raise ``pytest.UsageError`` with the fix for a bad combination of options."""
        for path, text in self.captures:
            if not path.is_dir():
                raise pytest.UsageError(f"--oscura-captures {text}: no such directory")
        if self.baseline is not None and len(self.captures) > 1:
            raise pytest.UsageError(
                "--oscura-baseline names one file, but several --oscura-captures folders are "
                "given; leave it out so each folder uses its own oscura-baseline.json"
            )
        if self.baseline is not None and self.baseline.is_dir():
            raise pytest.UsageError(f"--oscura-baseline {self.baseline}: is a directory")
        if self.html is not None and self.html.is_dir():
            raise pytest.UsageError(
                f"--oscura-html {self.html}: is a directory; name the file, e.g. "
                f"{self.html / 'oscura-report.html'}"
            )
        if self.html is not None and self.html == self.report:
            raise pytest.UsageError(
                "--oscura-html and --oscura-report name the same file; give each its own"
            )
        if self.shard is not None and self.update_baseline:
            raise pytest.UsageError(
                f"--oscura-update-baseline with --oscura-shard {self.shard} would write only this "
                "shard's part of the baseline: run the shards without it and update from all of "
                "them with: python -m pytest_oscura merge SHARD-REPORTS... --report OUT "
                "--update-baseline"
            )
        if self.strategy == "dask":
            import importlib.util

            if importlib.util.find_spec("distributed") is None:
                raise pytest.UsageError(
                    "--oscura-strategy dask needs Dask distributed: "
                    "pip install 'pytest-oscura[dask]'"
                )
            if not self.dask_scheduler:
                raise pytest.UsageError(
                    "--oscura-strategy dask needs the scheduler's address: "
                    "--oscura-dask-scheduler ADDRESS (ini oscura_dask_scheduler, or "
                    "DASK_SCHEDULER_ADDRESS)"
                )


def _gate(text: str) -> GateSpec:
    try:
        return parse_gate(text)
    except ValueError as exc:
        raise pytest.UsageError(f"--oscura-gate {text!r}: {exc}") from None


def _seconds(option: float | None, ini: str, name: str) -> float | None:
    """A positive number of seconds from the command line, else the ini value, else None."""
    if option is None and not ini.strip():
        return None
    try:
        value = float(option if option is not None else ini)
    except ValueError:
        raise pytest.UsageError(f"{name}: {ini!r} is not a number of seconds") from None
    if not value > 0:
        raise pytest.UsageError(f"{name}: must be a number of seconds > 0, got {value:g}")
    return value


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return str(path)


def selects_whole_suite(config: pytest.Config, roots: list[Path]) -> bool:
    """Whether no option or argument narrowed the run to part of the captures.

    Only such a run may drop baseline entries of captures it did not see.
    """
    for name in ("keyword", "markexpr", "lf", "deselect", "stepwise"):
        if config.getoption(name, None):
            return False
    invocation_dir = config.invocation_params.dir
    for arg in config.args:
        path_text, sep, _ = arg.partition("::")
        if sep:
            return False
        path = (invocation_dir / path_text).resolve()
        if any(root != path and root in path.parents for root in roots):
            return False
    return True


def add_roots_to_args(config: pytest.Config, roots: list[Path]) -> None:
    """Make pytest collect the captures roots.

    Without path arguments (pytest falls back to ``testpaths`` or the current folder), the run
    collects the captures roots only: ``pytest --oscura-captures dir/`` checks captures. With
    path arguments, a root is added unless an argument names it, a folder above it, or a path
    below it: ``pytest dir/a.npz::CH1 --oscura-captures dir`` runs (and updates) that item only
    (PITFALLS 17).
    """
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args[:] = [str(root) for root in roots]
        return
    invocation_dir = config.invocation_params.dir
    given = [(invocation_dir / arg.partition("::")[0]).resolve() for arg in config.args]
    for root in roots:
        if not any(path == root or path in root.parents or root in path.parents for path in given):
            config.args.append(str(root))
