"""The worker's pauses of fetching in faust's aiokafka consumer (streams/worker/fetch_pause.py),
on aiokafka's own assignment state."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

from aiokafka.consumer.subscription_state import Assignment
from aiokafka.structs import TopicPartition

from streams.worker.fetch_pause import FetchPauses

A, B = ("t.sales", 0), ("t.inventory", 0)


class Thread:
    """faust's consumer thread: its aiokafka consumer, and calls run on it; `before` runs
    first (a rebalance on the consumer's thread, say)."""

    def __init__(self, *sources: tuple[str, int]) -> None:
        self.subscription = SimpleNamespace(
            assignment=Assignment({TopicPartition(*s) for s in sources})
        )
        self.before: Callable[[], None] = lambda: None

    def _ensure_consumer(self) -> Any:
        assignment = self.subscription.assignment
        return SimpleNamespace(
            _subscription=SimpleNamespace(subscription=self.subscription),
            pause=lambda *tps: [assignment.state_value(tp).pause() for tp in tps],
            resume=lambda *tps: [assignment.state_value(tp).resume() for tp in tps],
        )

    async def call_thread(self, fun: Callable[[], Awaitable[int]]) -> int:
        self.before()
        return await fun()


def test_a_partition_paused_then_resumed_counts_unfetched_until_its_next_fetch() -> None:
    async def run() -> None:
        thread = Thread(A, B)
        pauses = FetchPauses(SimpleNamespace(consumer=SimpleNamespace(_thread=thread)))
        assert await pauses.change([A], []) == 1
        assert pauses.paused() == {A}
        assert await pauses.change([], [A]) == 0
        assert pauses.paused() == set()
        resumed = pauses.resumed[A]
        assert pauses.unfetched(A, resumed - 1) and not pauses.unfetched(B, 0)
        assert not pauses.unfetched(A, resumed) and A not in pauses.resumed

    asyncio.run(run())


def test_a_pause_decided_before_a_rebalance_leaves_the_new_assignment_unpaused() -> None:
    async def run() -> None:
        thread = Thread(A, B)
        pauses = FetchPauses(SimpleNamespace(consumer=SimpleNamespace(_thread=thread)))

        def rebalance() -> None:
            thread.subscription.assignment = Assignment({TopicPartition(*A)})

        thread.before = rebalance
        assert await pauses.change([A], []) == 0, "a cancelled pause is not counted"
        assert pauses.paused() == set()

    asyncio.run(run())
