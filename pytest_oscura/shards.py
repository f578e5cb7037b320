"""Which CI shard a capture file belongs to: ``--oscura-shard K/N``. Pure: no pytest import.

A capture file goes to shard :func:`shard_of` of its path below the captures root: the first
eight bytes of the SHA-256 of that posix path (UTF-8), as a big-endian integer, modulo ``N``,
plus one. The assignment depends on nothing but that text and ``N``, so

* every channel and segment of a file is in the same shard (the key's ``::channel`` is cut off);
* the same file is in the same shard on every machine, every night, whatever else is in the
  suite, whichever Python or operating system runs it;
* the merge (:mod:`pytest_oscura.report.merge`) can recompute it from a report's keys and tell
  whether every shard is present and whether a report holds captures of another shard.

Not balanced by file size, on purpose: a size-balanced split moves files between shards when
any file is added, removed or grows, so "the same file in the same shard every night" would
not hold, and every shard would have to list and stat the whole suite before it could start.
With hundreds of files the hash gives each shard close to ``1/N`` of them (a binomial spread:
about ``sqrt(n/N)`` files either way).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based: ``1/4`` … ``4/4``, as a CI matrix counts)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, relative_path: str) -> bool:
        """Whether the capture file at ``relative_path`` (below its captures root) is ours."""
        return shard_of(relative_path, self.count) == self.index

    def holds_key(self, key: str) -> bool:
        """Whether the capture of baseline key ``path::channel`` is ours."""
        return self.holds(file_of_key(key))


def parse_shard(text: str) -> Shard:
    """``"K/N"`` → :class:`Shard`; ``1 <= K <= N``.

    Raises:
        ValueError: with a one-line reason that shows the expected form.
    """
    index_text, sep, count_text = text.strip().partition("/")
    try:
        index, count = int(index_text), int(count_text)
    except ValueError:
        index = count = 0
    if not sep or count < 1 or not 1 <= index <= count:
        raise ValueError(
            f"{text!r} is not a shard: write K/N with 1 <= K <= N, for example 2/4"
        ) from None
    return Shard(index, count)


def shard_of(relative_path: str, count: int) -> int:
    """The shard (1 … ``count``) of the capture file at ``relative_path`` below its root.

    ``relative_path`` is the posix path below the captures root, as in baseline keys
    (``rails/vdd.csv``).
    """
    if count < 1:
        raise ValueError(f"{count=} must be at least 1")
    digest = hashlib.sha256(relative_path.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def file_of_key(key: str) -> str:
    """The capture file part of a baseline key ``path::channel``."""
    return key.rpartition("::")[0] if "::" in key else key
