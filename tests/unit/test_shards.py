"""The shard assignment: stable, one shard per file, close to even."""

from __future__ import annotations

from collections import Counter

import pytest

from pytest_oscura.shards import Shard, file_of_key, parse_shard, shard_of


def test_parse_shard() -> None:
    assert parse_shard("2/4") == Shard(2, 4)
    assert parse_shard(" 1/1 ") == Shard(1, 1)
    assert str(Shard(3, 4)) == "3/4"


@pytest.mark.parametrize("text", ["0/4", "5/4", "4", "a/b", "1/0", "-1/3", "", "1/2/3"])
def test_parse_shard_refuses_with_the_form(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a shard: write K/N with 1 <= K <= N"):
        parse_shard(text)


def test_the_hash_is_pinned() -> None:
    # A change here moves files between shards: shards of two versions could not be merged.
    # The values are the first 8 bytes of SHA-256 of the UTF-8 path, big-endian, mod N, plus 1.
    import hashlib

    for path in ("rails/vdd.csv", "clocks/clk_00.npz", "ü/ß.wav"):
        digest = hashlib.sha256(path.encode()).digest()
        assert shard_of(path, 7) == int.from_bytes(digest[:8], "big") % 7 + 1
    assert [shard_of(f"cap_{i:02d}.npy", 4) for i in range(8)] == PINNED


PINNED = [2, 3, 2, 4, 2, 1, 3, 2]


def test_every_file_is_in_exactly_one_shard_and_shards_are_close_to_even() -> None:
    paths = [f"night/{i // 100}/cap_{i:04d}.npy" for i in range(4000)]
    counts = Counter(shard_of(path, 4) for path in paths)
    assert sorted(counts) == [1, 2, 3, 4]
    assert all(900 <= n <= 1100 for n in counts.values()), counts  # ±3.3 sigma of 1000
    for path in paths[:50]:
        assert sum(Shard(k, 4).holds(path) for k in (1, 2, 3, 4)) == 1


def test_all_channels_and_segments_of_a_file_are_in_its_shard() -> None:
    shard = Shard(shard_of("scope/run.trc", 3), 3)
    assert shard.holds_key("scope/run.trc::C1#1")
    assert shard.holds_key("scope/run.trc::C2#7")
    assert file_of_key("a/b.npz::CH1") == "a/b.npz"
    assert file_of_key("odd::name.npz::CH1") == "odd::name.npz"


def test_one_shard_holds_everything() -> None:
    assert all(Shard(1, 1).holds(f"{i}.npy") for i in range(100))
    with pytest.raises(ValueError, match="count=0"):
        shard_of("a.npy", 0)
