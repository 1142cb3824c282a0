"""Fetching of topic partitions stopped and started again, in faust's aiokafka consumer.

The worker pauses a partition whose held inputs passed their cap (streams/runners/hold_cap.py)
in the aiokafka consumer itself, not with faust's `pause_partitions`: faust's flow control
(its stream buffer's `on_buffer_drop`, the end of a recovery) makes partitions active again
by its own account, and a record faust fetched for a partition it no longer counts active
is dropped, a gap the gate then reads again. aiokafka's pause stops the fetches and keeps
what it fetched but did not hand over for the resume (read again from its position), and
every assignment starts unpaused: after a rebalance nothing stays paused. faust's pauses
and these stop a partition each on their own.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from aiokafka.structs import TopicPartition

from streams.runners.time_order import Source


@dataclass
class FetchPauses:
    """The worker's pauses of fetching, and when it resumed each partition: until its next
    fetch, a partition resumed has no horizon (its last fetch is from before the pause)."""

    #: the faust app (its consumer is made once the worker starts)
    app: Any
    #: source -> when its fetching was last resumed (ms since the epoch, as a fetch's time)
    resumed: dict[Source, float] = field(default_factory=dict)

    def paused(self) -> set[Source]:
        """The partitions whose fetching is paused (read from the event loop, as faust's
        own `highwater` reads the fetch state)."""
        assignment = _assignment(self.app.consumer)
        if assignment is None:
            return set()
        return {
            (tp.topic, tp.partition) for tp in assignment.tps if assignment.state_value(tp).paused
        }

    def unfetched(self, source: Source, polled: float) -> bool:
        """Whether the source was resumed after its last fetch (at `polled`, ms)."""
        since = self.resumed.get(source)
        if since is not None and polled >= since:
            del self.resumed[source]
            since = None
        return since is not None

    def forget(self) -> None:
        """A rebalance: the new assignment starts unpaused."""
        self.resumed.clear()

    async def change(self, pause: Collection[Source], resume: Collection[Source]) -> int:
        """Pause and resume fetching partitions of the assignment seen now, on the
        consumer's own thread (its fetcher runs there); a rebalance since leaves the new
        assignment as is. Returns how many partitions it paused (none after a rebalance)."""
        if not pause and not resume:
            return 0
        consumer = self.app.consumer
        seen = _assignment(consumer)

        async def apply() -> int:
            if seen is None or _assignment(consumer) is not seen:
                return 0
            kafka = consumer._thread._ensure_consumer()
            paused = [tp for tp in map(_tp, pause) if tp in seen.tps]
            kafka.pause(*paused)
            kafka.resume(*(tp for tp in map(_tp, resume) if tp in seen.tps))
            return len(paused)

        # before: a partition paused is in no fetch, so none answered after this missed it
        at = time.time() * 1000
        paused: int = await consumer._thread.call_thread(apply)
        self.resumed.update((source, at) for source in resume)
        return paused


def _assignment(consumer: Any) -> Any:
    """The aiokafka consumer's assignment now (None during a rebalance): its partitions and
    their states stay as they are; a rebalance makes another."""
    subscription = consumer._thread._ensure_consumer()._subscription.subscription
    return None if subscription is None else subscription.assignment


def _tp(source: Source) -> TopicPartition:
    return TopicPartition(*source)
