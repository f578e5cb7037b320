"""Option combinations that ``Settings.validate`` refuses, with the fix in the message."""

from __future__ import annotations

import importlib.util

import pytest

from pytest_oscura.options import Settings
from pytest_oscura.shards import Shard


def settings(**fields) -> Settings:
    return Settings(captures=(), baseline=None, update_baseline=False, report=None, **fields)


def test_dask_without_distributed_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name)
    )
    with pytest.raises(pytest.UsageError, match=r"pip install 'pytest-oscura\[dask\]'"):
        settings(strategy="dask", dask_scheduler="tcp://127.0.0.1:8786").validate()


def test_dask_without_an_address_says_where_to_give_one() -> None:
    pytest.importorskip("distributed")
    with pytest.raises(pytest.UsageError, match="--oscura-dask-scheduler ADDRESS"):
        settings(strategy="dask").validate()


def test_a_shard_cannot_update_the_baseline() -> None:
    shard = Settings(
        captures=(), baseline=None, update_baseline=True, report=None, shard=Shard(1, 2)
    )
    with pytest.raises(pytest.UsageError, match=r"merge SHARD-REPORTS\.\.\. --report OUT"):
        shard.validate()
