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


def watch_after(
    monkeypatch: pytest.MonkeyPatch, rebalancing: bool, in_batch: bool
) -> tuple[Consumer, TailWatch]:
    """One look of a tail watch that has seen nothing move for long, a rebalance or a batch
    begun (or not) while it measured the lag: the seeks it asked for, and the watch."""
    tp = TP("sales", 6)
    began = False

    async def lag(*_: Any) -> dict[Any, int]:
        nonlocal began
        began = True  # while the lag was measured
        return {tp: 26}

    monkeypatch.setattr(upkeep, "input_lag", lag)
    monkeypatch.setattr(upkeep, "fetching_state", lambda *_: "active")
    consumer, tails = Consumer(), TailWatch(15.0)
    tails.stalled({"sales:6": (4, 26)}, -100.0)  # applying nothing since long ago
    asyncio.run(
        upkeep.measure_consumer_lag(
            consumer,
            {"sales"},
            cast(Any, Stores()),
            Health(None),
            tails,
            lambda: began and rebalancing,
            lambda: began and in_batch,
        )
    )
    return consumer, tails


def test_the_tail_watch_reads_a_partition_stalled_for_long_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    consumer, _ = watch_after(monkeypatch, rebalancing=False, in_batch=False)
    assert consumer.seeks == [{TP("sales", 6): 4}]


def test_the_tail_watch_rests_once_a_rebalance_began_while_it_measured_the_lag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Measuring the lag can take seconds, and a rebalance begin meanwhile: a partition read
    again then is sought again by faust at the end of its recovery (the re-read undone), and
    the watch would wait as long again before the next. Seen as stalls "paused by faust":
    partitions paused for the rebalance, not stalled."""
    consumer, tails = watch_after(monkeypatch, rebalancing=True, in_batch=False)
    assert consumer.seeks == []
    assert tails.moved is None  # counting again once it is over


def test_the_tail_watch_reads_nothing_again_while_the_agent_is_in_a_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A survivor catching up after a takeover was in one batch for over 20 s: the watch took it
    for a stall and fetched its partitions again, twice, behind that batch (the stalls
    "active, position 30" re-read at the same offset). Its count goes on: a stall that
    outlasts the batch is read again at the next look."""
    consumer, tails = watch_after(monkeypatch, rebalancing=False, in_batch=True)
    assert consumer.seeks == []
    assert tails.moved == -100.0
