"""A captures root: its folder, ``oscura.toml``, baseline file and capture files. Pure.

One :class:`CaptureRoot` per ``--oscura-captures`` folder. It knows what lies below it: the
suite config, the baseline (read once per process), which baseline keys no longer name a
capture, and which folders pytest's ``norecursedirs`` keeps it from collecting.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_oscura.baseline import DEFAULT_FILE_NAME, Baseline, read_baseline
from pytest_oscura.config import SuiteConfig, load_suite_config
from pytest_oscura.errors import OscuraError


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

    def is_stale(self, key: str) -> bool:
        """Whether a baseline key names a capture file or channel that no longer exists."""
        from pytest_oscura.captures import format_for, read_header

        relative, _, channel = key.rpartition("::")
        path = self.path / relative
        if not path.is_file() or format_for(path) is None:
            return True
        try:
            header = read_header(path)
        except OscuraError:
            return False  # unreadable now: not proof that the channel is gone
        return all(channel not in ch.item_names() for ch in header.channels)

    def skipped_capture_folders(self, norecurse_patterns: Sequence[str]) -> dict[Path, int]:
        """Folders below the root that pytest's ``norecursedirs`` skips, with their capture count.

        pytest never enters them, so their captures are silently not checked; the run says so.
        """
        from pytest_oscura.captures import format_for

        skipped: dict[Path, int] = {}
        for folder, dirs, _ in os.walk(self.path):
            for name in list(dirs):
                if any(fnmatch.fnmatch(name, pattern) for pattern in norecurse_patterns):
                    dirs.remove(name)
                    top = Path(folder) / name
                    count = sum(
                        1
                        for sub, _, files in os.walk(top)
                        for file in files
                        if format_for(Path(sub) / file) is not None
                    )
                    if count:
                        skipped[top] = count
        return dict(sorted(skipped.items()))


def root_of(roots: Sequence[CaptureRoot], path: Path) -> CaptureRoot | None:
    """The innermost root containing ``path`` (roots may nest)."""
    containing = [root for root in roots if root.contains(path)]
    return max(containing, key=lambda root: len(root.path.parts)) if containing else None


def captures_args(roots: Sequence[CaptureRoot]) -> str:
    """The ``--oscura-captures ...`` arguments of a run, as the user wrote them (for hints)."""
    return " ".join(f"--oscura-captures {root.display}" for root in roots)
