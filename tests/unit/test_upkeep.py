"""The worker's background upkeep (streams/worker/upkeep.py)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any, cast

import pytest
from faust.types import TP

from streams import metrics
from streams.health import Health
from streams.worker import upkeep
from streams.worker.progress import TailWatch


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


class Consumer:
    """Stands for faust's consumer: records the seeks the tail watch asks for."""

    def __init__(self) -> None:
        self.seeks: list[dict[Any, int]] = []

    async def seek_wait(self, seeks: dict[Any, int]) -> None:
        self.seeks.append(seeks)


class Stores:
    def next_offset(self, source: str) -> int:
        return 4  # the checkpoint of every partition, 26 behind its end


@pytest.mark.parametrize("began", [False, True])
def test_the_tail_watch_reads_nothing_again_once_a_rebalance_began_while_the_lag_was_measured(
    monkeypatch: pytest.MonkeyPatch, began: bool
) -> None:
    """Measuring the lag can take seconds, and a rebalance begin meanwhile: a partition read
    again then is sought again by faust at the end of its recovery (the re-read undone), and
    the watch would wait as long again before the next. Seen as stalls "paused by faust":
    partitions paused for the rebalance, not stalled."""
    tp = TP("sales", 6)
    rebalancing = False

    async def lag(*_: Any) -> dict[Any, int]:
        nonlocal rebalancing
        rebalancing = began  # while the lag was measured
        return {tp: 26}

    monkeypatch.setattr(upkeep, "input_lag", lag)
    monkeypatch.setattr(upkeep, "fetching_state", lambda *_: "active")
    consumer, tails = Consumer(), TailWatch(15.0)
    tails.stalled({"sales:6": (4, 26)}, -100.0)  # applying nothing since long ago

    asyncio.run(
        upkeep.measure_consumer_lag(
            consumer, {"sales"}, cast(Any, Stores()), Health(None), tails, lambda: rebalancing
        )
    )

    assert consumer.seeks == ([] if began else [{tp: 4}])
    assert (tails.moved is None) == began  # counting again once it is over
