"""Captures roots: where captures live, their suite config and their baseline. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pytest_oscura.baseline import DEFAULT_FILE_NAME, Baseline, read_baseline
from pytest_oscura.config import SuiteConfig, load_suite_config


@dataclass
class CaptureRoot:
    """One ``--oscura-captures`` folder.

    Attributes:
        path: absolute, resolved folder.
        display: the folder as the user wrote it, for messages and hints.
        suite: its parsed ``oscura.toml``.
        baseline_path: the baseline file used for captures below it.
    """

    path: Path
    display: str
    suite: SuiteConfig
    baseline_path: Path
    _baseline: Baseline | None = field(default=None, repr=False)
    _baseline_read: bool = field(default=False, repr=False)

    @classmethod
    def open(cls, path: Path, display: str, baseline_path: Path | None) -> CaptureRoot:
        resolved = path.resolve()
        return cls(
            path=resolved,
            display=display,
            suite=load_suite_config(resolved),
            baseline_path=(baseline_path or resolved / DEFAULT_FILE_NAME).resolve(),
        )

    @property
    def default_group(self) -> str:
        return self.path.name

    def baseline(self) -> Baseline | None:
        """The baseline, read once per process; ``None`` when the file does not exist yet."""
        if not self._baseline_read:
            self._baseline = read_baseline(self.baseline_path)
            self._baseline_read = True
        return self._baseline

    def contains(self, path: Path) -> bool:
        return path == self.path or self.path in path.parents

    def key(self, path: Path, channel: str) -> str:
        """Baseline key of ``channel`` of capture ``path``: root-relative posix path + channel."""
        return f"{path.relative_to(self.path).as_posix()}::{channel}"


def root_of(roots: list[CaptureRoot], path: Path) -> CaptureRoot | None:
    """The innermost root containing ``path`` (roots may nest)."""
    containing = [root for root in roots if root.contains(path)]
    return max(containing, key=lambda root: len(root.path.parts)) if containing else None
