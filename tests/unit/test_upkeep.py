"""The worker's background upkeep (streams/worker/upkeep.py)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest

from streams import metrics
from streams.worker import upkeep


class Readers:
    """Stands for the committed state a refresh reads (it holds the partitions' databases)."""


def test_the_gauges_keep_no_readers_between_two_refreshes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Readers kept while the loop waits for the next batch held the databases of
    partitions a rebalance took away meanwhile, and their RocksDB locks: the worker could
    not open such a partition again when it came back."""
    refreshed: list[weakref.ref[Readers]] = []
    monkeypatch.setattr(upkeep, "EVERY_SECONDS", 0.0)
    monkeypatch.setattr(
        metrics, "observe_projections", lambda readers, _: refreshed.append(weakref.ref(readers))
    )

    async def committed() -> Any:
        return Readers()

    async def run() -> Readers | None:
        waiting = asyncio.Event()
        looks = 0

        def steady() -> bool:  # the loop's first look after each wait
            nonlocal looks
            looks += refreshed != []
            if looks == 2:  # went round once since the refresh: waits for a new batch
                waiting.set()
            return True

        task = asyncio.create_task(upkeep.keep_gauges(lambda: 1, steady, committed))
        await waiting.wait()
        gc.collect()
        kept = refreshed[0]()
        task.cancel()
        return kept

    assert asyncio.run(run()) is None
    assert len(refreshed) == 1  # no batch stored since: not refreshed again
