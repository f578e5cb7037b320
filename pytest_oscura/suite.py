"""A captures root: its folder, ``oscura.toml``, baseline file and capture files. Pure.

One :class:`CaptureRoot` per ``--oscura-captures`` folder. It knows what lies below it: the
suite config, the baseline (read once per process), which baseline keys no longer name a
capture, which paths collection leaves out (``::`` in the name, symlinked folders seen twice)
and, walking the root at the end of the run (:meth:`CaptureRoot.survey`), what it did not
collect and why.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_oscura._files import special_file
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

    def shown(self, path: Path) -> str:
        """``path`` for a message: below the root as the user wrote the root, else absolute."""
        if not self.contains(path):
            return str(path)
        relative = path.relative_to(self.path).as_posix()
        return self.display if relative == "." else f"{self.display.rstrip('/')}/{relative}"

    def key(self, path: Path, channel: str) -> str:
        """Baseline key of ``channel`` of capture ``path``: root-relative posix path + channel."""
        return f"{path.relative_to(self.path).as_posix()}::{channel}"

    def is_stale(self, key: str) -> bool:
        """Whether a baseline key names a capture file or channel that no longer exists.

        A key whose path runs through a symlinked folder that collection does not enter (one
        that loops, or whose captures are collected through their real path) is stale too.
        """
        from pytest_oscura.captures import format_for, read_header

        relative, _, channel = key.rpartition("::")
        path = self.path / relative
        if not path.is_file() or format_for(path) is None or not self._reachable(path):
            return True
        try:
            header = read_header(path)
        except OscuraError:
            return False  # unreadable now: not proof that the channel is gone
        return all(channel not in ch.item_names() for ch in header.channels)

    def has_separator(self, path: Path) -> bool:
        """Whether ``path`` has ``::`` below the root: pytest would read it as a node-id part.

        Such a file is not collected (``--lf``, node-id arguments and JUnit would name the wrong
        thing); the end of the run names it.
        """
        try:
            return "::" in path.relative_to(self.path).as_posix()
        except ValueError:
            return False

    def folder_seen(self, path: Path) -> Path | None:
        """The real path of the symlinked folder ``path`` if collection must not enter it.

        pytest follows symlinked folders. One whose real path lies below the root is collected
        there already; one whose real path holds a folder on the way to it is a loop (3 captures
        became 123 items). Either is skipped, so every real folder is walked once. A symlink
        to a folder elsewhere is entered.
        """
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):  # broken, or a loop of links: nothing to walk
            return path
        if self.contains(real):
            return real
        way = [Path(os.path.realpath(folder)) for folder in path.parents if self.contains(folder)]
        if any(real == folder or real in folder.parents for folder in way):
            return real
        return None

    def _reachable(self, path: Path) -> bool:
        """Whether collection reaches ``path``: no symlinked folder on its way is skipped."""
        for folder in reversed(path.parents):
            if (
                folder != self.path
                and self.contains(folder)
                and folder.is_symlink()
                and self.folder_seen(folder) is not None
            ):
                return False
        return True

    def survey(self, norecurse_patterns: Sequence[str]) -> Survey:
        """Walk the root as collection does and note what it did not collect, and why.

        Folders pytest's ``norecursedirs`` skips (with their capture count: pytest never
        enters them, so their captures would go unchecked silently), special files with a
        capture suffix (never opened: a FIFO blocks its reader forever), files with ``::``
        in their path, and symlinked folders walked once.
        """
        from pytest_oscura.captures import all_formats

        suffixes = {
            suffix for capture_format in all_formats() for suffix in capture_format.suffixes
        }
        survey = Survey()
        for folder, dirs, files in os.walk(self.path, followlinks=True):
            here = Path(folder)
            for name in sorted(dirs):
                sub = here / name
                if any(fnmatch.fnmatch(name, pattern) for pattern in norecurse_patterns):
                    dirs.remove(name)
                    count = _capture_count(sub)
                    if count:
                        survey.skipped_folders[sub] = count
                elif sub.is_symlink() and (real := self.folder_seen(sub)) is not None:
                    dirs.remove(name)
                    survey.symlinked_folders.append((sub, real))
            dirs.sort()
            for name in sorted(files):
                path = here / name
                if path.suffix.lower() not in suffixes:
                    continue
                kind = special_file(path)
                if kind is not None:
                    survey.special_files.append((path, kind))
                elif self.has_separator(path):
                    survey.separator_files.append(path)
        survey.skipped_folders = dict(sorted(survey.skipped_folders.items()))
        return survey


@dataclass
class Survey:
    """What :meth:`CaptureRoot.survey` found that collection did not collect.

    Attributes:
        skipped_folders: folder skipped by ``norecursedirs`` → its number of capture files.
        special_files: (path, what it is: ``"a FIFO"``, ...) of special files never opened.
        separator_files: capture files with ``::`` in their path below the root.
        symlinked_folders: (symlinked folder, its real path) not entered a second time.
    """

    skipped_folders: dict[Path, int] = field(default_factory=dict)
    special_files: list[tuple[Path, str]] = field(default_factory=list)
    separator_files: list[Path] = field(default_factory=list)
    symlinked_folders: list[tuple[Path, Path]] = field(default_factory=list)


def _capture_count(top: Path) -> int:
    from pytest_oscura.captures import format_for

    return sum(
        1
        for folder, _, files in os.walk(top)
        for name in files
        if format_for(Path(folder) / name) is not None
    )


def root_of(roots: Sequence[CaptureRoot], path: Path) -> CaptureRoot | None:
    """The innermost root containing ``path`` (roots may nest)."""
    containing = [root for root in roots if root.contains(path)]
    return max(containing, key=lambda root: len(root.path.parts)) if containing else None


def captures_args(roots: Sequence[CaptureRoot]) -> str:
    """The ``--oscura-captures ...`` arguments of a run, as the user wrote them (for hints)."""
    return " ".join(f"--oscura-captures {root.display}" for root in roots)
