"""The worker's recording rounds (streams/worker/rounds.py): what a round keeps alive."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from projections.stores import ChannelStores
from streams.config import Settings
from streams.kafka.messages import Message
from streams.runners.rebate_closing import close_event
from streams.worker.rounds import RecordingRounds


class Readers(ChannelStores):
    """Stands for the committed state a round reads (it holds the partitions' databases)."""


class Stores:
    def __init__(self) -> None:
        self.read: list[weakref.ref[Readers]] = []

    def readers(self, partitions: Any) -> Readers:
        readers = Readers()
        self.read.append(weakref.ref(readers))
        return readers

    def next_offset(self, source: str) -> int:
        return 0


class Consumer:
    def assignment(self) -> set[Any]:
        return set()


class App:
    consumer = Consumer()


class Recorder:
    def round(self, stores: ChannelStores, *_: Any) -> list[Any]:
        return [close_event("P1", "2026-Q3", datetime(2026, 10, 1, tzinfo=UTC), "auto")]


class Reference:
    def moment(self) -> None:
        return None

    async def caught_up(self, *_: Any) -> bool:
        return True


class Health:
    def recovered(self, job: str) -> None:
        pass

    def failed(self, job: str, exc: BaseException) -> None:
        raise AssertionError(f"the round failed: {exc!r}")


def test_a_round_holds_no_readers_while_it_publishes_the_closes() -> None:
    """Publishing a close waits for the broker, and a rebalance may take partitions away
    and give them back meanwhile: readers still held then kept their databases open, with
    RocksDB's locks, and the worker could not open such a partition again."""
    stores = Stores()
    alive_when_published: list[bool] = []

    async def submit(messages: Sequence[Message]) -> None:
        gc.collect()
        alive_when_published.append(stores.read[0]() is not None)

    rounds = RecordingRounds(
        App(),
        Settings(partitions=4),
        stores,  # type: ignore[arg-type]
        Health(),  # type: ignore[arg-type]
        Recorder(),  # type: ignore[arg-type]
        submit,
        set(),
        lambda: {0, 1},
        Reference(),  # type: ignore[arg-type]
    )
    asyncio.run(rounds.round(asyncio.Lock(), lambda: True))
    assert alive_when_published == [False]
