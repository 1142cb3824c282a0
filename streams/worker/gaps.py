"""Offsets of a raw partition that hold nothing to deliver: transaction markers, aborted
transactions' records.

A distributor's transactional producer (docs/INGEST.md, "Producing straight to Kafka") leaves a
commit or abort marker after each transaction: it takes an offset, and no consumer is handed
it; a committed-only reader is not handed an aborted transaction's records either. So a
partition's deliverable offsets are not contiguous, and the worker's gate
(`progress.ContiguousGate`) cannot tell such a gap from input lost on the way to the agent.
The broker can: `GapProbe` reads the gap again, as committed-only as the worker, from its
first offset; the first record handed over is the first deliverable one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.kafka.io import started

#: each offset the gate looks for: source "topic:partition" -> [first, end) it spans
Gaps = Mapping[str, tuple[int, int]]

#: one fetch at a time per partition is enough to see its first record
PROBE_FETCH_BYTES = 64 * 1024
#: fetches a probe makes before it gives up (the gap then counts as input lost: a rewind)
PROBE_FETCHES = 5
PROBE_WAIT_MS = 500


T = TypeVar("T")


def gaps_found(
    rewind: Mapping[str, int],
    batch: Iterable[T],
    source_of: Callable[[T], str],
    offset_of: Callable[[T], int],
) -> dict[str, tuple[int, int]]:
    """Each gap the gate found (`ContiguousGate.admit`: source -> first missing offset):
    from its first missing offset to the batch's first offset beyond it."""
    found: dict[str, tuple[int, int]] = {}
    for item in batch:
        source, offset = source_of(item), offset_of(item)
        first = rewind.get(source)
        if first is not None and offset > first:
            end = found.get(source, (first, offset))[1]
            found[source] = (first, min(end, offset))
    return found


def source_partition(source: str) -> tuple[str, int]:
    """A source's topic and partition ("topic:partition", as the stores name it)."""
    topic, partition = source.rsplit(":", 1)
    return topic, int(partition)


def _tp(source: str) -> TopicPartition:
    return TopicPartition(*source_partition(source))


class GapProbe:
    """A committed-only consumer of no group that tells which gaps hold nothing to deliver."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.consumer: AIOKafkaConsumer | None = None  # made on the event loop, when needed
        self.lock = asyncio.Lock()  # one probe at a time: each seeks the consumer

    async def empty(self, gaps: Gaps) -> set[str]:
        """The sources whose gap [first, end) holds no record a committed-only consumer is
        handed: its first record at or after `first` is at `end` or later."""
        if not gaps:
            return set()
        async with self.lock:
            return await self._empty(gaps)

    async def _empty(self, gaps: Gaps) -> set[str]:
        if self.consumer is None:
            self.consumer = await started(
                AIOKafkaConsumer(
                    bootstrap_servers=self.bootstrap,
                    group_id=None,
                    enable_auto_commit=False,
                    auto_offset_reset="earliest",
                    isolation_level="read_committed",
                    max_partition_fetch_bytes=PROBE_FETCH_BYTES,
                )
            )
        consumer = self.consumer
        partitions = {_tp(source): source for source in gaps}
        if not consumer.assignment() >= partitions.keys():
            consumer.assign(list(consumer.assignment() | partitions.keys()))
        consumer.pause(*(consumer.assignment() - partitions.keys()))
        consumer.resume(*partitions)
        for tp, source in partitions.items():
            consumer.seek(tp, gaps[source][0])
        found: set[str] = set()
        pending = set(partitions)
        for _ in range(PROBE_FETCHES):
            batches = await consumer.getmany(*pending, timeout_ms=PROBE_WAIT_MS)
            for tp in list(pending):
                first, end = gaps[partitions[tp]]
                records = batches.get(tp)
                if records and records[0].offset < first:  # a reset of a new assignment won
                    consumer.seek(tp, first)
                elif records or await consumer.position(tp) >= end:
                    pending.discard(tp)
                    if not records or records[0].offset >= end:
                        found.add(partitions[tp])
            if not pending:
                break
        consumer.pause(*partitions)
        return found

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
