"""Reading the retained raw topics from the beginning, for the auditor's replay and verify.

Reference topics (catalog, prices, programs and closes, rates) are read first, whole, then the
movement topics, each partition in order and the partitions merged by broker timestamp
(over the whole phase, not per fetch) — the conditions under which docs/DESIGN.md ("Order
of arrival") says a snapshot does not depend on arrival order. The end offsets are taken
when reading starts, so a busy system gives a well-defined history.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from projections.known_at import is_known
from projections.price_proposal import PriceProposal
from projections.stores import ChannelStores
from schemas.topics import INTERNAL_TOPICS, RAW_TOPICS, REFERENCE_TOPICS, topic_name
from streams.config import Settings
from streams.kafka.io import started
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import BatchResult, Input
from streams.runners.proposed_prices import with_proposal_async
from streams.runners.time_order import OrderKey, broker_order

REFERENCE_PHASE = REFERENCE_TOPICS
#: with the logs of shared caps, keyed like the movements (a grant by distributor) or read
#: whole by whoever replays their ledgers (a request by authorization)
MOVEMENT_PHASE = (
    *(topic for topic in RAW_TOPICS if topic not in REFERENCE_PHASE),
    *INTERNAL_TOPICS,
)

#: (topic, partition) -> the offset reading stops at
EndOffsets = dict[tuple[str, int], int]


async def raw_history(
    settings: Settings,
    distributor: str | None = None,
    ends: EndOffsets | None = None,
    movement_partitions: Collection[int] | None = None,
    known_at: datetime | None = None,
) -> AsyncIterator[Input]:
    """Every raw message up to the current end (or `ends`), reference data first.

    With `distributor`, movement messages of other distributors are left out; with
    `movement_partitions`, the movement topics' other partitions (a replay job's share);
    with `known_at`, those the broker appended after it (projections/known_at.py).
    """
    consumer = await started(_consumer(settings))
    try:
        for phase in (REFERENCE_PHASE, MOVEMENT_PHASE):
            wanted = None if phase is REFERENCE_PHASE else movement_partitions
            async for item in _phase(consumer, settings, phase, ends, wanted):
                if not is_known(item.recorded_at, known_at):
                    continue
                if distributor is None or phase is REFERENCE_PHASE or item.key == distributor:
                    yield item
    finally:
        await consumer.stop()


async def history_ends(settings: Settings) -> EndOffsets:
    """The end offset of every raw topic partition now: where the jobs of one parallel
    replay all stop, so they read one well-defined history."""
    consumer = await started(_consumer(settings))
    try:
        partitions = await _partitions(consumer, settings, (*REFERENCE_PHASE, *MOVEMENT_PHASE))
        if not partitions:
            return {}
        # assigned (paused: nothing is fetched), the client learns every topic's leaders
        # at once; unassigned, `end_offsets` learned them a topic per retry (1.8 s here)
        consumer.assign(partitions)
        consumer.pause(*partitions)
        end = await consumer.end_offsets(partitions)
        return {(tp.topic, tp.partition): offset for tp, offset in end.items()}
    finally:
        await consumer.stop()


def _consumer(settings: Settings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        # aiokafka resets a newly assigned partition's offset concurrently with our seek to
        # the beginning; with "latest" a reset landing last would skip the whole partition
        auto_offset_reset="earliest",
        # as the worker (streams/worker/committed.py): an aborted transaction's records are
        # not read, and the end offsets are the last stable ones
        isolation_level="read_committed",
    )


async def _partitions(
    consumer: AIOKafkaConsumer, settings: Settings, logical: Sequence[str]
) -> list[TopicPartition]:
    cluster = await consumer._client.fetch_all_metadata()
    return [
        TopicPartition(name, p)
        for name in (topic_name(settings.topic_prefix, t) for t in logical)
        for p in sorted(cluster.partitions_for_topic(name) or ())
    ]


async def _phase(
    consumer: AIOKafkaConsumer,
    settings: Settings,
    logical: Sequence[str],
    ends: EndOffsets | None,
    wanted: Collection[int] | None,
) -> AsyncIterator[Input]:
    partitions = [
        tp
        for tp in await _partitions(consumer, settings, logical)
        if wanted is None or tp.partition in wanted
    ]
    if not partitions:
        return
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    if ends is None:
        end = await consumer.end_offsets(partitions)
    else:  # a partition created since the ends were taken is read to nothing
        end = {tp: ends.get((tp.topic, tp.partition), 0) for tp in partitions}
    remaining = {tp for tp in partitions if end[tp] > 0}
    buffered: dict[TopicPartition, deque[Any]] = {tp: deque() for tp in remaining}
    heads: list[tuple[OrderKey, TopicPartition]] = []  # the next record of each
    internal = {topic_name(settings.topic_prefix, t) for t in INTERNAL_TOPICS}

    def push(tp: TopicPartition) -> None:
        record = buffered[tp][0]
        key = broker_order(record.timestamp, tp.topic, tp.partition, record.offset, internal)
        heapq.heappush(heads, (key, tp))

    while remaining:
        # a record is only taken once every partition still being read has one buffered:
        # then the smallest timestamp is the next one of the whole phase, not of a fetch
        empty = [tp for tp in remaining if not buffered[tp]]
        if empty:
            batches = await consumer.getmany(*empty, timeout_ms=1000, max_records=10_000)
            for tp in empty:
                found = [r for r in batches.get(tp, ()) if r.offset < end[tp]]
                buffered[tp].extend(found)
                if found:
                    push(tp)
                elif await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
            continue
        _, tp = heapq.heappop(heads)
        record = buffered[tp].popleft()
        if buffered[tp]:
            push(tp)
        elif record.offset + 1 >= end[tp]:
            remaining.discard(tp)
        key = record.key.decode("utf-8", "replace") if record.key else None
        recorded = datetime.fromtimestamp(record.timestamp / 1000, UTC)  # as the worker saw it
        yield Input(record.value or b"", key, tp.topic, tp.partition, record.offset, recorded)


async def reference_stores(settings: Settings, topics: Sequence[str]) -> ChannelStores:
    """The stores of these reference topics alone (e.g. `programs`: the programs and their
    closes), each read whole as a replay's first phase: what a command judges an input by
    before it publishes it, as a worker will. Only the topics the judgement needs: the
    price topic grows with every price list."""
    consumer = await started(_consumer(settings))
    try:
        inputs = [item async for item in _phase(consumer, settings, topics, None, None)]
    finally:
        await consumer.stop()
    channel = EmbeddedChannel()
    channel.apply(inputs)
    return channel.stores


#: inputs applied at a time by `replay_into`
REPLAY_CHUNK = 5000


async def replay_into(
    channel: EmbeddedChannel,
    settings: Settings,
    until: datetime | None = None,
    distributor: str | None = None,
    on_chunk: Callable[[int], None] | None = None,
    known_at: datetime | None = None,
    proposal: PriceProposal | None = None,
) -> BatchResult:
    """Apply the whole raw history (as `raw_history` reads it; under a proposed price list:
    streams/runners/proposed_prices.py) to an embedded channel, in chunks (`on_chunk(n)`
    after each); the caller records the result once, from the whole history: recorded per
    chunk, a statement would come from the first chunk."""
    channel.follow_cap_logs(settings.topic_prefix)
    whole = BatchResult()
    chunk: list[Input] = []
    history = raw_history(settings, distributor, known_at=known_at)
    async for item in with_proposal_async(history, proposal):
        chunk.append(item)
        if len(chunk) == REPLAY_CHUNK:
            whole.add(channel.apply(chunk, until))
            if on_chunk is not None:
                on_chunk(len(chunk))
            chunk = []
    whole.add(channel.apply(chunk, until))
    if on_chunk is not None:
        on_chunk(len(chunk))
    return whole
